using System.Diagnostics;
using System.Globalization;
using DiffPriv.Datasets.Ratings;
using DiffPriv.Experiments.Reports;
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
/// <para>The run folder holds <c>report.md</c>, <c>results.json</c> and <c>command.txt</c>.</para>
/// </remarks>
public static class UserLevelExperiment
{
    /// <summary>Runs the experiment: loads MovieLens (fetching it when missing), trains and tests every setting, writes the run folder.</summary>
    /// <param name="settings">The settings; validated first.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>What ran and what it measured.</returns>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    /// <exception cref="Datasets.DataFetchException">MovieLens is missing and cannot be fetched.</exception>
    public static UserLevelResult Run(UserLevelSettings settings, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var ratings = MovieLensRatings.Load(settings.DataDir, log: m => progress?.Report(ProgressUpdate.Detail(m)));
        return Run(settings, ratings, "MovieLens ratings (R package dslabs, data set movielens)", progress);
    }

    /// <summary>The experiment on given ratings (tests use synthetic ones).</summary>
    internal static UserLevelResult Run(UserLevelSettings settings, IReadOnlyList<MovieRating> ratings, string source, IProgress<ProgressUpdate>? progress)
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
            return RunOnOneThread(settings, ratings, source, progress);
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    private static UserLevelResult RunOnOneThread(UserLevelSettings settings, IReadOnlyList<MovieRating> ratings, string source, IProgress<ProgressUpdate>? progress)
    {
        var clock = Stopwatch.StartNew();
        var runDir = RunFolder.Resolve(settings.OutDir, "user-level");
        Directory.CreateDirectory(runDir);
        var inv = CultureInfo.InvariantCulture;
        using var data = RatingData.Split(ratings, settings.HoldOut, settings.Seed, settings.Users);
        Say(progress, $"[user-level] {source}: {data.Users} users, {data.Movies} movies, {data.TrainCount} training / {data.TestCount} test ratings " +
            $"({(100 * settings.HoldOut).ToString("G3", inv)}% of each user's held out); training ratings per user: median {data.MedianTrainRatings}, " +
            $"most {data.MaxTrainRatings}; run folder {runDir}");
        if (settings.Delta >= 1.0 / data.Users)
        {
            Warn(progress, $"δ = {PrivacyStatement.Delta(settings.Delta)} is not below 1/U = {PrivacyStatement.Format(1.0 / data.Users)}: use δ ≪ 1/U.");
        }

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
            var started = Stopwatch.StartNew();
            var h = settings.For(mode);
            using var model = new RatingModel(data.Movies, mode == RatingTrainingMode.ExampleLevel ? data.Users : null, settings.Dimension, settings.Seed);
            var name = mode.Name();
            var run = mode switch
            {
                RatingTrainingMode.NonPrivate => RatingTrainer.TrainNonPrivate(model, data, h, settings.Ridge, settings.Seed, name, progress),
                RatingTrainingMode.UserLevel => RatingTrainer.TrainUserLevel(
                    model, data, h, settings.Ridge, settings.TargetEpsilon, settings.Delta, settings.Seed, settings.SeededNoise, name, progress),
                _ => RatingTrainer.TrainExampleLevel(model, data, h, settings.TargetEpsilon, settings.Delta, settings.Seed, settings.SeededNoise, name, progress),
            };
            var rmse = data.TestRmse(model, settings.Ridge);
            IReadOnlyList<GroupPrivacyBound> bounds = mode == RatingTrainingMode.ExampleLevel
                ?
                [
                    GroupPrivacy.For("median user", data.MedianTrainRatings, run.Epsilon, settings.Delta, run.SamplingProbability!.Value, run.NoiseMultiplier!.Value, run.Steps),
                    GroupPrivacy.For("largest user", data.MaxTrainRatings, run.Epsilon, settings.Delta, run.SamplingProbability!.Value, run.NoiseMultiplier!.Value, run.Steps),
                ]
                : [];
            var outcome = new UserLevelOutcome(mode, rmse, run.Epsilon, mode.PrivacyUnit(), run.NoiseMultiplier, run.SamplingProbability, run.Steps, bounds, started.Elapsed.TotalSeconds);
            outcomes.Add(outcome);
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
