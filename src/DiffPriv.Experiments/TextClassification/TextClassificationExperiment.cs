using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DiffPriv.Accounting;
using DiffPriv.Datasets.Text;
using DiffPriv.Experiments.Pretraining;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.TextClassification;

/// <summary>
/// <c>diffpriv experiment text-classification</c>: sentiment of IMDB movie reviews (the seeded 25 000 / 25 000 split of
/// <see cref="ImdbReviews"/>) with a small transformer, in four settings: non-private fine-tuning of the public pretrained
/// model, DP-SGD from scratch, DP-SGD fine-tuning of all its weights, and DP-SGD fine-tuning of LoRA adapters plus the head.
/// </summary>
/// <remarks>
/// <para>Public by construction: the pretrained model and its word vocabulary come from public English only
/// (<see cref="PublicTextPretraining"/>); the reviews are only encoded with that vocabulary. Every private setting is
/// calibrated for the same (ε, δ) and its ε is read back from the accountant's ledger of the steps that ran.</para>
/// <para>The run folder holds <c>report.md</c>, <c>results.json</c>, <c>accuracy-vs-epsilon.png</c> and <c>command.txt</c>, and
/// the files that let a killed run resume (<see cref="Resume"/>): <c>settings.json</c>, each private setting's checkpoint
/// and each finished setting's done record.</para>
/// </remarks>
public static class TextClassificationExperiment
{
    /// <summary>The classes, in label order: negative (0), positive (1).</summary>
    public static IReadOnlyList<string> Classes { get; } = ["negative", "positive"];

    /// <summary>Runs the experiment: loads (or pretrains) the public model, loads IMDB, trains and evaluates every setting, writes the run folder.</summary>
    /// <param name="settings">The settings; validated first.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>What ran and what it measured.</returns>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    /// <exception cref="Datasets.DataFetchException">IMDB or a pretraining corpus is missing and cannot be fetched.</exception>
    public static TextClassificationResult Run(TextClassificationSettings settings, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var imdb = ImdbReviews.Load(settings.DataDir, log: m => progress?.Report(ProgressUpdate.Detail(m)));
        return Run(settings, imdb, () => PublicTextPretraining.LoadOrTrain(settings.Pretraining with { DataDir = settings.DataDir }, progress), progress);
    }

    /// <summary>
    /// Resumes the run in <paramref name="runDir"/> after a kill (<c>diffpriv experiment text-classification --resume RUN_DIR</c>):
    /// the settings come from the folder's <see cref="TrainResume.SettingsFile"/>, so the review subsets and the initial
    /// weights are the run's, and the public pretrained model is loaded from its cache. A finished setting is not trained
    /// again (its done record, <c>SETTING-done.json</c>, holds its accuracy, ε, steps and curve); a private setting in
    /// progress continues from its last checkpoint (<c>SETTING-resume.bin</c>: model, optimizer state, ledger, loader
    /// counters, seeded generator and the curve so far), so no private step is taken or charged twice; the non-private
    /// setting, seeded, is trained again from the start when it had not finished. A run with
    /// <see cref="TextClassificationSettings.SeededNoise"/> ends as the uninterrupted one would; another keeps its plan
    /// (σ, steps) and draws fresh noise.
    /// </summary>
    /// <param name="runDir">The folder the run printed when it started.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>What ran and what it measured, over all the attempts.</returns>
    /// <exception cref="ArgumentException">The folder is not a resumable text-classification run (none, finished, another command's); the message says which.</exception>
    /// <exception cref="InvalidDataException">A checkpoint or done record of the folder is damaged.</exception>
    /// <exception cref="Datasets.DataFetchException">IMDB or a pretraining corpus is missing and cannot be fetched.</exception>
    public static TextClassificationResult Resume(string runDir, IProgress<ProgressUpdate>? progress = null)
    {
        var settings = SettingsToResume(runDir);
        var imdb = ImdbReviews.Load(settings.DataDir, log: m => progress?.Report(ProgressUpdate.Detail(m)));
        return Run(settings, imdb, () => PublicTextPretraining.LoadOrTrain(settings.Pretraining with { DataDir = settings.DataDir }, progress), progress, resume: true);
    }

    /// <summary>The settings of the run in <paramref name="runDir"/>, with the folder as its output folder (see <see cref="Resume"/>).</summary>
    /// <exception cref="ArgumentException">See <see cref="Resume"/>.</exception>
    internal static TextClassificationSettings SettingsToResume(string runDir)
    {
        var (saved, dir) = TrainResume.Load<TextClassificationSettings>(runDir, command => command == Command);
        var settings = saved with { OutDir = dir };
        settings.Validate();
        return settings;
    }

    /// <summary>The command of text-classification runs, as settings files name it.</summary>
    internal const string Command = "experiment text-classification";

    /// <summary>The checkpoint file of a private setting in progress.</summary>
    internal static string CheckpointFile(TextTrainingMode mode) => $"{mode.Name()}-resume.bin";

    /// <summary>The done record of a finished setting: its <see cref="TextClassificationOutcome"/> as JSON.</summary>
    internal static string DoneFile(TextTrainingMode mode) => $"{mode.Name()}-done.json";

    // The curve's points are value tuples, whose elements are fields.
    private static readonly JsonSerializerOptions DoneJson = new(TrainResume.Json) { IncludeFields = true };

    /// <summary>The experiment on given reviews and a given source of the pretrained model (tests use small ones).</summary>
    /// <param name="settings">The settings.</param>
    /// <param name="imdb">The reviews.</param>
    /// <param name="pretrain">Loads (or trains) the public pretrained model.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <param name="resume">Whether the run resumes in its folder (its settings came from there).</param>
    /// <param name="openCheckpoint">Test seam: opens each temporary checkpoint file for writing (default: a file stream).</param>
    internal static TextClassificationResult Run(
        TextClassificationSettings settings,
        ImdbSplit imdb,
        Func<PublicPretrainingResult> pretrain,
        IProgress<ProgressUpdate>? progress,
        bool resume = false,
        Func<string, Stream>? openCheckpoint = null)
    {
        settings.Validate();
        var clock = Stopwatch.StartNew();
        TorchRuntime.EnsureLoaded();
        var runDir = RunFolder.Resolve(settings.OutDir, "text-classification");
        if (!resume)
        {
            TrainResume.StartNew(
                Command,
                settings with { OutDir = runDir },
                runDir,
                [],
                settings.CommandLine,
                [.. TextTrainingModes.All.SelectMany(m => new[] { CheckpointFile(m), DoneFile(m) })]);
        }

        var inv = CultureInfo.InvariantCulture;

        var pretrained = pretrain();
        using var languageModel = pretrained.Model;
        var vocabulary = pretrained.Vocabulary ?? throw new InvalidOperationException("The pretrained model is not word-level.");
        Say(progress, $"[text-classification] public model {Path.GetFileName(pretrained.WeightsFile)} ({(pretrained.Loaded ? "cached" : "pretrained now")}, " +
            $"{pretrained.Seconds.ToString("F0", inv)} s), vocabulary of {vocabulary.Size} words from public text; run folder {runDir}");

        var train = Subset(imdb.Train, settings.TrainReviews, settings.Seed);
        var test = Subset(imdb.Test, settings.TestReviews, settings.Seed + 1);
        var unknown = TextFineTuner.UnknownRate(vocabulary, train.Select(r => r.Text));
        using var trainX = TextFineTuner.Encode(vocabulary, [.. train.Select(r => r.Text)], settings.MaxTokens);
        using var trainY = Labels(train);
        using var testX = TextFineTuner.Encode(vocabulary, [.. test.Select(r => r.Text)], settings.MaxTokens);
        using var testY = Labels(test);
        var curveCount = Math.Min(settings.CurveReviews, test.Count);
        using var curveX = testX.narrow(0, 0, curveCount);
        using var curveY = testY.narrow(0, 0, curveCount);
        Say(progress, $"[text-classification] IMDB: {train.Count} training / {test.Count} test reviews (seeded split {ImdbReviews.SplitSeed}), " +
            $"at most {settings.MaxTokens} tokens each (first and last halves of longer ones); {(100 * unknown).ToString("F1", inv)}% of training tokens are outside the public vocabulary");
        if (settings.Delta >= 1.0 / train.Count)
        {
            Warn(progress, $"δ = {PrivacyStatement.Delta(settings.Delta)} is not below 1/N = {PrivacyStatement.Format(1.0 / train.Count)}: use δ ≪ 1/N.");
        }

        if (resume)
        {
            Say(progress, $"--resume: the settings and review subsets are the run's (from {Path.Combine(runDir, TrainResume.SettingsFile)}); finished settings are not trained again");
        }

        Say(progress, $"checkpoints: each private setting's SETTING-resume.bin in {runDir} after every " +
            $"{(settings.CheckpointEvery == 1 ? "epoch" : $"{settings.CheckpointEvery} epochs")} and its last, a SETTING-done.json when it finishes " +
            $"(resume with: diffpriv {Command} --resume {runDir})");

        var outcomes = new List<TextClassificationOutcome>();
        foreach (var mode in settings.Modes)
        {
            var donePath = Path.Combine(runDir, DoneFile(mode));
            if (resume && TrainResume.ReadDone<TextClassificationOutcome>(donePath, DoneJson) is { } done)
            {
                outcomes.Add(done);
                Say(progress, $"[{mode.Name()}] --resume: finished in an earlier attempt (test accuracy {(100 * done.TestAccuracy).ToString("F2", inv)}%, " +
                    $"{done.Steps} steps; from {donePath}); not trained again");
                continue;
            }

            var started = Stopwatch.StartNew();
            var h = settings.For(mode);
            using var model = TextFineTuner.CreateModel(
                mode, settings.Pretraining, vocabulary.Size, languageModel, settings.MaxTokens, Classes.Count, h.LoraRank, settings.Seed);
            // A private setting resumes from its checkpoint; one without (not started, or killed before its first) starts from the beginning.
            var checkpoints = mode.IsPrivate()
                ? new RunCheckpoints(runDir, settings.CheckpointEvery, resume && File.Exists(Path.Combine(runDir, CheckpointFile(mode))), openCheckpoint, CheckpointFile(mode))
                : null;
            if (checkpoints?.ResumeLine((int)StepSchedule.FromEpochs(train.Count, h.BatchSize, h.Epochs).Epochs, settings.SeededNoise) is { } resumeLine)
            {
                Say(progress, $"[{mode.Name()}] {resumeLine}");
            }

            var outcome = TextFineTuner.Train(
                mode, model, trainX, trainY, h, settings.TargetEpsilon, settings.Delta, settings.Seed, settings.SeededNoise,
                m => TextFineTuner.Accuracy(m, curveX, curveY), mode.Name(), progress, checkpoints);
            var accuracy = TextFineTuner.Accuracy(model, testX, testY);
            var result = new TextClassificationOutcome(
                mode, accuracy, outcome.Epsilon, outcome.NoiseMultiplier, outcome.SamplingProbability, outcome.Steps, outcome.TrainableParameters,
                outcome.TotalParameters, [.. outcome.Curve.Select(p => (p.Epoch, p.Epsilon, p.Accuracy))], (checkpoints?.SecondsBefore ?? 0) + started.Elapsed.TotalSeconds);
            outcomes.Add(result);
            TrainResume.WriteDone(donePath, result, DoneJson);
            Say(progress, $"[{mode.Name()}] test accuracy {(100 * accuracy).ToString("F2", inv)}%, ε = {PrivacyStatement.Format(outcome.Epsilon)}, " +
                $"{outcome.TrainableParameters} trainable parameters, {result.WallSeconds.ToString("F0", inv)} s");
        }

        var final = new TextClassificationResult(
            settings, train.Count, test.Count, vocabulary.Size, unknown, pretrained.WeightsFile, pretrained.Loaded, pretrained.Seconds, outcomes,
            clock.Elapsed.TotalSeconds, runDir);
        TextClassificationReport.Write(final);
        return final;
    }

    /// <summary>A seeded random subset of <paramref name="count"/> reviews (all, shuffled the same way, when null).</summary>
    private static List<ImdbReview> Subset(IReadOnlyList<ImdbReview> reviews, int? count, long seed)
    {
        // Which public-split reviews an experiment uses is not a secret: System.Random, seeded.
#pragma warning disable CA5394
        var random = new Random((int)(seed & 0x7fffffff));
        var order = Enumerable.Range(0, reviews.Count).ToArray();
        random.Shuffle(order);
#pragma warning restore CA5394
        return [.. order.Take(Math.Min(count ?? reviews.Count, reviews.Count)).Select(i => reviews[i])];
    }

    private static Tensor Labels(IReadOnlyList<ImdbReview> reviews) =>
        torch.tensor(reviews.Select(r => r.Label == Sentiment.Positive ? 1L : 0L).ToArray());

    private static void Say(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Message(line));

    private static void Warn(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Warning(line));
}
