using System.CommandLine;
using DiffPriv.Cli.Rendering;
using DiffPriv.Experiments.Models;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.SecretSharer;
using DiffPriv.Experiments.TextClassification;
using DiffPriv.Experiments.UserLevel;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv experiment secret-sharer</c>: private vs non-private character language model with canaries;
/// <c>diffpriv experiment text-classification</c>: IMDB sentiment, non-private and private, from scratch and fine-tuned;
/// <c>diffpriv experiment user-level</c>: MovieLens rating prediction with the user as the privacy unit.</summary>
internal static class ExperimentCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("experiment", "Reproducible experiments that show what differential privacy does to a model.");
        command.Options.Add(DeviceOptions.CpuOnly("experiments"));
        command.Subcommands.Add(SecretSharer(stdout, stderr));
        command.Subcommands.Add(TextClassification(stdout, stderr));
        command.Subcommands.Add(UserLevel(stdout, stderr));
        return command;
    }

    private static Command UserLevel(TextWriter stdout, TextWriter stderr)
    {
        var full = UserLevelSettings.Full;
        var quick = UserLevelSettings.Quick;
        var o = new ExperimentOptions<RatingTrainingMode>(
            $"ε of every private setting at --delta, per its privacy unit (per user for user-level, per rating for example-level); σ is calibrated for it (default {Format(full.TargetEpsilon)}).",
            full.Delta,
            $"Under a minute: a seeded subset of {quick.Users} users and fewer epochs.",
            RatingTrainingModes.All,
            m => m.Name(),
            "Seeds the split, the user subset, the initial weights and the non-private batches (default 1); the noise stays secure unless --seeded-noise.",
            "Seed the DP noise and sampling too: reproducible and NOT secret, for experiments only.",
            "user-level");
        var command = new Command(
            "user-level",
            "MovieLens rating prediction with the user as the privacy unit: non-private, user-level DP-SGD (ε per user) and example-level DP-SGD " +
            "(ε per rating, with its group-privacy bound per user); report test RMSE and ε per unit.");
        o.AddTo(command);
        var resume = new ResumeOptions();
        resume.AddTo(command);

        command.SetAction(result =>
        {
            var asJson = result.GetValue(o.Json);
            var log = asJson ? stderr : stdout;
            UserLevelResult outcome;
            if (resume.Folder(result, o.Json) is { } resumeDir)
            {
                // The settings come from the folder.
                outcome = ResumeOptions.Refusing(() => UserLevelExperiment.Resume(resumeDir, new LineProgress(log, stderr)));
            }
            else
            {
                var s = result.GetValue(o.Quick) ? quick : full;
                s = s with
                {
                    TargetEpsilon = o.ReadEpsilon(result) ?? s.TargetEpsilon,
                    Delta = o.ReadDelta(result) ?? s.Delta,
                    Modes = o.ReadModes(result) ?? s.Modes,
                    Seed = result.GetValue(o.Seed) ?? s.Seed,
                    SeededNoise = result.GetValue(o.SeededNoise),
                    OutDir = result.GetValue(o.OutDir),
                    CheckpointEvery = resume.Every(result),
                    CommandLine = ExperimentOptions<RatingTrainingMode>.CommandLine(result),
                };
                outcome = UserLevelExperiment.Run(s, new LineProgress(log, stderr));
            }

            var inv = System.Globalization.CultureInfo.InvariantCulture;
            foreach (var o in outcome.Outcomes)
            {
                log.WriteLine(
                    $"{o.Mode.Name(),-14} privacy unit: {o.PrivacyUnit,-8} test RMSE {o.TestRmse.ToString("F4", inv)}  " +
                    $"ε {(o.Mode.IsPrivate() ? $"{Format(o.Epsilon)} per {o.PrivacyUnit}" : "∞")}  {o.WallSeconds.ToString("F0", inv)} s");
                foreach (var b in o.GroupBounds)
                {
                    log.WriteLine(
                        $"{"",-14} {b.User} ({b.Examples} ratings): group bound ε = {Format(b.ClassicEpsilon)} with δ = 10^{b.ClassicLog10Delta.ToString("F1", inv)}; " +
                        $"RDP bound ε = {UserLevelReport.FormatEpsilon(b.AccountantEpsilon)} at δ = {PrivacyStatement.Delta(outcome.Settings.Delta)}");
                }
            }

            log.WriteLine($"Run folder: {outcome.RunDir} (report.md, results.json, command.txt)");
            if (asJson)
            {
                stdout.WriteLine(UserLevelReport.SummaryJson(outcome).ToJsonString());
            }

            return CliApp.ExitOk;
        });
        return command;
    }

    private static Command TextClassification(TextWriter stdout, TextWriter stderr)
    {
        var full = TextClassificationSettings.Full;
        var quick = TextClassificationSettings.Quick;
        var o = new ExperimentOptions<TextTrainingMode>(
            $"ε of every private setting at --delta; σ is calibrated for it (default {Format(full.TargetEpsilon)}).",
            full.Delta,
            $"A few minutes: {quick.TrainReviews} training and {quick.TestReviews} test reviews, expected batch {quick.DpLora.BatchSize}.",
            TextTrainingModes.All,
            m => m.Name(),
            "Seeds the subsets, initial weights and batches (default 1); the noise stays secure unless --seeded-noise.",
            "Seed the DP noise too: reproducible and NOT secret, for experiments only.",
            "text-classification");
        var command = new Command(
            "text-classification",
            "IMDB sentiment with a small transformer pretrained on public English: non-private fine-tuning, and DP-SGD from scratch, " +
            "fine-tuning all weights, and fine-tuning LoRA adapters; report accuracy, ε and trainable parameters.");
        o.AddTo(command);
        var resume = new ResumeOptions();
        resume.AddTo(command);

        command.SetAction(result =>
        {
            var asJson = result.GetValue(o.Json);
            var log = asJson ? stderr : stdout;
            TextClassificationResult outcome;
            if (resume.Folder(result, o.Json) is { } resumeDir)
            {
                // The settings come from the folder.
                outcome = ResumeOptions.Refusing(() => TextClassificationExperiment.Resume(resumeDir, new LineProgress(log, stderr)));
            }
            else
            {
                var s = result.GetValue(o.Quick) ? quick : full;
                s = s with
                {
                    TargetEpsilon = o.ReadEpsilon(result) ?? s.TargetEpsilon,
                    Delta = o.ReadDelta(result) ?? s.Delta,
                    Modes = o.ReadModes(result) ?? s.Modes,
                    Seed = result.GetValue(o.Seed) ?? s.Seed,
                    SeededNoise = result.GetValue(o.SeededNoise),
                    OutDir = result.GetValue(o.OutDir),
                    CheckpointEvery = resume.Every(result),
                    CommandLine = ExperimentOptions<TextTrainingMode>.CommandLine(result),
                };
                outcome = TextClassificationExperiment.Run(s, new LineProgress(log, stderr));
            }

            foreach (var o in outcome.Outcomes)
            {
                log.WriteLine(
                    $"{o.Mode.Name(),-12} test accuracy {(100 * o.TestAccuracy).ToString("F2", System.Globalization.CultureInfo.InvariantCulture)}%  " +
                    $"ε {(o.Mode.IsPrivate() ? Format(o.Epsilon) : "∞")}  trainable parameters {o.TrainableParameters}  {o.WallSeconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)} s");
            }

            log.WriteLine($"Run folder: {outcome.RunDir} (report.md, results.json, accuracy-vs-epsilon.png, command.txt)");
            if (asJson)
            {
                stdout.WriteLine(TextClassificationReport.SummaryJson(outcome).ToJsonString());
            }

            return CliApp.ExitOk;
        });
        return command;
    }

    private static Command SecretSharer(TextWriter stdout, TextWriter stderr)
    {
        var full = SecretSharerSettings.Full;
        var quick = SecretSharerSettings.Quick;
        var epsilon = new Option<double?>("--epsilon", "--target-epsilon") { Description = $"ε of the private model at --delta; σ is calibrated for it (default {Format(full.TargetEpsilon)})." };
        var delta = new Option<double?>("--delta") { Description = $"δ in (0, 1) (default {PrivacyStatement.Delta(full.Delta)})." };
        var isQuick = new Option<bool>("--quick") { Description = $"A few minutes instead of tens: {quick.TrainSequences} training sequences, {quick.References} references, {quick.CanariesPerRepetition} canaries per r, {quick.PrivateEpochs} epochs." };
        var trainSequences = new Option<int?>("--train-sequences") { Description = "Train on a seeded random subset of this many sequences (default: all; the quick run's subset with --quick)." };
        var testSequences = new Option<int?>("--test-sequences") { Description = "Evaluate on a seeded random subset of this many test sequences (default: all)." };
        var epochs = new Option<int?>("--epochs") { Description = $"Epochs of both models (default {full.NonPrivateEpochs} non-private and {full.PrivateEpochs} private; {quick.PrivateEpochs} each with --quick)." };
        var references = new Option<int?>("--references") { Description = $"Reference candidates per canary format, ≥ 3 (default {full.References}; {quick.References} with --quick)." };
        var canaries = new Option<int?>("--canaries-per-repetition") { Description = $"Canaries per repetition count r, ≥ 1 (default {full.CanariesPerRepetition})." };
        var hidden = new Option<int?>("--hidden-size") { Description = $"LSTM hidden units, ≥ 1 (default {full.HiddenSize})." };
        var batch = new Option<int?>("--batch-size") { Description = $"Expected batch size of the private model (default {full.PrivateBatchSize})." };
        var pretrain = new Option<int?>("--pretrain-epochs")
        {
            Description = $"Epochs of non-private pretraining of both models on public text, the Brown corpus (all 15 genres), before the " +
                $"Reuters data (default {full.PretrainingEpochs}; {quick.PretrainingEpochs} on {quick.PretrainingSequences} sequences with --quick; 0: none).",
        };
        var pretrained = new Option<string?>("--pretrained")
        {
            HelpName = "FILE",
            Description = $"Start from these weights instead of pretraining: the {SecretSharerRunner.PretrainedModelFile} of an earlier run. Its provenance " +
                $"sidecar (FILE{ModelProvenance.SidecarSuffix}) must match the file, name public data only and fit --hidden-size; not with --pretrain-epochs.",
        };
        var privateOnly = new Option<bool>("--private-only") { Description = "Train the private model only: no non-private baseline, so no perplexity ratio and no comparisons." };
        var seed = new Option<long?>("--seed") { Description = "Seeds initialisation, canaries, subsets and the noise: reproducible, for experiments only (the noise is then not secret)." };
        var outDir = new Option<string?>("--out", "-o") { Description = "Run folder (default runs/secret-sharer-<timestamp>)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout; progress goes to stderr." };
        var command = new Command(
            "secret-sharer",
            "Train a character-level LSTM on Reuters newswire with inserted canaries, non-privately and with DP-SGD; report perplexity, accepted sentences, canary exposure and ε.");
        foreach (var option in new Option[] { epsilon, delta, isQuick, trainSequences, testSequences, epochs, pretrain, pretrained, privateOnly, references, canaries, hidden, batch, seed, outDir, json })
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
                SecretSharerExperimentResult resumed;
                try
                {
                    // The settings come from the folder; its refusals (a finished run, another command's, changed weights) exit 2.
                    resumed = SecretSharerRunner.Resume(resumeDir, new LineProgress(asJson ? stderr : stdout, stderr));
                }
                catch (ArgumentException refused)
                {
                    throw UsageException.From(refused);
                }
                catch (ModelProvenanceException problem)
                {
                    throw new UsageException($"--resume {resumeDir}: {problem.Message}");
                }

                return Finish(resumed, asJson);
            }

            var s = result.GetValue(isQuick) ? SecretSharerSettings.Quick : SecretSharerSettings.Full;

            if (result.GetValue(epsilon) is { } e)
            {
                s = s with { TargetEpsilon = e > 0 && double.IsFinite(e) ? e : throw new UsageException($"--epsilon must be a finite number > 0 (got {Format(e)})") };
            }

            if (result.GetValue(delta) is { } d)
            {
                s = s with { Delta = d is > 0 and < 1 ? d : throw new UsageException($"--delta must be in (0, 1) (got {Format(d)})") };
            }

            if (result.GetValue(trainSequences) is { } n)
            {
                s = s with { TrainSequences = n >= 10 ? n : throw new UsageException($"--train-sequences must be ≥ 10 (got {n})") };
            }

            if (result.GetValue(testSequences) is { } m)
            {
                s = s with { TestSequences = m >= 10 ? m : throw new UsageException($"--test-sequences must be ≥ 10 (got {m})") };
            }

            if (result.GetValue(epochs) is { } ep)
            {
                s = ep >= 1 ? s with { PrivateEpochs = ep, NonPrivateEpochs = ep } : throw new UsageException($"--epochs must be ≥ 1 (got {ep})");
            }

            if (result.GetValue(pretrain) is { } pe)
            {
                s = s with { PretrainingEpochs = pe >= 0 ? pe : throw new UsageException($"--pretrain-epochs must be ≥ 0 (got {pe})") };
            }

            if (result.GetValue(references) is { } r)
            {
                s = s with { References = r >= 3 ? r : throw new UsageException($"--references must be ≥ 3 (got {r})") };
            }

            if (result.GetValue(canaries) is { } c)
            {
                s = s with { CanariesPerRepetition = c >= 1 ? c : throw new UsageException($"--canaries-per-repetition must be ≥ 1 (got {c})") };
            }

            if (result.GetValue(hidden) is { } h)
            {
                s = s with { HiddenSize = h >= 1 ? h : throw new UsageException($"--hidden-size must be ≥ 1 (got {h})") };
            }

            if (result.GetValue(batch) is { } b)
            {
                s = s with { PrivateBatchSize = b >= 1 ? b : throw new UsageException($"--batch-size must be ≥ 1 (got {b})") };
            }

            if (result.GetValue(pretrained) is { } file)
            {
                s = result.GetValue(pretrain) is null
                    ? s with { PretrainedModel = file }
                    : throw new UsageException("--pretrained and --pretrain-epochs cannot be combined: the weights are loaded, not pretrained");
            }

            try
            {
                // Before anything is loaded or trained: weights that cannot start this run are an input error.
                SecretSharerRunner.CheckPretrained(s);
            }
            catch (ModelProvenanceException problem)
            {
                throw new UsageException($"--pretrained {s.PretrainedModel}: {problem.Message}");
            }

            s = s with
            {
                PrivateOnly = result.GetValue(privateOnly),
                Seed = result.GetValue(seed),
                OutDir = result.GetValue(outDir),
                CheckpointEvery = resume.Every(result),
                CommandLine = "./diffpriv " + string.Join(" ", result.Tokens.Select(t => t.Value)),
            };
            return Finish(new SecretSharerRunner(s, new LineProgress(asJson ? stderr : stdout, stderr)).Run(), asJson);
        });
        return command;

        int Finish(SecretSharerExperimentResult outcome, bool asJson)
        {
            SecretSharerReport.WriteSummary(outcome, asJson ? stderr : stdout);
            if (asJson)
            {
                stdout.WriteLine(SecretSharerReport.Json(outcome).ToJsonString());
            }

            return CliApp.ExitOk;
        }
    }

    private static string Format(double value) => AccountingOptions.Format(value);
}
