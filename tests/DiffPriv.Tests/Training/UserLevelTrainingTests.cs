using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Data;
using DiffPriv.Noise;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

/// <summary>User-level DP-SGD (<see cref="DpSgdOptions.PrivacyUnits"/>): users are sampled, each user's examples make one clipped record.</summary>
public sealed class UserLevelTrainingTests
{
    // 12 users of 1 to 9 examples (51 in all), their examples interleaved in the data set.
    private static readonly int[] Sizes = [1, 2, 3, 4, 5, 6, 7, 8, 2, 3, 9, 1];

    private static int[] InterleavedKeys()
    {
        var keys = Sizes.SelectMany((size, user) => Enumerable.Repeat(user, size)).ToArray();
#pragma warning disable CA5394 // a fixed permutation of test data
        new Random(5).Shuffle(keys);
#pragma warning restore CA5394
        return keys;
    }

    [Fact]
    public void AUserLevelStepEqualsClippedPerUserMeanGradientsPlusTheSameNoiseOverTheExpectedUsers()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const long Seed = 23;
        const double C = 1.75, Sigma = 0.7, Lr = 0.3, B = 6;
        var keys = InterleavedKeys();
        var units = PrivacyUnits.FromKeys(keys);
        var (x, y) = TrainingFixtures.Blobs(keys.Length, 4, 8);
        var model = TrainingFixtures.SmallMlp(4, 8);
        var reference = TrainingFixtures.SmallMlp(4, 8); // same seed: same initial weights
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        // Physical batches of at most 7 rows: the 8- and 9-example users each get one of their own, never split.
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), Lr), x, y,
            new DpSgdOptions { MaxGradNorm = C, NoiseMultiplier = Sigma, ExpectedBatchSize = B, PrivacyUnits = units, MaxPhysicalBatchSize = 7, Seed = Seed });
        Assert.Equal(B, training.Loader.ExpectedBatchSize);
        Assert.Equal(12, training.Loader.UnitCount);
        var batch = training.Loader.NextBatch();
        training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));

        // Oracle: the same draws from an identically seeded gate; each user's gradient of its mean loss by ordinary backward.
        using var gate = NoiseGate.CreateSeeded(Seed);
        var sampled = gate.PoissonSample(units.Count, B / units.Count).data<long>().ToArray();
        Assert.Contains(sampled, u => Sizes[u] > 7);
        Assert.Contains(sampled, u => Sizes[u] > 1 && Sizes[u] <= 7);
        Assert.Equal(sampled.SelectMany(u => units.ExamplesOf((int)u)).ToArray(), batch.Indices.ToArray());
        var parameters = reference.named_parameters().ToList();
        var sums = parameters.Select(p => torch.zeros_like(p.parameter)).ToArray();
        var clipped = 0;
        var norms = new List<double>();
        foreach (var user in sampled)
        {
            reference.zero_grad();
            var idx = torch.tensor(units.ExamplesOf((int)user).ToArray());
            TrainingFixtures.PerExampleCrossEntropy(reference, x.index_select(0, idx), y.index_select(0, idx)).mean().backward();
            var norm = Math.Sqrt(parameters.Sum(p => p.parameter.grad!.square().sum().item<float>()));
            var factor = Math.Min(1.0, C / (norm + 1e-6));
            norms.Add(norm);
            clipped += factor < 1 ? 1 : 0;
            for (var i = 0; i < sums.Length; i++)
            {
                sums[i].add_(parameters[i].parameter.grad! * factor);
            }
        }

        Assert.True(clipped >= 1 && clipped < sampled.Length, $"both sides of the clipping threshold must be exercised; user gradient norms {string.Join(", ", norms)}");
        var trained = model.named_parameters().ToList();
        for (var i = 0; i < sums.Length; i++)
        {
            var noise = gate.Gaussian(parameters[i].parameter.shape, Sigma * C);
            var expected = parameters[i].parameter.detach() - ((sums[i] + noise) * (Lr / B));
            var error = (trained[i].parameter.detach() - expected).norm().item<float>() / expected.norm().item<float>();
            Assert.True(error < 1e-5, $"{parameters[i].name}: relative error {error}");
        }

        // A whole user moves the sum by at most C: Gaussian(σ), sampled with q over users.
        Assert.Equal(new PoissonSampledDpEvent(B / units.Count, new GaussianDpEvent(Sigma)), Assert.Single(engine.Ledger.Entries).Event);
    }

    /// <summary>
    /// The guarantee itself: the released sum of a data set with user 0 and of the same data set without user 0 differ by
    /// at most C, however many examples user 0 has and however large their gradients. Example-level clipping of the same
    /// data does not bound it (each of the user's examples adds up to C).
    /// </summary>
    [Fact]
    public void RemovingOneUserWithAllItsExamplesMovesTheReleasedSumByAtMostC()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const double C = 0.25;
        const int Heavy = 40;
        var (x, y) = TrainingFixtures.Blobs(Heavy + 15, 4, 3);
        x.narrow(0, 0, Heavy).mul_(40); // user 0: 40 examples with large gradients
        var keys = Enumerable.Repeat(0, Heavy).Concat(Enumerable.Range(1, 5).SelectMany(u => Enumerable.Repeat(u, 3))).ToArray();

        var userLevel = ReleasedSum(x, y, keys, C, userLevel: true) - ReleasedSum(x.narrow(0, Heavy, 15), y.narrow(0, Heavy, 15), keys[Heavy..], C, userLevel: true);
        var userNorm = userLevel.norm().item<double>();
        Assert.True(userNorm <= C * (1 + 1e-4), $"removing a user moved the sum by {userNorm} > C = {C}");
        Assert.True(userNorm >= C * 0.99, $"user 0's record should be clipped to C exactly, it moved the sum by {userNorm}");

        var exampleLevel = ReleasedSum(x, y, keys, C, userLevel: false) - ReleasedSum(x.narrow(0, Heavy, 15), y.narrow(0, Heavy, 15), keys[Heavy..], C, userLevel: false);
        Assert.True(exampleLevel.norm().item<double>() > 10 * C, "example-level clipping should let a user with 40 examples move the sum by far more than C");
    }

    /// <summary>One step with every unit sampled (q = 1), no noise and SGD at learning rate 1: the clipped sum, flattened.</summary>
    private static Tensor ReleasedSum(Tensor x, Tensor y, int[] keys, double c, bool userLevel)
    {
        var model = TrainingFixtures.SmallMlp(4, 2);
        var before = torch.tensor(TrainingFixtures.Flatten(model));
        var units = PrivacyUnits.FromKeys(keys);
        var options = new DpSgdOptions
        {
            MaxGradNorm = c,
            NoiseMultiplier = 0,
            AllowNoNoise = true,
            ExpectedBatchSize = userLevel ? units.Count : keys.Length,
            PrivacyUnits = userLevel ? units : null,
            Seed = 1,
        };
        using var training = new PrivacyEngine().MakePrivate(model, optim.SGD(model.parameters(), 1.0), x, y, options);
        var batch = training.Loader.NextBatch();
        Assert.Equal(keys.Length, batch.Count);
        training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
        return (before - torch.tensor(TrainingFixtures.Flatten(model))) * training.Optimizer.Normalizer;
    }

    [Fact]
    public void BatchesHoldWholeUsersAndEpochsAndCalibrationCountUsers()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var keys = InterleavedKeys();
        var units = PrivacyUnits.FromKeys(keys);
        var (x, y) = TrainingFixtures.Blobs(keys.Length, 4, 2);
        var model = TrainingFixtures.SmallMlp(4, 2);
        var engine = new PrivacyEngine();
        using var training = engine.MakePrivateWithEpsilon(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, ExpectedBatchSize = 3, PrivacyUnits = units, Seed = 4 }, targetEpsilon: 2, targetDelta: 1e-3, epochs: 2);
        var plan = training.Schedule!;
        Assert.Equal(12, plan.DatasetSize); // the plan counts users
        Assert.Equal(8, plan.TotalSteps);   // ⌈2 · 12/3⌉
        Assert.Equal(4, training.Loader.StepsPerEpoch);
        var steps = 0;
        var usersSeen = 0L;
        for (var epoch = 0; epoch < 2; epoch++)
        {
            foreach (var batch in training.Loader)
            {
                using var stepScope = torch.NewDisposeScope();
                var byUser = batch.Indices.GroupBy(i => units.UnitOf(i)).ToList();
                Assert.All(byUser, g => Assert.Equal(units.ExamplesOf(g.Key), g.Order().ToArray()));
                usersSeen += byUser.Count;
                training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
                steps++;
            }
        }

        Assert.Equal(8, steps);
        Assert.True(usersSeen > 0);
        var sigma = training.Options.NoiseMultiplier;
        var entry = Assert.Single(engine.Ledger.Entries);
        Assert.Equal((new PoissonSampledDpEvent(3.0 / 12, new GaussianDpEvent(sigma)), 8L), (entry.Event, entry.Count));
        Assert.InRange(engine.GetEpsilon(1e-3), 1.9, 2.0); // calibrated for ε = 2 over the 8 user-level steps
    }

    [Fact]
    public void UserLevelTrainingRefusesWhatWouldBreakItsGuarantee()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var keys = InterleavedKeys();
        var units = PrivacyUnits.FromKeys(keys);
        var (x, y) = TrainingFixtures.Blobs(keys.Length, 4, 2);
        var model = TrainingFixtures.SmallMlp(4, 2);
        var options = new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 3, PrivacyUnits = units, Seed = 4 };
        var engine = new PrivacyEngine();

        var tooMany = Assert.Throws<ArgumentException>(() => engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y, options with { ExpectedBatchSize = 13 }));
        Assert.Contains("U = 12", tooMany.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y, options with { Microbatches = 2 }));
        var mismatch = Assert.Throws<ArgumentException>(() => engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x.narrow(0, 0, 50), y.narrow(0, 0, 50), options));
        Assert.Contains("51 examples", mismatch.Message, StringComparison.Ordinal);

        // The three-line loop cannot group a user's examples: it is refused, pointing at Step(batch, loss).
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y, options);
        var batch = training.Loader.NextBatch();
        training.Optimizer.zero_grad();
        var loss = TrainingFixtures.PerExampleCrossEntropy(model, batch["data"], batch["label"]);
        var e = Assert.Throws<InvalidOperationException>(() => training.Optimizer.Backward(loss));
        Assert.Contains("Step(batch, lossFunction)", e.Message, StringComparison.Ordinal);
        Assert.Empty(engine.Ledger.Entries);
    }
}
