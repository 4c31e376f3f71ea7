using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Datasets.Tabular;
using DiffPriv.Experiments.Pretraining;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using DiffPriv.Layers;
using TorchSharp;

namespace DiffPriv.Experiments.TextClassification;

/// <summary>
/// Runs <c>diffpriv train text</c>: reads the user's CSV, splits it (or reads the test CSV), encodes the texts with the
/// public vocabulary, fine-tunes the public pretrained model with DP-SGD (LoRA adapters and the head by default), evaluates,
/// and writes the run folder (report.md, metrics.json, model.bin, labels.txt, command.txt; settings.json and resume.bin,
/// which <see cref="Resume"/> continues from after a kill).
/// </summary>
/// <remarks>
/// The label set is part of what is published with the model. Declared with <see cref="TextTrainSettings.Labels"/> it is
/// public by the user's word; read from the file, it is treated as public and the report says so (a label held by one
/// person would be revealed by its presence).
/// </remarks>
public static class TextTrainRunner
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Runs the training.</summary>
    /// <param name="settings">The settings; validated first.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>What ran and what it measured.</returns>
    /// <exception cref="ArgumentException">A setting is out of range, or the data are too few for the settings.</exception>
    /// <exception cref="CsvFormatException">A CSV file is malformed, lacks a column, has an empty text or label, or a label
    /// outside the declared set (the message names the file and the 1-based line where the record starts).</exception>
    /// <exception cref="FileNotFoundException">A CSV file does not exist.</exception>
    public static TextTrainResult Run(TextTrainSettings settings, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var (train, test, labels, declared) = ReadData(settings);
        return Run(settings, train, test, labels, declared, () => PublicTextPretraining.LoadOrTrain(settings.Pretraining with { DataDir = settings.DataDir }, progress), progress);
    }

    /// <summary>
    /// Resumes the run in <paramref name="runDir"/> after a kill (<c>diffpriv train text --resume RUN_DIR</c>): its settings
    /// come from the folder's <see cref="TrainResume.SettingsFile"/>, the data are read again (the same files: their SHA-256
    /// is checked; the split and the label set follow from them and the settings), the public pretrained model is loaded
    /// from the cache, and training continues from the last checkpoint (<see cref="TrainResume.CheckpointFile"/>: model,
    /// optimizer state, ledger, counters, seeded generator). A seeded run ends as the uninterrupted one would; an unseeded
    /// one keeps its plan (steps, σ) and draws fresh noise for the remaining steps.
    /// </summary>
    /// <param name="runDir">The folder a <c>train text</c> run printed when it started.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>What ran and what it measured, over all the attempts.</returns>
    /// <exception cref="ArgumentException">The folder is not a resumable <c>train text</c> run (none, finished, another
    /// command's, or a data or test file changed since it started); the message says which.</exception>
    /// <exception cref="InvalidDataException">The folder's checkpoint is damaged.</exception>
    public static TextTrainResult Resume(string runDir, IProgress<ProgressUpdate>? progress = null)
    {
        var (settings, dir) = TrainResume.Load<TextTrainSettings>(runDir, command => command == TrainResume.TextCommand);
        settings = settings with { OutDir = dir };
        settings.Validate();
        var (train, test, labels, declared) = ReadData(settings);
        return Run(settings, train, test, labels, declared, () => PublicTextPretraining.LoadOrTrain(settings.Pretraining with { DataDir = settings.DataDir }, progress), progress, resume: true);
    }

    /// <summary>Reads and checks the CSV files before anything is trained: the training and test examples and the label set.</summary>
    /// <param name="settings">The settings.</param>
    /// <returns>Training and test examples, the labels in class order, and whether they were declared.</returns>
    /// <exception cref="CsvFormatException">See <see cref="Run(TextTrainSettings, IProgress{ProgressUpdate}?)"/>.</exception>
    public static (IReadOnlyList<CsvTextRecord> Train, IReadOnlyList<CsvTextRecord> Test, IReadOnlyList<string> Labels, bool Declared) ReadData(TextTrainSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var data = CsvReader.Read(settings.DataFile).TextRecords(settings.TextColumn, settings.TargetColumn);
        var testData = settings.TestFile is { } testFile ? CsvReader.Read(testFile).TextRecords(settings.TextColumn, settings.TargetColumn) : null;
        var labels = settings.Labels ?? [.. data.Select(r => r.Target).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        CheckLabels(settings.DataFile, data, labels, settings.Labels is not null);
        if (testData is not null)
        {
            CheckLabels(settings.TestFile!, testData, labels, declared: true);
        }

        if (labels.Count < 2)
        {
            throw new CsvFormatException(settings.DataFile, 1, $"the target column '{settings.TargetColumn}' holds one label only ('{labels[0]}'): nothing to classify");
        }

        if (testData is not null)
        {
            return (data, testData, labels, settings.Labels is not null);
        }

        // The split is not a secret (which rows are held out does not change the guarantee on the training rows).
#pragma warning disable CA5394
        var order = Enumerable.Range(0, data.Count).ToArray();
        new Random((int)((settings.Seed ?? 1) & 0x7fffffff)).Shuffle(order);
#pragma warning restore CA5394
        var held = (int)Math.Round(data.Count * settings.TestFraction);
        if (held < 1 || held >= data.Count)
        {
            throw new ArgumentException($"--test-fraction {settings.TestFraction} of {data.Count} records leaves no training or no test example.");
        }

        var heldOut = order.Take(held).Order().Select(i => data[i]).ToList();
        var rest = order.Skip(held).Order().Select(i => data[i]).ToList();
        return (rest, heldOut, labels, settings.Labels is not null);
    }

    /// <summary>The run on examples already read and a given source of the pretrained model (tests use a small one).</summary>
    internal static TextTrainResult Run(
        TextTrainSettings settings,
        IReadOnlyList<CsvTextRecord> train,
        IReadOnlyList<CsvTextRecord> test,
        IReadOnlyList<string> labels,
        bool declared,
        Func<PublicPretrainingResult> pretrain,
        IProgress<ProgressUpdate>? progress,
        bool resume = false,
        Func<string, Stream>? openCheckpoint = null)
    {
        settings.Validate();
        var clock = Stopwatch.StartNew();
        TorchRuntime.EnsureLoaded();
        var inv = CultureInfo.InvariantCulture;
        var runDir = RunFolder.Resolve(settings.OutDir, "text");
        Directory.CreateDirectory(runDir);
        if (!resume)
        {
            // Full paths, so that the run resumes from any folder; the files' SHA-256, so that it resumes on the same data.
            TrainResume.StartNew(
                TrainResume.TextCommand,
                settings with { OutDir = runDir, DataFile = Path.GetFullPath(settings.DataFile), TestFile = settings.TestFile is { } tf ? Path.GetFullPath(tf) : null },
                runDir,
                [settings.DataFile, settings.TestFile],
                settings.CommandLine);
        }

        var checkpoints = new RunCheckpoints(runDir, settings.CheckpointEvery, resume, openCheckpoint);
        var mode = settings.FullFineTuning ? TextTrainingMode.DpFull : TextTrainingMode.DpLora;
        Say(progress, $"diffpriv train text: {train.Count} training / {test.Count} test examples from {Path.GetFileName(settings.DataFile)}" +
            $"{(settings.TestFile is { } t ? $" and {Path.GetFileName(t)}" : $" ({(100 * settings.TestFraction).ToString("G3", inv)}% held out by a seeded split)")}; " +
            $"labels {string.Join(", ", labels)} ({(declared ? "declared with --labels" : "read from the file and treated as public")}); run folder {runDir}");
        if (settings.Seed is not null)
        {
            Say(progress, $"note: --seed {settings.Seed} seeded noise is for reproducibility only (anyone who knows the seed can replay it). Omit --seed for secure noise.");
        }

        if (settings.Delta >= 1.0 / train.Count)
        {
            Warn(progress, $"δ = {PrivacyStatement.Delta(settings.Delta)} is not below 1/N = {PrivacyStatement.Format(1.0 / train.Count)}: use δ ≪ 1/N.");
        }

        if (settings.Hyperparameters.BatchSize > train.Count)
        {
            throw new ArgumentException($"--batch-size must be in [1, N = {train.Count}] (got {settings.Hyperparameters.BatchSize})");
        }

        var pretrained = pretrain();
        using var languageModel = pretrained.Model;
        var vocabulary = pretrained.Vocabulary ?? throw new InvalidOperationException("The pretrained model is not word-level.");
        var classOf = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => (long)x.i, StringComparer.Ordinal);
        using var trainX = TextFineTuner.Encode(vocabulary, [.. train.Select(r => r.Text)], settings.MaxTokens);
        using var trainY = torch.tensor(train.Select(r => classOf[r.Target]).ToArray());
        using var testX = TextFineTuner.Encode(vocabulary, [.. test.Select(r => r.Text)], settings.MaxTokens);
        using var testY = torch.tensor(test.Select(r => classOf[r.Target]).ToArray());
        var unknown = TextFineTuner.UnknownRate(vocabulary, train.Select(r => r.Text));
        Say(progress, $"public model {Path.GetFileName(pretrained.WeightsFile)} and its vocabulary of {vocabulary.Size} words (public text only); " +
            $"{(100 * unknown).ToString("F1", inv)}% of the training tokens are outside it");

        var h = settings.Hyperparameters;
        var seed = settings.Seed ?? 1;
        if (checkpoints.ResumeLine((int)StepSchedule.FromEpochs(train.Count, h.BatchSize, h.Epochs).Epochs, settings.Seed is not null) is { } resumeLine)
        {
            Say(progress, resumeLine);
        }

        Say(progress, checkpoints.CheckpointLine(TrainResume.TextCommand));
        using var model = TextFineTuner.CreateModel(mode, settings.Pretraining, vocabulary.Size, languageModel, settings.MaxTokens, labels.Count, h.LoraRank, seed);
        var outcome = TextFineTuner.Train(
            mode, model, trainX, trainY, h, settings.TargetEpsilon, settings.Delta, seed, seededNoise: settings.Seed is not null, curve: null, mode.Name(), progress, checkpoints);
        var accuracy = TextFineTuner.Accuracy(model, testX, testY);
        var majority = train.GroupBy(r => r.Target, StringComparer.Ordinal).OrderByDescending(g => g.Count()).First().Key;
        var majorityAccuracy = test.Count(r => r.Target == majority) / (double)test.Count;

        if (mode == TextTrainingMode.DpLora)
        {
            Lora.Merge(model);
        }

        model.save(Path.Combine(runDir, "model.bin"));
        File.WriteAllLines(Path.Combine(runDir, "labels.txt"), labels);
        var result = new TextTrainResult(
            settings, labels, declared, train.Count, test.Count, accuracy, majorityAccuracy, outcome.Epsilon, outcome.EpsilonLower!.Value,
            outcome.NoiseMultiplier!.Value, outcome.SamplingProbability!.Value, outcome.Steps, outcome.TrainableParameters, outcome.TotalParameters, unknown,
            checkpoints.SecondsBefore + clock.Elapsed.TotalSeconds, runDir);
        var metrics = SummaryJson(result);
        metrics["majority_accuracy"] = majorityAccuracy;
        metrics["unknown_token_rate"] = unknown;
        metrics["pretrained_weights"] = Path.GetFileName(pretrained.WeightsFile);
        File.WriteAllText(Path.Combine(runDir, "metrics.json"), metrics.ToJsonString(Indented) + "\n");
        File.WriteAllText(Path.Combine(runDir, "report.md"), Markdown(result, pretrained));
        return result;
    }

    /// <summary>The JSON of <c>--json</c>: the fields of <c>diffpriv train mnist</c> plus <c>trainable_parameters</c> and the labels.</summary>
    /// <param name="r">A finished run.</param>
    /// <returns>The JSON object.</returns>
    public static JsonObject SummaryJson(TextTrainResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new JsonObject
        {
            ["dataset"] = Path.GetFileName(r.Settings.DataFile),
            ["test_accuracy"] = r.TestAccuracy,
            ["epsilon"] = PrivacyStatement.JsonNumber(r.Epsilon),
            ["epsilon_lower"] = PrivacyStatement.JsonNumber(r.EpsilonLower),
            ["delta"] = r.Settings.Delta,
            ["noise_multiplier"] = r.NoiseMultiplier,
            ["max_grad_norm"] = r.Settings.Hyperparameters.MaxGradNorm,
            ["sampling_probability"] = r.SamplingProbability,
            ["steps"] = r.Steps,
            ["epochs"] = r.Settings.Hyperparameters.Epochs,
            ["wall_seconds"] = Math.Round(r.WallSeconds, 3),
            ["run_dir"] = r.RunDir,
            ["audit"] = null,
            ["trainable_parameters"] = r.TrainableParameters,
            ["total_parameters"] = r.TotalParameters,
            ["fine_tuning"] = r.Settings.FullFineTuning ? "full" : "lora",
            ["labels"] = new JsonArray([.. r.Labels.Select(l => JsonValue.Create(l))]),
            ["labels_declared"] = r.LabelsDeclared,
            ["train_examples"] = r.TrainExamples,
            ["test_examples"] = r.TestExamples,
        };
    }

    private static void CheckLabels(string file, IReadOnlyList<CsvTextRecord> records, IReadOnlyList<string> labels, bool declared)
    {
        var set = labels.ToHashSet(StringComparer.Ordinal);
        foreach (var record in records.Where(r => !set.Contains(r.Target)))
        {
            throw new CsvFormatException(
                file, record.LineNumber, $"the label '{record.Target}' is not one of the {(declared ? "declared " : "")}labels ({string.Join(", ", labels)})");
        }
    }

    private static string Markdown(TextTrainResult r, PublicPretrainingResult pretrained)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = r.Settings;
        var h = s.Hyperparameters;
        var b = new StringBuilder();
        b.AppendLine(inv, $"# diffpriv train text: {Path.GetFileName(s.DataFile)}");
        b.AppendLine();
        b.AppendLine("```bash");
        b.AppendLine(s.CommandLine);
        b.AppendLine("```");
        b.AppendLine();
        b.AppendLine("## Result");
        b.AppendLine();
        b.AppendLine(inv, $"- Test accuracy: **{(100 * r.TestAccuracy).ToString("F2", inv)}%** on {r.TestExamples} held-out examples (always answering the most frequent training label: {(100 * r.MajorityAccuracy).ToString("F2", inv)}%)");
        b.AppendLine(inv, $"- ε = **{r.Epsilon.ToString("F3", inv)}** at δ = {PrivacyStatement.Delta(s.Delta)} (PLD; the exact ε lies in [{r.EpsilonLower.ToString("F4", inv)}, {r.Epsilon.ToString("F4", inv)}]), from the ledger of the {r.Steps} steps that ran");
        b.AppendLine(inv, $"- Trained (clipped and noised) parameters: {r.TrainableParameters} of {r.TotalParameters} ({(s.FullFineTuning ? "all weights" : $"LoRA rank {h.LoraRank} adapters and the classification head; the pretrained weights frozen")})");
        b.AppendLine(inv, $"- Wall time: {r.WallSeconds.ToString("F1", inv)} s");
        b.AppendLine();
        b.AppendLine("## Settings");
        b.AppendLine();
        b.AppendLine("| setting | value |");
        b.AppendLine("|---|---|");
        b.AppendLine(inv, $"| data | {Path.GetFileName(s.DataFile)}, text column '{s.TextColumn}', label column '{s.TargetColumn}': {r.TrainExamples} training / {r.TestExamples} test examples" +
            $"{(s.TestFile is { } t ? $" (test file {Path.GetFileName(t)})" : $" ({(100 * s.TestFraction).ToString("G3", inv)}% held out, seeded split)")} |");
        b.AppendLine(inv, $"| labels | {string.Join(", ", r.Labels)}: {(r.LabelsDeclared ? "declared with --labels (public by the user's declaration)" : "READ FROM THE TRAINING FILE and treated as public; declare them with --labels if a label itself could be private")} |");
        b.AppendLine(inv, $"| model | causal transformer classifier pretrained on public English ({Path.GetFileName(pretrained.WeightsFile)}), vocabulary of {r.Settings.Pretraining.VocabularySize} words from public text only ({(100 * r.UnknownRate).ToString("F1", inv)}% of the training tokens outside it); at most {s.MaxTokens} tokens per text |");
        b.AppendLine(inv, $"| training | DP-SGD: Poisson sampling q = {r.SamplingProbability.ToString("G4", inv)} (expected batch {h.BatchSize}), per-example clipping C = {PrivacyStatement.Format(h.MaxGradNorm)}, Gaussian noise σ = {r.NoiseMultiplier.ToString("G6", inv)} (calibrated for ε ≤ {PrivacyStatement.Format(s.TargetEpsilon)}) |");
        b.AppendLine(inv, $"| optimizer | Adam, learning rate {PrivacyStatement.Format(h.LearningRate)}{(h.HeadLearningRate is { } headRate ? $" (the head {PrivacyStatement.Format(headRate)})" : "")}, {h.Epochs.ToString(inv)} epochs |");
        b.AppendLine(inv, $"| noise | {(s.Seed is { } seed ? $"SEEDED ({seed}): reproducible, for experiments only, NOT secret" : "secure (OS CSPRNG)")} |");
        b.AppendLine();
        b.AppendLine("The run folder holds model.bin (the trained classifier, adapters merged), labels.txt (class order), metrics.json and this report.");
        return b.ToString();
    }

    private static void Say(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Message(line));

    private static void Warn(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Warning(line));
}
