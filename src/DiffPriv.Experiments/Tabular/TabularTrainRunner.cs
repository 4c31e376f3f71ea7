using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Datasets.Tabular;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.TextClassification;
using DiffPriv.Experiments.Training;
using DiffPriv.Noise;
using TorchSharp;

namespace DiffPriv.Experiments.Tabular;

/// <summary>
/// Runs <c>diffpriv train csv</c>: reads the table (CSV or ARFF) and the schema, holds out a test split (or reads the test
/// table), computes with DP whatever the schema leaves open (ranges, categories, the target's classes), encodes the rows,
/// trains logistic regression or an MLP with DP-SGD whose σ is calibrated so that preprocessing and training together stay
/// within the target ε (one PLD ledger), evaluates, and writes the run folder (report.md, metrics.json, schema.json,
/// model.bin, command.txt, and test-lines.txt for a split; settings.json, preprocessing.json and resume.bin, which
/// <see cref="Resume"/> continues from after a kill).
/// </summary>
public static class TabularTrainRunner
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Runs the training.</summary>
    /// <param name="settings">The settings; validated first.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>What ran and what it measured.</returns>
    /// <exception cref="ArgumentException">A setting is out of range, the schema is invalid, or DP released fewer than two classes.</exception>
    /// <exception cref="CsvFormatException">A table is malformed or does not fit the schema (the message is <c>FILE:LINE: problem</c>).</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static TabularTrainResult Run(TabularTrainSettings settings, IProgress<ProgressUpdate>? progress = null) => Run(settings, progress, resume: false, openCheckpoint: null);

    /// <summary>
    /// Resumes the run in <paramref name="runDir"/> after a kill (<c>diffpriv train csv --resume RUN_DIR</c>): its settings
    /// come from the folder's <see cref="TrainResume.SettingsFile"/>, the preprocessing's release (the DP ranges, categories
    /// and classes, and their events) from <see cref="PreprocessingFile"/> — never computed again, so its noise is drawn and
    /// charged once — and training continues from the last checkpoint (<see cref="TrainResume.CheckpointFile"/>, whose
    /// ledger holds the preprocessing and every step before it). A seeded run ends as the uninterrupted one would; an
    /// unseeded one keeps its plan (steps, σ) and draws fresh noise for the remaining steps.
    /// </summary>
    /// <param name="runDir">The folder a <c>train csv</c> run printed when it started.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>What ran and what it measured, over all the attempts.</returns>
    /// <exception cref="ArgumentException">The folder is not a resumable <c>train csv</c> run (none, finished, another
    /// command's, or a data, test or schema file changed since it started); the message says which.</exception>
    /// <exception cref="InvalidDataException">The folder's checkpoint or preprocessing file is damaged.</exception>
    public static TabularTrainResult Resume(string runDir, IProgress<ProgressUpdate>? progress = null)
    {
        var (settings, dir) = TrainResume.Load<TabularTrainSettings>(runDir, command => command == TrainResume.CsvCommand);
        return Run(settings with { OutDir = dir }, progress, resume: true, openCheckpoint: null);
    }

    /// <summary>The file in the run folder that holds the preprocessing's release, written before training starts.</summary>
    internal const string PreprocessingFile = "preprocessing.json";

    /// <summary>The run, new or resumed (<paramref name="resume"/>: the settings came from the folder); <paramref name="openCheckpoint"/> is a test seam.</summary>
    internal static TabularTrainResult Run(TabularTrainSettings settings, IProgress<ProgressUpdate>? progress, bool resume, Func<string, Stream>? openCheckpoint)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var clock = Stopwatch.StartNew();
        var inv = CultureInfo.InvariantCulture;
        var schema = settings.SchemaFile is { } schemaFile ? TabularSchema.Read(schemaFile) : TabularSchema.Empty;
        var data = TabularTable.Read(settings.DataFile);
        TabularPreprocessing.CheckColumns(data, settings.TargetColumn, schema);
        var (train, test, heldOutLines) = settings.TestFile is { } testFile ? (data, TabularTable.Read(testFile), null) : Split(data, settings);
        var (columns, target) = TabularPreprocessing.Plan(train, test, settings.TargetColumn, schema);

        TorchRuntime.EnsureLoaded();
        var runDir = RunFolder.Resolve(settings.OutDir, "csv");
        var preprocessingPath = Path.Combine(runDir, PreprocessingFile);
        if (!resume)
        {
            // Full paths, so that the run resumes from any folder; the files' SHA-256, so that it resumes on the same data.
            TrainResume.StartNew(
                TrainResume.CsvCommand,
                settings with { OutDir = runDir, DataFile = Path.GetFullPath(settings.DataFile), TestFile = FullPath(settings.TestFile), SchemaFile = FullPath(settings.SchemaFile) },
                runDir,
                [settings.DataFile, settings.TestFile, settings.SchemaFile],
                settings.CommandLine,
                PreprocessingFile);
        }

        var checkpoints = new RunCheckpoints(runDir, settings.CheckpointEvery, resume, openCheckpoint);
        Say(progress, $"diffpriv train csv: {train.Rows.Count} training / {test.Rows.Count} test records from {Path.GetFileName(settings.DataFile)}" +
            $"{(settings.TestFile is { } t ? $" and {Path.GetFileName(t)}" : $" ({(100 * settings.TestFraction).ToString("G3", inv)}% held out by a seeded split)")}; target '{target.Name}'; run folder {runDir}");
        if (settings.Seed is not null)
        {
            Say(progress, $"note: --seed {settings.Seed} seeded noise is for reproducibility only (anyone who knows the seed can replay it). Omit --seed for secure noise.");
        }

        // The release is computed once per run: a resumed run reads it back, so its noise is neither drawn again (fresh
        // noise on the same counts would reveal more of them) nor charged again. It is saved before any training step; a
        // run killed before that released nothing and starts again.
        var release = resume ? TabularReleaseFile.Read(preprocessingPath) : null;
        if (release is not null)
        {
            Say(progress, $"--resume: the preprocessing's release (ranges, categories, classes) and its ε are the run's, read from {preprocessingPath}; nothing is computed again");
        }
        else if (checkpoints.Resumed is not null)
        {
            throw new InvalidDataException($"--resume: {runDir} holds a checkpoint but no {PreprocessingFile}: the run's preprocessing cannot be restored, and computing it again would spend its ε twice.");
        }
        else
        {
            using var gate = settings.Seed is { } s ? NoiseGate.CreateSeeded(s + 7919) : NoiseGate.CreateSecure();
            release = TabularPreprocessing.Release(train, columns, target, schema, settings.EffectivePreprocessingEpsilon, settings.Delta, (n, std) => Gaussian(gate, n, std));
            TabularReleaseFile.Write(preprocessingPath, release);
        }

        if (release.NoiseMultiplier is { } preSigma)
        {
            Say(progress, $"preprocessing with DP: {release.DpNumeric} numeric range(s) and {release.DpCategorical} category list(s) from noisy counts (σ = {preSigma.ToString("G4", inv)}" +
                $"{(release.CategoryThreshold is { } tau ? $", categories released above {tau.ToString("F1", inv)}" : "")}): ε = {release.Epsilon.ToString("F3", inv)} at δ = {PrivacyStatement.Delta(settings.Delta)}");
        }
        else
        {
            Say(progress, "preprocessing: every range, category list and class is declared public; no privacy spent before training");
        }

        var encoder = new TabularEncoder(release.Columns, release.Target, schema);
        var trainRows = encoder.Encode(train, training: true);
        var testRows = encoder.Encode(test, training: false);
        if (trainRows.Rows == 0 || testRows.Rows == 0)
        {
            throw new ArgumentException($"{(trainRows.Rows == 0 ? "no training" : "no test")} rows are left once rows with a missing target are left out");
        }

        var n = trainRows.Rows;
        var model = settings.Model ?? TabularTrainSettings.DefaultModel(n);
        var batch = settings.BatchSize ?? TabularTrainSettings.DefaultBatchSize(n);
        var epochs = settings.Epochs ?? TabularTrainSettings.DefaultEpochs;
        var lr = settings.LearningRate ?? TabularTrainSettings.DefaultLearningRate(model);
        if (batch > n)
        {
            throw new ArgumentException($"--batch-size must be in [1, N = {n}] (got {batch})");
        }

        if (settings.Delta >= 1.0 / n)
        {
            Warn(progress, $"δ = {PrivacyStatement.Delta(settings.Delta)} is not below 1/N = {PrivacyStatement.Format(1.0 / n)}: use δ ≪ 1/N.");
        }

        var schedule = StepSchedule.FromEpochs(n, batch, epochs);
        var q = schedule.SamplingProbability;
        var sigma = settings.NoiseMultiplier ?? Calibrate(release.Events, q, schedule.TotalSteps, settings.EffectiveTargetEpsilon!.Value, settings.Delta);
        Say(progress, $"{encoder.Width} features; {model.ToString().ToLowerInvariant()} model; {TabularClassifier.Describe(sigma, q, schedule.TotalSteps, batch, settings.MaxGradNorm, lr)}" +
            (settings.EffectiveTargetEpsilon is { } te ? $"; σ calibrated so that preprocessing and training together have ε ≤ {PrivacyStatement.Format(te)}" : ""));
        if (checkpoints.ResumeLine((int)schedule.Epochs, settings.Seed is not null) is { } resumeLine)
        {
            Say(progress, resumeLine);
        }

        Say(progress, checkpoints.CheckpointLine(TrainResume.CsvCommand));

        var seed = settings.Seed ?? 1;
        using var x = torch.tensor(trainRows.Features, [n, encoder.Width]);
        using var y = torch.tensor(trainRows.Labels);
        using var testX = torch.tensor(testRows.Features, [testRows.Rows, encoder.Width]);
        using var testY = torch.tensor(testRows.Labels);
        using var net = TabularClassifier.Create(model, encoder.Width, encoder.Classes.Count, settings.HiddenUnits, seed);
        var outcome = TabularClassifier.Train(net, x, y, release.Events, sigma, settings.MaxGradNorm, batch, epochs, lr, settings.Delta, settings.Seed, progress, checkpoints);
        if (settings.EffectiveTargetEpsilon is { } targetEps && outcome.Epsilon.Upper > targetEps * (1 + 1e-9))
        {
            throw new InvalidOperationException($"ε = {outcome.Epsilon.Upper} exceeds the target {targetEps}: the run did not follow its plan.");
        }

        var accuracy = TextFineTuner.Accuracy(net, testX, testY);
        var majority = testRows.Labels.Where(l => l >= 0).CountBy(l => l).Select(p => p.Value).DefaultIfEmpty(0).Max() / (double)testRows.Rows;
        var trainingEpsilon = new PldAccountant().Compose(DpSgdCalibration.RunEvent(q, sigma, outcome.Steps)).GetEpsilon(settings.Delta);

        net.save(Path.Combine(runDir, "model.bin"));
        var result = new TabularTrainResult(
            settings, model, [.. release.Columns.Select(c => c.ToSummary())], encoder.Classes, release.Target.Source, encoder.Width, n, testRows.Rows,
            trainRows.MissingTarget + testRows.MissingTarget, trainRows.UnknownClass, accuracy, majority, outcome.Epsilon.Upper, outcome.Epsilon.Lower,
            release.Epsilon, trainingEpsilon, sigma, release.NoiseMultiplier, release.CategoryThreshold, q, outcome.Steps, epochs, batch, lr,
            checkpoints.SecondsBefore + clock.Elapsed.TotalSeconds, runDir);
        File.WriteAllText(Path.Combine(runDir, "schema.json"), PublicSchema(result, schema).ToJsonString(Indented) + "\n");
        if (heldOutLines is not null)
        {
            File.WriteAllLines(Path.Combine(runDir, "test-lines.txt"), heldOutLines.Select(l => l.ToString(inv)));
        }

        var metrics = SummaryJson(result);
        metrics["seeded"] = settings.Seed is not null;
        metrics["features"] = encoder.Width;
        metrics["feature_names"] = new JsonArray([.. encoder.FeatureNames.Select(f => JsonValue.Create(f))]);
        metrics["preprocessing_events"] = JsonNode.Parse(DpEventJson.Serialize(new ComposedDpEvent(release.Events)));
        File.WriteAllText(Path.Combine(runDir, "metrics.json"), metrics.ToJsonString(Indented) + "\n");
        File.WriteAllText(Path.Combine(runDir, "report.md"), TabularReport.Markdown(result, schema.Missing));
        return result;
    }

    /// <summary>
    /// The JSON of <c>--json</c>: the fields of <c>diffpriv train mnist</c> (<c>epsilon</c> is the total, preprocessing
    /// included) plus <c>majority_baseline</c>, <c>preprocessing_epsilon</c>, <c>training_epsilon</c>, the model, the classes
    /// and where each column's public facts came from.
    /// </summary>
    /// <param name="r">A finished run.</param>
    /// <returns>The JSON object.</returns>
    public static JsonObject SummaryJson(TabularTrainResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var columns = new JsonArray();
        foreach (var c in r.Columns)
        {
            columns.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = Word(c.Kind),
                ["type_source"] = Word(c.KindSource),
                ["values_source"] = Word(c.ValuesSource),
                ["range"] = c.RangeLow is { } low && c.RangeHigh is { } high ? new JsonArray(low, high) : null,
                ["categories"] = c.Kind == TabularColumnKind.Categorical ? new JsonArray([.. c.Categories.Select(v => JsonValue.Create(v))]) : null,
            });
        }

        return new JsonObject
        {
            ["dataset"] = Path.GetFileName(r.Settings.DataFile),
            ["test_accuracy"] = r.TestAccuracy,
            ["epsilon"] = PrivacyStatement.JsonNumber(r.Epsilon),
            ["epsilon_lower"] = PrivacyStatement.JsonNumber(r.EpsilonLower),
            ["delta"] = r.Settings.Delta,
            ["noise_multiplier"] = r.NoiseMultiplier,
            ["max_grad_norm"] = r.Settings.MaxGradNorm,
            ["clipping"] = "flat",
            ["final_clip"] = null,
            ["sampling_probability"] = r.SamplingProbability,
            ["steps"] = r.Steps,
            ["epochs"] = r.Epochs,
            ["wall_seconds"] = Math.Round(r.WallSeconds, 3),
            ["run_dir"] = r.RunDir,
            ["audit"] = null,
            ["majority_baseline"] = r.MajorityBaseline,
            ["preprocessing_epsilon"] = r.PreprocessingEpsilon,
            ["training_epsilon"] = PrivacyStatement.JsonNumber(r.TrainingEpsilon),
            ["target_epsilon"] = r.Settings.EffectiveTargetEpsilon,
            ["preprocessing_noise_multiplier"] = r.PreprocessingNoiseMultiplier,
            ["model"] = r.Model.ToString().ToLowerInvariant(),
            ["batch_size"] = r.BatchSize,
            ["learning_rate"] = r.LearningRate,
            ["target"] = r.Settings.TargetColumn,
            ["classes"] = new JsonArray([.. r.Classes.Select(c => JsonValue.Create(c))]),
            ["classes_source"] = Word(r.ClassesSource),
            ["columns"] = columns,
            ["train_examples"] = r.TrainExamples,
            ["test_examples"] = r.TestExamples,
        };
    }

    /// <summary>The smallest σ for which the preprocessing events and <paramref name="steps"/> DP-SGD steps compose to ε ≤ the target (PLD).</summary>
    internal static double Calibrate(IReadOnlyList<DpEvent> preprocessing, double q, long steps, double targetEpsilon, double delta)
    {
        // The search starts from DP-SGD alone given what the preprocessing leaves of the budget (by RDP: cheap, and close,
        // since composing under PLD costs less than adding the two ε); σ is found to 0.1% (σ_hi, always within the target).
        var left = targetEpsilon - (preprocessing.Count == 0 ? 0 : new PldAccountant().Compose(new ComposedDpEvent(preprocessing)).GetEpsilon(delta));
        var guess = DpSgdCalibration.NoiseMultiplier(q, steps, Math.Max(left, targetEpsilon / 2), delta, AccountantKind.Rdp).NoiseMultiplier;
        return NoiseCalibration.CalibrateNoiseMultiplier(
            () => new PldAccountant(), sigma => new ComposedDpEvent([.. preprocessing, DpSgdCalibration.RunEvent(q, sigma, steps)]), targetEpsilon, delta, 1e-3, guess).NoiseMultiplier;
    }

    /// <summary>The lower-case word for a kind or source, as JSON and schema.json spell it.</summary>
    internal static string Word(TabularColumnKind kind) => kind switch
    {
        TabularColumnKind.Numeric => "numeric",
        TabularColumnKind.Categorical => "categorical",
        _ => "ignore",
    };

    /// <inheritdoc cref="Word(TabularColumnKind)"/>
    internal static string Word(TabularSource source) => source switch
    {
        TabularSource.Schema => "schema",
        TabularSource.ArffHeader => "arff_header",
        TabularSource.InferredFromValues => "inferred",
        TabularSource.DifferentialPrivacy => "dp",
        _ => "none",
    };

    private static (TabularTable Train, TabularTable Test, IReadOnlyList<int> HeldOutLines) Split(TabularTable data, TabularTrainSettings settings)
    {
        // The split is not a secret (which rows are held out does not change the guarantee on the training rows).
#pragma warning disable CA5394
        var order = Enumerable.Range(0, data.Rows.Count).ToArray();
        new Random((int)((settings.Seed ?? 1) & 0x7fffffff)).Shuffle(order);
#pragma warning restore CA5394
        var held = (int)Math.Round(data.Rows.Count * settings.TestFraction);
        if (held < 1 || held >= data.Rows.Count)
        {
            throw new ArgumentException($"--test-fraction {settings.TestFraction} of {data.Rows.Count} records leaves no training or no test record.");
        }

        var test = order.Take(held).Order().Select(i => data.Rows[i]).ToList();
        var train = order.Skip(held).Order().Select(i => data.Rows[i]).ToList();
        return (data.WithRows(train), data.WithRows(test), [.. test.Select(r => r.LineNumber)]);
    }

    private static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);

    private static double[] Gaussian(NoiseGate gate, int n, double std)
    {
        if (n == 0)
        {
            return [];
        }

        using var noise = gate.Gaussian([n], std, torch.ScalarType.Float64);
        return noise.data<double>().ToArray();
    }

    private static JsonObject PublicSchema(TabularTrainResult r, TabularSchema schema)
    {
        var columns = new JsonObject();
        foreach (var c in r.Columns)
        {
            var column = new JsonObject { ["type"] = Word(c.Kind) };
            if (c.Kind == TabularColumnKind.Numeric)
            {
                column["range"] = new JsonArray(c.RangeLow!.Value, c.RangeHigh!.Value);
                column["impute"] = c.Impute;
            }
            else if (c.Kind == TabularColumnKind.Categorical)
            {
                column["categories"] = new JsonArray([.. c.Categories.Select(v => JsonValue.Create(v))]);
            }

            columns[c.Name] = column;
        }

        return new JsonObject
        {
            ["columns"] = columns,
            ["target"] = new JsonObject { ["name"] = r.Settings.TargetColumn, ["classes"] = new JsonArray([.. r.Classes.Select(v => JsonValue.Create(v))]) },
            ["missing"] = new JsonArray([.. schema.Missing.Select(v => JsonValue.Create(v))]),
        };
    }

    private static void Say(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Message(line));

    private static void Warn(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Warning(line));
}
