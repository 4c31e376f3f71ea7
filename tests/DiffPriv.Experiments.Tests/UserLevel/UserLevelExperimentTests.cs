using System.Text.Json.Nodes;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Data;
using DiffPriv.Datasets.Ratings;
using DiffPriv.Experiments.UserLevel;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Tests.UserLevel;

/// <summary>
/// The user-level experiment in CI size, on synthetic users (no download): ε is per user and is what the accountant makes
/// of PoissonSampled(q over users, Gaussian(σ)) per step; one user's whole data moves the released sum by at most C; every
/// report names the unit it protects.
/// </summary>
public sealed class UserLevelExperimentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-user-level-").FullName;

    public UserLevelExperimentTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Users with a bias and a taste vector rate 5 to 30 of 40 movies (0.5-star steps); user 1 rates 30.</summary>
    internal static List<MovieRating> SyntheticRatings(int users, int movies, long seed)
    {
#pragma warning disable CA5394 // synthetic test data
        var random = new Random((int)seed);
        var movieBias = Enumerable.Range(0, movies).Select(_ => random.NextDouble() - 0.5).ToArray();
        var movieTaste = Enumerable.Range(0, movies).Select(_ => (random.NextDouble() * 2) - 1).ToArray();
        var ratings = new List<MovieRating>();
        for (var u = 1; u <= users; u++)
        {
            var bias = random.NextDouble() - 0.5;
            var taste = (random.NextDouble() * 2) - 1;
            var count = u == 1 ? 30 : random.Next(5, 16);
            foreach (var m in Enumerable.Range(0, movies).OrderBy(_ => random.Next()).Take(count))
            {
                var value = 3.5 + bias + movieBias[m] + taste * movieTaste[m] + ((random.NextDouble() - 0.5) * 0.5);
                ratings.Add(new MovieRating(u, 100 + m, Math.Clamp(Math.Round(value * 2) / 2, 0.5, 5), 1_000_000 + ratings.Count));
            }
        }
#pragma warning restore CA5394

        return ratings;
    }

    private UserLevelSettings Tiny => new()
    {
        TargetEpsilon = 2,
        Delta = 1e-3,
        Dimension = 2,
        Ridge = 2,
        NonPrivate = new() { Epochs = 2, BatchSize = 8, LearningRate = 1e-2 },
        UserLevel = new() { Epochs = 3, BatchSize = 8, LearningRate = 1e-2, MaxGradNorm = 0.5 },
        ExampleLevel = new() { Epochs = 2, BatchSize = 60, LearningRate = 1e-2, MaxGradNorm = 0.5 },
        SeededNoise = true,
        Seed = 3,
        OutDir = Path.Combine(_dir, "run"),
        CommandLine = "diffpriv experiment user-level (test)",
    };

    [Fact]
    public void EverySettingReportsItsPrivacyUnitAndTheUserLevelEpsilonIsPerUser()
    {
        var ratings = SyntheticRatings(40, 40, 5);
        var result = UserLevelExperiment.Run(Tiny, ratings, "synthetic ratings", null);
        Assert.Equal(40, result.Users);
        Assert.Equal(ratings.Count, result.TrainRatings + result.TestRatings);
        Assert.Equal(["none", "user", "example"], result.Outcomes.Select(o => o.PrivacyUnit));

        // User-level: users sampled with q = B/U for ⌈3 · 40/8⌉ = 15 steps; ε is the accountant's for exactly that, per user.
        var user = result.Outcomes.Single(o => o.Mode == RatingTrainingMode.UserLevel);
        Assert.Equal(8.0 / 40, user.SamplingProbability);
        Assert.Equal(15, user.Steps);
        var pld = new PldAccountant();
        pld.Compose(new SelfComposedDpEvent(new PoissonSampledDpEvent(8.0 / 40, new GaussianDpEvent(user.NoiseMultiplier!.Value)), 15));
        Assert.Equal(pld.GetEpsilonInterval(1e-3).Upper, user.Epsilon, 9);
        Assert.InRange(user.Epsilon, 1.9, 2.0); // calibrated to the target, never above it
        Assert.Empty(user.GroupBounds);

        // Example-level: ratings sampled; its guarantee for a user is given as group bounds, never as the per-rating ε.
        var example = result.Outcomes.Single(o => o.Mode == RatingTrainingMode.ExampleLevel);
        Assert.Equal(60.0 / result.TrainRatings, example.SamplingProbability!.Value, 12);
        Assert.Equal(["median user", "largest user"], example.GroupBounds.Select(b => b.User));
        var largest = example.GroupBounds[1];
        Assert.Equal(27, largest.Examples); // user 1: 30 ratings, 3 held out
        Assert.Equal(27 * example.Epsilon, largest.ClassicEpsilon, 9);
        Assert.True(largest.AccountantEpsilon > example.Epsilon);
        Assert.All(result.Outcomes, o => Assert.True(double.IsFinite(o.TestRmse) && o.TestRmse is > 0 and < 4.5, $"{o.Mode}: RMSE {o.TestRmse}"));

        // The reports say which unit each ε protects.
        var report = File.ReadAllText(Path.Combine(result.RunDir, "report.md"));
        Assert.Contains("privacy unit: **user**. Adding or removing one user together with ALL their ratings", report, StringComparison.Ordinal);
        Assert.Contains("privacy unit: **example** (one rating)", report, StringComparison.Ordinal);
        Assert.Contains("per user |", report, StringComparison.Ordinal);
        Assert.Contains("## What example-level ε means for a user", report, StringComparison.Ordinal);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(result.RunDir, "results.json")))!;
        Assert.Equal(["none", "user", "example"], json["results"]!.AsArray().Select(r => r!["privacy_unit"]!.GetValue<string>()));
        Assert.Equal(2, json["results"]![2]!["group_bounds"]!.AsArray().Count);
        Assert.Equal("diffpriv experiment user-level (test)\n", File.ReadAllText(Path.Combine(result.RunDir, "command.txt")));
    }

    /// <summary>
    /// The guarantee of the experiment's own step (the user's vector solved from their ratings, then their ratings as one
    /// record): the released sums with and without user 0 — all 40 of its ratings, far from every prediction — differ by
    /// at most C, and by C itself, since its record is clipped.
    /// </summary>
    [Fact]
    public void OneUsersWholeDataMovesTheReleasedSumByAtMostC()
    {
        using var scope = torch.NewDisposeScope();
        const double C = 0.3;
        var users = new List<long>();
        var movies = new List<long>();
        var stars = new List<float>();
        for (var i = 0; i < 40; i++)
        {
            (users, movies, stars).Add(0, i % 20, i % 2 == 0 ? 0.5f : 5f); // user 0: extreme ratings of every movie, twice
        }

        for (var u = 1; u <= 6; u++)
        {
            for (var j = 0; j < 4; j++)
            {
                (users, movies, stars).Add(u, (u * 3) + j, 3.5f);
            }
        }

        var with = ReleasedSum(users, movies, stars, C);
        var without = ReleasedSum(users[40..], movies[40..], stars[40..], C);
        var moved = (with - without).norm().item<double>();
        Assert.True(moved <= C * (1 + 1e-4), $"removing user 0 moved the released sum by {moved} > C = {C}");
        Assert.True(moved >= C * 0.99, $"user 0's record should be clipped to exactly C; it moved the sum by {moved}");
    }

    /// <summary>One user-level step of the experiment with every user sampled, no noise, SGD at rate 1: the clipped sum.</summary>
    private static Tensor ReleasedSum(List<long> users, List<long> movies, List<float> stars, double c)
    {
        using var model = new RatingModel(20 + 30, null, 3, seed: 9);
        var before = Flatten(model);
        var inputs = torch.stack([torch.tensor(users.ToArray()), torch.tensor(movies.ToArray())], 1);
        var units = PrivacyUnits.FromKeys(users);
        var options = RatingTrainer.Options(new() { Epochs = 1, BatchSize = units.Count, LearningRate = 1, MaxGradNorm = c }, seed: 1)
            with
        { PrivacyUnits = units, NoiseMultiplier = 0, AllowNoNoise = true };
        using var training = new PrivacyEngine().MakePrivate(model, optim.SGD(model.parameters(), 1.0), inputs, torch.tensor(stars.ToArray()), options);
        var batch = training.Loader.NextBatch();
        Assert.Equal(users.Count, batch.Count);
        RatingTrainer.UserLevelStep(training.Optimizer, model, batch, ridge: 1.0, users: 7);
        return (before - Flatten(model)) * training.Optimizer.Normalizer;
    }

    private static Tensor Flatten(nn.Module model) => torch.cat(model.parameters().Select(p => p.detach().flatten().to(ScalarType.Float64)).ToList()).clone();

    // Golden values: dp_accounting's RdpAccountant (google/differential-privacy, python/dp_accounting/dp_accounting/rdp/
    // rdp_privacy_accountant.py, commit b5b0286e313b64a692abfc8c528d54ef47d960a0) at δ = 1e-5 for q = 0.05, σ = 1.2,
    // T = 50, k = 5: SelfComposed(PoissonSampled(q, Gaussian(σ/√5)), 250) → 26.140879534871026;
    // SelfComposed(PoissonSampled(1 − 0.95^5, Gaussian(σ/5)), 50) → 304.5161740408997; and for k = 1,
    // SelfComposed(PoissonSampled(q, Gaussian(σ)), 50) → 2.149771057817212. Its PLD accountant gives the exact per-user
    // ε of the mixture Σ_j Binomial(5, q)(j)·N(j, σ²) (MixtureOfGaussiansDpEvent) as 11.4459: a valid bound is never below it.
    [Fact]
    public void GroupBoundsMatchDpAccountingAndReduceToTheExampleGuaranteeForOneExample()
    {
        var (epsilon, bound) = GroupPrivacy.Accountant(0.05, 1.2, 50, 5, 1e-5);
        Assert.Equal("composition", bound);
        Assert.Equal(26.140879534871026, epsilon, 4);
        Assert.True(epsilon >= 11.4459);
        Assert.Equal(304.5161740408997, GroupPrivacy.AllOrNothing(0.05, 1.2, 50, 5, 1e-5), 3);
        Assert.Equal(2.149771057817212, GroupPrivacy.AllOrNothing(0.05, 1.2, 50, 1, 1e-5), 4);
        Assert.Equal(2.149771057817212, GroupPrivacy.Accountant(0.05, 1.2, 50, 1, 1e-5).Epsilon, 4);

        var (classicEpsilon, log10Delta) = GroupPrivacy.Classic(2.0, 1e-5, 5);
        Assert.Equal(10.0, classicEpsilon);
        Assert.Equal(Math.Log10(5 * Math.Exp(8) * 1e-5), log10Delta, 12);
        Assert.Equal((2.0, -5.0), GroupPrivacy.Classic(2.0, 1e-5, 1));
    }
}

/// <summary>Appends one rating to three parallel lists.</summary>
internal static class RatingListExtensions
{
    public static void Add(this (List<long> Users, List<long> Movies, List<float> Stars) lists, long user, long movie, float stars)
    {
        lists.Users.Add(user);
        lists.Movies.Add(movie);
        lists.Stars.Add(stars);
    }
}
