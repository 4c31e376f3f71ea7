using System.Diagnostics;
using System.Globalization;
using DiffPriv.Datasets.Ratings;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using TorchSharp;

namespace DiffPriv.Experiments.UserLevel;

/// <summary>
/// <c>diffpriv experiment user-level</c>: rating prediction on MovieLens (<see cref="MovieLensRatings"/>) with the user as
/// the privacy unit. A matrix-factorisation model is trained three ways — without privacy, with user-level DP-SGD (ε per
/// user) and with example-level DP-SGD (ε per rating) — and tested on a held-out share of every user's ratings. For
/// example-level training the report adds what its guarantee means for a whole user: the group-privacy bounds of the median
/// and the largest user (<see cref="GroupPrivacyBound"/>).
/// </summary>
/// <remarks>
/// <para>The model's user side is not trained as parameters in the user-level and non-private settings: each user's vector
/// is solved from that user's own ratings and the current movie model (<see cref="UserVectors"/>), during training and at
/// test time. So the released model holds no per-user parameter, and user-level DP-SGD covers everything released; each
/// user's vector is computed by (and for) that user alone. Example-level DP-SGD cannot do that (one rating would change the
/// gradient of every other rating of its user through the solved vector, breaking the per-rating sensitivity C), so it
/// trains user embeddings, noised and released like the rest, and is tested the same way as the others.</para>
/// <para>The run folder holds <c>report.md</c>, <c>results.json</c> and <c>command.txt</c>, and the files that let a killed
/// run resume (<see cref="Resume"/>): <c>settings.json</c>, each private setting's checkpoint and each finished setting's done record.</para>
/// </remarks>
public static class UserLevelExperiment
{
    /// <summary>Runs the experiment: loads MovieLens (fetching it when missing), trains and tests every setting, writes the run folder.</summary>
    /// <param name="settings">The settings; validated first.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>What ran and what it measured.</returns>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    /// <exception cref="Datasets.DataFetchException">MovieLens is missing and cannot be fetched.</exception>
    public static UserLevelResult Run(UserLevelSettings settings, IProgress<ProgressUpdate>? progress = null) => Run(settings, progress, resume: false);

    /// <summary>
    /// Resumes the run in <paramref name="runDir"/> after a kill (<c>diffpriv experiment user-level --resume RUN_DIR</c>):
    /// the settings come from the folder's <see cref="TrainResume.SettingsFile"/>, so the split, the user subset and the
    /// initial weights are the run's. A finished setting is not trained again (its done record, <c>SETTING-done.json</c>,
    /// holds what it measured); a private setting in progress continues from its last checkpoint
    /// (<c>SETTING-resume.bin</c>: model, optimizer state, ledger, loader counters, seeded generator), so no private step is
    /// taken or charged twice; the non-private setting, seeded and cheap, is trained again from the start when it had not
    /// finished. A run with <see cref="UserLevelSettings.SeededNoise"/> ends as the uninterrupted one would; another keeps
    /// its plan (σ, steps) and draws fresh noise.
    /// </summary>
    /// <param name="runDir">The folder the run printed when it started.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>What ran and what it measured, over all the attempts.</returns>
    /// <exception cref="ArgumentException">The folder is not a resumable user-level run (none, finished, another command's); the message says which.</exception>
    /// <exception cref="InvalidDataException">A checkpoint or done record of the folder is damaged.</exception>
    /// <exception cref="Datasets.DataFetchException">MovieLens is missing and cannot be fetched.</exception>
    public static UserLevelResult Resume(string runDir, IProgress<ProgressUpdate>? progress = null)
    {
        var (saved, dir) = TrainResume.Load<UserLevelSettings>(runDir, command => command == Command);
        return Run(saved with { OutDir = dir }, progress, resume: true);
    }

    /// <summary>The command of user-level runs, as settings files name it.</summary>
    internal const string Command = "experiment user-level";

    /// <summary>The checkpoint file of a private setting in progress.</summary>
    internal static string CheckpointFile(RatingTrainingMode mode) => $"{mode.Name()}-resume.bin";

    /// <summary>The done record of a finished setting: its <see cref="UserLevelOutcome"/> as JSON.</summary>
    internal static string DoneFile(RatingTrainingMode mode) => $"{mode.Name()}-done.json";

    private static UserLevelResult Run(UserLevelSettings settings, IProgress<ProgressUpdate>? progress, bool resume)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var ratings = MovieLensRatings.Load(settings.DataDir, log: m => progress?.Report(ProgressUpdate.Detail(m)));
        return Run(settings, ratings, "MovieLens ratings (R package dslabs, data set movielens)", progress, resume);
    }

    /// <summary>The experiment on given ratings (tests use synthetic ones).</summary>
    internal static UserLevelResult Run(UserLevelSettings settings, IReadOnlyList<MovieRating> ratings, string source, IProgress<ProgressUpdate>? progress, bool resume = false)
    {
        settings.Validate();
        TorchRuntime.EnsureLoaded();

        // The model's tensors are small (thousands of rows of d + 1 numbers), so libtorch's intra-op thread pool costs more
        // than it gives, and far more when other processes share the cores (measured on the project's 2-core machine with
        // other runs going: 10–25× slower steps). The run uses one thread and gives the pool back as it was.
        var threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            return RunOnOneThread(settings, ratings, source, progress, resume);
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    private static UserLevelResult RunOnOneThread(UserLevelSettings settings, IReadOnlyList<MovieRating> ratings, string source, IProgress<ProgressUpdate>? progress, bool resume)
    {
        var clock = Stopwatch.StartNew();
        var runDir = RunFolder.Resolve(settings.OutDir, "user-level");
        if (!resume)
        {
            TrainResume.StartNew(
                Command,
                settings with { OutDir = runDir },
                runDir,
                [],
                settings.CommandLine,
                [.. RatingTrainingModes.All.SelectMany(m => new[] { CheckpointFile(m), DoneFile(m) })]);
        }

        var inv = CultureInfo.InvariantCulture;
        using var data = RatingData.Split(ratings, settings.HoldOut, settings.Seed, settings.Users);
        Say(progress, $"[user-level] {source}: {data.Users} users, {data.Movies} movies, {data.TrainCount} training / {data.TestCount} test ratings " +
            $"({(100 * settings.HoldOut).ToString("G3", inv)}% of each user's held out); training ratings per user: median {data.MedianTrainRatings}, " +
            $"most {data.MaxTrainRatings}; run folder {runDir}");
        if (settings.Delta >= 1.0 / data.Users)
        {
            Warn(progress, $"δ = {PrivacyStatement.Delta(settings.Delta)} is not below 1/U = {PrivacyStatement.Format(1.0 / data.Users)}: use δ ≪ 1/U.");
        }

        if (resume)
        {
            Say(progress, $"--resume: the settings, split and user subset are the run's (from {Path.Combine(runDir, TrainResume.SettingsFile)}); finished settings are not trained again");
        }

        Say(progress, $"checkpoints: each private setting's SETTING-resume.bin in {runDir} after every " +
            $"{(settings.CheckpointEvery == 1 ? "epoch" : $"{settings.CheckpointEvery} epochs")} and its last, a SETTING-done.json when it finishes " +
            $"(resume with: diffpriv {Command} --resume {runDir})");

        double ownRatingsRmse;
        using (var zero = new RatingModel(data.Movies, null, settings.Dimension, settings.Seed))
        {
            zero.Zero();
            ownRatingsRmse = data.TestRmse(zero, settings.Ridge);
        }

        Say(progress, $"[user-level] each user alone (their own ratings' ridge-shrunk mean, no shared model): test RMSE {ownRatingsRmse.ToString("F4", inv)}");
        var outcomes = new List<UserLevelOutcome>();
        foreach (var mode in settings.Modes)
        {
            var name = mode.Name();
            var donePath = Path.Combine(runDir, DoneFile(mode));
            if (resume && TrainResume.ReadDone<UserLevelOutcome>(donePath) is { } done)
            {
                outcomes.Add(done);
                Say(progress, $"[{name}] --resume: finished in an earlier attempt (test RMSE {done.TestRmse.ToString("F4", inv)}, {done.Steps} steps; from {donePath}); not trained again");
                continue;
            }

            var started = Stopwatch.StartNew();
            var h = settings.For(mode);
            using var model = new RatingModel(data.Movies, mode == RatingTrainingMode.ExampleLevel ? data.Users : null, settings.Dimension, settings.Seed);
            // A setting resumes from its checkpoint; one without (not started, or killed before its first) starts from the beginning.
            var resumable = resume && File.Exists(Path.Combine(runDir, CheckpointFile(mode)));
            var checkpoints = mode.IsPrivate() ? new RunCheckpoints(runDir, settings.CheckpointEvery, resumable, open: null, CheckpointFile(mode)) : null;
            var run = mode switch
            {
                RatingTrainingMode.NonPrivate => RatingTrainer.TrainNonPrivate(model, data, h, settings.Ridge, settings.Seed, name, progress),
                RatingTrainingMode.UserLevel => RatingTrainer.TrainUserLevel(
                    model, data, h, settings.Ridge, settings.TargetEpsilon, settings.Delta, settings.Seed, settings.SeededNoise, name, progress, checkpoints),
                _ => RatingTrainer.TrainExampleLevel(model, data, h, settings.TargetEpsilon, settings.Delta, settings.Seed, settings.SeededNoise, name, progress, checkpoints),
            };
            var rmse = data.TestRmse(model, settings.Ridge);
            IReadOnlyList<GroupPrivacyBound> bounds = mode == RatingTrainingMode.ExampleLevel
                ?
                [
                    GroupPrivacy.For("median user", data.MedianTrainRatings, run.Epsilon, settings.Delta, run.SamplingProbability!.Value, run.NoiseMultiplier!.Value, run.Steps),
                    GroupPrivacy.For("largest user", data.MaxTrainRatings, run.Epsilon, settings.Delta, run.SamplingProbability!.Value, run.NoiseMultiplier!.Value, run.Steps),
                ]
                : [];
            var outcome = new UserLevelOutcome(
                mode, rmse, run.Epsilon, mode.PrivacyUnit(), run.NoiseMultiplier, run.SamplingProbability, run.Steps, bounds, (checkpoints?.SecondsBefore ?? 0) + started.Elapsed.TotalSeconds);
            outcomes.Add(outcome);
            TrainResume.WriteDone(donePath, outcome);
            Say(progress, $"[{name}] test RMSE {rmse.ToString("F4", inv)}, privacy unit: {outcome.PrivacyUnit}, " +
                $"ε = {(mode.IsPrivate() ? PrivacyStatement.Format(run.Epsilon) : "∞")}{(mode.IsPrivate() ? $" per {outcome.PrivacyUnit}" : "")}, " +
                $"{outcome.WallSeconds.ToString("F0", inv)} s");
            foreach (var b in bounds)
            {
                Say(progress, $"[{name}] {b.User} ({b.Examples} ratings): classic group bound ε = {PrivacyStatement.Format(b.ClassicEpsilon)}, δ = 10^{b.ClassicLog10Delta.ToString("F1", inv)}; " +
                    $"RDP bound ε = {UserLevelReport.FormatEpsilon(b.AccountantEpsilon)} at δ = {PrivacyStatement.Delta(settings.Delta)} ({b.AccountantBound})");
            }
        }

        var result = new UserLevelResult(
            settings, data.Users, data.Movies, data.TrainCount, data.TestCount, data.MedianTrainRatings, data.MaxTrainRatings, ownRatingsRmse, outcomes, clock.Elapsed.TotalSeconds, runDir);
        UserLevelReport.Write(result);
        return result;
    }

    private static void Say(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Message(line));

    private static void Warn(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Warning(line));
}
