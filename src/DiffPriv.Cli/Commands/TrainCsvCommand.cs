using System.CommandLine;
using System.Globalization;
using DiffPriv.Cli.Rendering;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Tabular;

namespace DiffPriv.Cli.Commands;

/// <summary>
/// <c>diffpriv train csv --data FILE --target COLUMN</c>: a classifier on the user's own table (CSV or ARFF) with DP-SGD; the
/// preprocessing is declared public in <c>--schema</c> or computed with DP and charged to the same ε. Malformed input exits 2
/// with one line naming the file and line.
/// </summary>
internal static class TrainCsvCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var d = new TabularTrainSettings { DataFile = "", TargetColumn = "" };
        var data = new Option<string>("--data") { HelpName = "FILE", Description = "The training table: RFC 4180 CSV with a header line, or WEKA ARFF (by the extension .arff or a first line starting with % or @relation)." };
        var target = new Option<string>("--target") { HelpName = "COLUMN", Description = "The column holding the class (required, like --data, unless --resume is given)." };
        var test = new Option<string?>("--test") { HelpName = "FILE", Description = "A test table with the same columns (default: hold out --test-fraction of --data)." };
        var testFraction = new Option<double?>("--test-fraction") { HelpName = "F", Description = $"Share of --data held out for testing by a seeded split, in (0, 1) (default {Format(d.TestFraction)}); not with --test." };
        var epsilon = new Option<double?>("--target-epsilon") { Description = $"ε of the whole run, preprocessing included, at --delta; DP-SGD's σ is calibrated for it (default {Format(TabularTrainSettings.DefaultTargetEpsilon)}). Excludes --noise-multiplier." };
        var noise = new Option<double?>("--noise-multiplier", "-s") { Description = "A fixed DP-SGD noise multiplier σ > 0 instead of a target ε (the total ε is reported). Excludes --target-epsilon." };
        var delta = new Option<double?>("--delta") { Description = $"δ in (0, 1) (default {PrivacyStatement.Delta(d.Delta)})." };
        var schema = new Option<string?>("--schema")
        {
            HelpName = "FILE.json",
            Description = "Public facts about the columns: types, numeric ranges, categories, the target's classes, the missing-value markers (see docs/tabular.md). " +
                "Whatever it leaves open is computed with DP and charged to the run's ε.",
        };
        var preprocessing = new Option<double?>("--preprocessing-epsilon")
        {
            Description = $"ε the preprocessing may spend on what the schema leaves open (default {100 * TabularTrainSettings.DefaultPreprocessingShare}% of the target ε); part of the total, not added to it.",
        };
        var model = new Option<string?>("--model") { Description = $"logistic or mlp (default: logistic below {TabularTrainSettings.MlpFromRows} training rows, else mlp)." };
        var epochs = new Option<double?>("--epochs") { Description = $"Epochs > 0; steps = ceil(epochs·N/B) (default {Format(TabularTrainSettings.DefaultEpochs)})." };
        var batch = new Option<int?>("--batch-size", "-b") { Description = "Expected batch size B of Poisson sampling, 1 ≤ B ≤ N (default about 8·√N, in [16, 1024])." };
        var lr = new Option<double?>("--learning-rate", "--lr") { Description = $"Adam's learning rate > 0 (default {Format(TabularTrainSettings.DefaultLearningRate(TabularModelKind.Logistic))} for logistic, {Format(TabularTrainSettings.DefaultLearningRate(TabularModelKind.Mlp))} for mlp)." };
        var clip = new Option<double?>("--max-grad-norm", "-c") { Description = $"Clipping norm C > 0 (default {Format(d.MaxGradNorm)})." };
        var seed = new Option<long?>("--seed") { Description = "Seeds the split, initialisation, sampling and all noise: reproducible, for experiments only (the noise is then not secret). Without it, noise is secure." };
        var outDir = new Option<string?>("--out", "-o") { Description = "Run folder (default runs/csv-<timestamp>)." };
        var json = new Option<bool>("--json") { Description = "The last line of stdout is one JSON object with the results; progress goes to stderr." };
        var command = new Command(
            "csv",
            "Train a classifier on your own table (CSV or ARFF; numeric and categorical columns, missing values) with DP-SGD. Ranges, categories " +
            "and classes come from --schema or are computed with DP; the reported ε includes that preprocessing.");
        foreach (var option in new Option[] { data, target, test, testFraction, epsilon, noise, delta, schema, preprocessing, model, epochs, batch, lr, clip, seed, outDir, json })
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
                    ProgressRenderer.Run(!asJson && ProgressRenderer.IsInteractive(stdout), asJson ? stderr : stdout, stderr, p => TabularTrainRunner.Resume(resumeDir, p))), asJson);
            }

            ResumeOptions.Require(result, data, target);
            if (result.GetValue(test) is not null && result.GetValue(testFraction) is not null)
            {
                throw new UsageException("give either --test or --test-fraction, not both");
            }

            var modelText = result.GetValue(model);
            var settings = d with
            {
                DataFile = result.GetValue(data)!,
                TargetColumn = result.GetValue(target)!,
                TestFile = result.GetValue(test),
                TestFraction = result.GetValue(testFraction) ?? d.TestFraction,
                TargetEpsilon = result.GetValue(epsilon),
                NoiseMultiplier = result.GetValue(noise),
                Delta = result.GetValue(delta) ?? d.Delta,
                SchemaFile = result.GetValue(schema),
                PreprocessingEpsilon = result.GetValue(preprocessing),
                Model = modelText?.ToLowerInvariant() switch
                {
                    null => null,
                    "logistic" => TabularModelKind.Logistic,
                    "mlp" => TabularModelKind.Mlp,
                    _ => throw new UsageException($"--model must be logistic or mlp (got '{modelText}')"),
                },
                Epochs = result.GetValue(epochs),
                BatchSize = result.GetValue(batch),
                LearningRate = result.GetValue(lr),
                MaxGradNorm = result.GetValue(clip) ?? d.MaxGradNorm,
                Seed = result.GetValue(seed),
                OutDir = result.GetValue(outDir),
                CommandLine = TrainCommand.CommandLineOf(result),
                CheckpointEvery = resume.Every(result),
            };
            // The runner reads and checks every file before anything is trained: bad input fails fast, with its line.
            return Report(UsageException.RunOnFiles(settings.Validate, [settings.DataFile, settings.TestFile, settings.SchemaFile], () =>
                ProgressRenderer.Run(!asJson && ProgressRenderer.IsInteractive(stdout), asJson ? stderr : stdout, stderr, p => TabularTrainRunner.Run(settings, p))), asJson);
        });
        return command;

        int Report(TabularTrainResult run, bool asJson)
        {
            var settings = run.Settings;
            var log = asJson ? stderr : stdout;
            var inv = CultureInfo.InvariantCulture;
            log.WriteLine();
            log.WriteLine($"Test accuracy: {(100 * run.TestAccuracy).ToString("F2", inv)}% ({run.TestExamples} test rows; the most frequent class {(100 * run.MajorityBaseline).ToString("F2", inv)}%), " +
                $"ε = {run.Epsilon.ToString("F3", inv)} at δ = {PrivacyStatement.Delta(settings.Delta)} in total (preprocessing alone {run.PreprocessingEpsilon.ToString("F3", inv)}), " +
                $"{run.Model.ToString().ToLowerInvariant()} on {run.Features} features, {run.Steps} steps, {run.WallSeconds.ToString("F1", inv)} s");
            log.WriteLine($"Run folder: {run.RunDir} (report.md, metrics.json, schema.json, model.bin, command.txt, settings.json)");
            if (asJson)
            {
                stdout.WriteLine(TabularTrainRunner.SummaryJson(run).ToJsonString());
            }

            return CliApp.ExitOk;
        }
    }

    private static string Format(double value) => AccountingOptions.Format(value);
}
