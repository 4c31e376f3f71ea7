using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

public sealed class DpOptimizerTests
{
    [Fact]
    public void NoiseOnZeroGradientsHasStdSigmaCOverExpectedBatchSize()
    {
        // Zero per-example gradients: the update is pure noise N(0, (σC)²) / (q·N) per coordinate. With SGD at lr 1,
        // θ_before − θ_after is that noise. 100 000 coordinates; accept mean and std within 3 standard errors.
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const double Sigma = 1.3, C = 2.0, B = 50;
        const long N = 1000;
        var model = nn.Sequential(("fc", nn.Linear(1000, 100)));
        var x = torch.zeros([N, 1000]);
        var y = torch.zeros([N], dtype: ScalarType.Int64);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 1.0), x, y,
            new DpSgdOptions { MaxGradNorm = C, NoiseMultiplier = Sigma, ExpectedBatchSize = B, Seed = 7 });
        var weight = model.parameters().First();
        var before = weight.detach().clone();
        // Loss that does not depend on the weights: its per-example gradients are exactly zero.
        training.Optimizer.Step(training.Loader.NextBatch(), (xb, _) => (model.call(xb) * 0).sum(1));
        var delta = (before - weight.detach()).to(ScalarType.Float64);
        var expected = Sigma * C / B;
        var n = delta.numel();
        var mean = delta.mean().item<double>();
        var std = delta.std().item<double>();
        Assert.InRange(mean, -3 * expected / Math.Sqrt(n), 3 * expected / Math.Sqrt(n));
        Assert.InRange(std, expected - (3 * expected / Math.Sqrt(2.0 * n)), expected + (3 * expected / Math.Sqrt(2.0 * n)));
    }

    [Fact]
    public void StepWithoutDpGradientThrows()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 1);
        var model = TrainingFixtures.SmallMlp(4, 1);
        var engine = new PrivacyEngine();
        using var training = engine.MakePrivate(model, optim.Adam(model.parameters()), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 10, Seed = 1 });
        // An ordinary backward does not count as a DP gradient.
        TrainingFixtures.PerExampleCrossEntropy(model, x, y).sum().backward();
        var error = Assert.Throws<InvalidOperationException>(() => training.Optimizer.step());
        Assert.Contains("Backward", error.Message);
        Assert.Equal(0, training.Optimizer.Steps);
        Assert.Equal(0.0, engine.GetEpsilon(1e-5));
    }

    [Fact]
    public void EveryStepIsAccountedExactlyOnce()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(200, 4, 2);
        var model = TrainingFixtures.SmallMlp(4, 2);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1.1, ExpectedBatchSize = 20, MaxPhysicalBatchSize = 7, Seed = 3 });
        var steps = 0;
        foreach (var batch in training.Loader.Epoch())
        {
            training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            steps++;
        }

        Assert.Equal(10, steps); // ⌈1/q⌉ = ⌈200/20⌉
        Assert.Equal(10, training.Optimizer.Steps);
        var expected = new DiffPriv.Accounting.Rdp.RdpAccountant()
            .Compose(new PoissonSampledDpEvent(0.1, new GaussianDpEvent(1.1)), 10).GetEpsilon(1e-5);
        Assert.Equal(expected, engine.GetEpsilon(1e-5), 12);
        var entry = Assert.Single(engine.Ledger.Entries);
        Assert.Equal(new PoissonSampledDpEvent(0.1, new GaussianDpEvent(1.1)), entry.Event);
        Assert.Equal(10, entry.Count);
    }

    [Fact]
    public void AFailingInnerStepIsStillAccounted()
    {
        // The noised gradient is released to the inner optimizer when it steps; if that step throws (here LBFGS, which
        // refuses to step without a closure) parameters may already have moved, so the release must be in the ledger.
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 2);
        var model = TrainingFixtures.SmallMlp(4, 2);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivate(model, optim.LBFGS(model.parameters()), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1.1, ExpectedBatchSize = 10, Seed = 5 });
        Assert.Throws<ArgumentNullException>(
            () => training.Optimizer.Step(training.Loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb)));
        var entry = Assert.Single(engine.Ledger.Entries);
        Assert.Equal(new PoissonSampledDpEvent(0.1, new GaussianDpEvent(1.1)), entry.Event);
        Assert.Equal(1, entry.Count);
        Assert.True(engine.GetEpsilon(1e-5) > 0);
    }

    [Fact]
    public void EmptyPoissonBatchStillStepsWithPureNoiseAndIsAccounted()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 3);
        var model = TrainingFixtures.SmallMlp(4, 3);
        var engine = new PrivacyEngine();
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 1, Seed = 11 });
        // q = 0.01: step every draw until one is empty (P = 0.366 per draw); a drawn batch may not be skipped.
        var batch = training.Loader.NextBatch();
        while (batch.Count > 0)
        {
            training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            batch = training.Loader.NextBatch();
        }

        var stepsBefore = engine.Ledger.TotalCount;
        var before = TrainingFixtures.Flatten(model);
        Assert.Equal(0, training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb)));
        var after = TrainingFixtures.Flatten(model);
        Assert.NotEqual(before, after); // noise moved the parameters
        Assert.Equal(stepsBefore + 1, engine.Ledger.TotalCount);
    }

    [Fact]
    public void NoTensorLeakOverFiftyDpSteps()
    {
        TorchRuntime.EnsureLoaded();
        var (x, y) = TrainingFixtures.Blobs(300, 8, 4);
        var model = TrainingFixtures.SmallMlp(8, 4);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivate(model, optim.Adam(model.parameters()), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 30, MaxPhysicalBatchSize = 16, Seed = 5 });
        void Steps(int count)
        {
            for (var i = 0; i < count; i++)
            {
                using var scope = torch.NewDisposeScope();
                training.Optimizer.Step(training.Loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            }
        }

        Steps(3); // warm-up: optimizer state (Adam moments) and gradients are allocated once
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Steps(50);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        x.Dispose();
        y.Dispose();
    }

    [Fact]
    public void NoTensorLeakOverFiftyStepsOfTheThreeLineLoopOverALazyDataset()
    {
        TorchRuntime.EnsureLoaded();
        var (x, y) = TrainingFixtures.Blobs(300, 8, 4);
        var dataset = DiffPriv.Data.IndexedDataset.Create(300, i => new Dictionary<string, Tensor> { ["x"] = x[i], ["y"] = y[i] });
        var model = TrainingFixtures.SmallMlp(8, 4);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        var (optimizer, loader) = engine.MakePrivate(model, optim.Adam(model.parameters()), dataset,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 30, Seed = 5 });
        using var owned = optimizer;
        void Steps(int count)
        {
            for (var i = 0; i < count; i++)
            {
                using var scope = torch.NewDisposeScope();
                var batch = loader.NextBatch();
                optimizer.zero_grad();
                optimizer.Backward(TrainingFixtures.PerExampleCrossEntropy(model, batch["x"], batch["y"]));
                optimizer.step();
            }
        }

        Steps(3); // warm-up: optimizer state (Adam moments) and gradients are allocated once
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Steps(50);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(53, engine.Ledger.TotalCount);
        x.Dispose();
        y.Dispose();
    }

    [Fact]
    public void OptimizerOverOtherParametersIsRefused()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(50, 4, 5);
        var model = TrainingFixtures.SmallMlp(4, 5);
        var other = TrainingFixtures.SmallMlp(4, 6);
        var error = Assert.Throws<ArgumentException>(() => new PrivacyEngine().MakePrivate(model, optim.SGD(other.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 5, Seed = 1 }));
        Assert.Contains("trainable parameters", error.Message);
    }
}
