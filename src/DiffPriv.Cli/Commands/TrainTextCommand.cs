using System.CommandLine;
using System.Globalization;
using DiffPriv.Cli.Rendering;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.TextClassification;

namespace DiffPriv.Cli.Commands;

/// <summary>
/// <c>diffpriv train text --data FILE.csv --text-column C --target L</c>: a text classifier on the user's own labelled CSV,
/// fine-tuned with DP-SGD from the public pretrained model (LoRA by default). Malformed input exits 2 naming the file and line.
/// </summary>
internal static class TrainTextCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var d = new TextTrainSettings { DataFile = "", TextColumn = "", TargetColumn = "" };
        var h = d.Hyperparameters;
        var data = new Option<string>("--data") { HelpName = "FILE.csv", Description = "The training table: RFC 4180 CSV with a header line (quoted fields may hold commas, doubled quotes and line breaks); required, like --text-column and --target, unless --resume is given." };
        var textColumn = new Option<string>("--text-column") { HelpName = "C", Description = "The header name of the column holding the text." };
        var target = new Option<string>("--target") { HelpName = "L", Description = "The header name of the column holding the label." };
        var labels = new Option<string?>("--labels")
        {
            HelpName = "A,B,…",
            Description = "The label set, comma-separated, in class order. Without it the labels are read from the training file and treated as public (the report says so).",
        };
        var test = new Option<string?>("--test") { HelpName = "FILE.csv", Description = "A test table with the same columns (default: hold out --test-fraction of --data)." };
        var testFraction = new Option<double?>("--test-fraction") { HelpName = "F", Description = $"Share of --data held out for testing by a seeded split, in (0, 1) (default {Format(d.TestFraction)}); not with --test." };
        var epsilon = new Option<double?>("--target-epsilon") { Description = $"ε of the whole run at --delta; σ is calibrated for it (default {Format(d.TargetEpsilon)})." };
        var delta = new Option<double?>("--delta") { Description = $"δ in (0, 1) (default {PrivacyStatement.Delta(d.Delta)})." };
        var full = new Option<bool>("--full-fine-tuning") { Description = "Fine-tune all weights privately instead of LoRA adapters and the head (more noised parameters)." };
        var epochs = new Option<double?>("--epochs") { Description = $"Epochs > 0; steps = ceil(epochs·N/B) (default {Format(h.Epochs)})." };
        var batch = new Option<int?>("--batch-size", "-b") { Description = $"Expected batch size B of Poisson sampling, 1 ≤ B ≤ N (default {h.BatchSize})." };
        var lr = new Option<double?>("--learning-rate", "--lr") { Description = $"Adam's learning rate > 0 (default {Format(h.LearningRate)})." };
        var clip = new Option<double?>("--max-grad-norm", "-c") { Description = $"Clipping norm C > 0 (default {Format(h.MaxGradNorm)})." };
        var rank = new Option<int?>("--lora-rank") { Description = $"Rank of the LoRA adapters ≥ 1 (default {h.LoraRank})." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = $"Tokens read per text: the first and last halves of a longer one (default {d.MaxTokens}, at most the pretrained length)." };
        var seed = new Option<long?>("--seed") { Description = "Seeds the split, initialisation, sampling and noise: reproducible, for experiments only (the noise is then not secret). Without it, noise is secure." };
        var outDir = new Option<string?>("--out", "-o") { Description = "Run folder (default runs/text-<timestamp>)." };
        var json = new Option<bool>("--json") { Description = "The last line of stdout is one JSON object with the results; progress goes to stderr." };
        var command = new Command(
            "text",
            "Train a text classifier on your own labelled CSV with DP-SGD, fine-tuning a small transformer pretrained on public English " +
            "(LoRA by default); report held-out accuracy, ε and the trained parameters.");
        foreach (var option in new Option[] { data, textColumn, target, labels, test, testFraction, epsilon, delta, full, epochs, batch, lr, clip, rank, maxTokens, seed, outDir, json })
        {
            command.Options.Add(option);
        }

        var resume = new ResumeOptions();
        resume.AddTo(command);
        command.SetAction(result =>
        {
            var asJson = result.GetValue(json);
            if (resume.Folder(result, json) is { } resumeDir)
            {
                // The settings and the files come from the folder; its refusals (a finished run, another command's, changed data) exit 2.
                return Report(UsageException.RunOnFiles(() => { }, [], () =>
                    ProgressRenderer.Run(!asJson && ProgressRenderer.IsInteractive(stdout), asJson ? stderr : stdout, stderr, p => TextTrainRunner.Resume(resumeDir, p))), asJson);
            }

            ResumeOptions.Require(result, data, textColumn, target);
            if (result.GetValue(test) is not null && result.GetValue(testFraction) is not null)
            {
                throw new UsageException("give either --test or --test-fraction, not both");
            }

            var hp = h;
            hp = result.GetValue(epochs) is { } ep ? hp with { Epochs = ep } : hp;
            hp = result.GetValue(batch) is { } b ? hp with { BatchSize = b } : hp;
            hp = result.GetValue(lr) is { } rate ? hp with { LearningRate = rate } : hp;
            hp = result.GetValue(clip) is { } c ? hp with { MaxGradNorm = c } : hp;
            hp = result.GetValue(rank) is { } r ? hp with { LoraRank = r } : hp;
            var settings = d with
            {
                DataFile = result.GetValue(data)!,
                TextColumn = result.GetValue(textColumn)!,
                TargetColumn = result.GetValue(target)!,
                Labels = result.GetValue(labels) is { } list ? [.. list.Split(',', StringSplitOptions.TrimEntries)] : null,
                TestFile = result.GetValue(test),
                TestFraction = result.GetValue(testFraction) ?? d.TestFraction,
                TargetEpsilon = result.GetValue(epsilon) ?? d.TargetEpsilon,
                Delta = result.GetValue(delta) ?? d.Delta,
                FullFineTuning = result.GetValue(full),
                Hyperparameters = hp,
                MaxTokens = result.GetValue(maxTokens) ?? d.MaxTokens,
                Seed = result.GetValue(seed),
                OutDir = result.GetValue(outDir),
                CommandLine = TrainCommand.CommandLineOf(result),
                CheckpointEvery = resume.Every(result),
            };
            // The runner reads and checks the CSV files before it loads the model: bad input fails fast, with its line.
            return Report(UsageException.RunOnFiles(settings.Validate, [settings.DataFile, settings.TestFile], () =>
                ProgressRenderer.Run(!asJson && ProgressRenderer.IsInteractive(stdout), asJson ? stderr : stdout, stderr, p => TextTrainRunner.Run(settings, p))), asJson);
        });
        return command;

        int Report(TextTrainResult run, bool asJson)
        {
            var settings = run.Settings;
            var log = asJson ? stderr : stdout;
            var inv = CultureInfo.InvariantCulture;
            log.WriteLine();
            log.WriteLine($"Test accuracy: {(100 * run.TestAccuracy).ToString("F2", inv)}% ({run.TestExamples} held-out examples; majority label {(100 * run.MajorityAccuracy).ToString("F2", inv)}%), " +
                $"ε = {run.Epsilon.ToString("F3", inv)} at δ = {PrivacyStatement.Delta(settings.Delta)}, {run.TrainableParameters} trained parameters, {run.Steps} steps, {run.WallSeconds.ToString("F1", inv)} s");
            log.WriteLine($"Run folder: {run.RunDir} (report.md, metrics.json, model.bin, labels.txt, command.txt, settings.json)");
            if (asJson)
            {
                stdout.WriteLine(TextTrainRunner.SummaryJson(run).ToJsonString());
            }

            return CliApp.ExitOk;
        }
    }

    private static string Format(double value) => AccountingOptions.Format(value);
}
