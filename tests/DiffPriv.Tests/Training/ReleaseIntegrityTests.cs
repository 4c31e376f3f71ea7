using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Data;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using DiffPriv.Queries;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

/// <summary>
/// What the ledger says must be what was released: one step is one fresh Poisson draw, a failed step releases nothing
/// and leaves nothing behind, and checkpoints never shrink the ledger.
/// </summary>
public sealed class ReleaseIntegrityTests
{
    private const long N = 60;

    public ReleaseIntegrityTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ABatchCannotBeSteppedTwice()
    {
        using var scope = torch.NewDisposeScope();
        var (engine, training, model) = Make();
        var batch = training.Loader.NextBatch();
        training.Optimizer.Step(batch, Loss(model));
        Assert.Throws<InvalidOperationException>(() => training.Optimizer.Step(batch, Loss(model)));
        Assert.Equal(1, engine.Ledger.TotalCount);
    }

    [Fact]
    public void OnlyTheLatestDrawCanBeStepped()
    {
        using var scope = torch.NewDisposeScope();
        var (engine, training, model) = Make();
        var first = training.Loader.NextBatch();
        var second = training.Loader.NextBatch();
        Assert.Throws<InvalidOperationException>(() => training.Optimizer.Step(first, Loss(model)));
        Assert.Throws<InvalidOperationException>(() => training.Optimizer.Step(second, Loss(model))); // two draws for one step
        Assert.Equal(0, engine.Ledger.TotalCount);
    }

    [Fact]
    public void TwoDrawsCannotBeCombinedInOneThreeLineStep()
    {
        using var scope = torch.NewDisposeScope();
        var (engine, training, model) = Make();
        var (optimizer, loader) = training;
        var first = loader.NextBatch();
        optimizer.zero_grad();
        optimizer.Backward(TrainingFixtures.PerExampleCrossEntropy(model, first["data"], first["label"]));
        var second = loader.NextBatch();
        var error = Assert.Throws<InvalidOperationException>(() =>
            optimizer.Backward(TrainingFixtures.PerExampleCrossEntropy(model, second["data"], second["label"])));
        Assert.Contains("exactly one batch newly drawn", error.Message);
        Assert.Equal(0, engine.Ledger.TotalCount);
    }

    [Fact]
    public void ABatchFromAnotherLoaderIsRefused()
    {
        using var scope = torch.NewDisposeScope();
        var (engine, training, model) = Make();
        var (x, y) = TrainingFixtures.Blobs(N, 4, 3);
        using var gate = NoiseGate.CreateSeeded(9);
        var other = new PoissonDataLoader(x, y, 0.2, 16, gate);
        Assert.Throws<InvalidOperationException>(() => training.Optimizer.Step(other.NextBatch(), Loss(model)));
        Assert.Equal(0, engine.Ledger.TotalCount);
    }

    [Fact]
    public void AStepThatFailsMidBatchLeavesNothingForTheNextRelease()
    {
        using var scope = torch.NewDisposeScope();
        var counting = new CountingQuery(new GaussianSumQuery(ClippingOptions.Flat(1.0), 1.0));
        var (engine, training, model) = Make(new DpSgdOptions
        {
            MaxGradNorm = 1,
            ExpectedBatchSize = 20,
            MaxPhysicalBatchSize = 3,
            Seed = 4,
            Query = counting,
        });
        var first = training.Loader.NextBatch();
        Assert.True(first.Count > 3, "the first batch has a second chunk");
        var chunks = 0;
        Assert.Throws<NonFiniteGradientException>(() => training.Optimizer.Step(first, (xb, yb) =>
        {
            var loss = TrainingFixtures.PerExampleCrossEntropy(model, xb, yb);
            return ++chunks == 2 ? loss * double.NaN : loss; // the second chunk's gradients are NaN
        }));
        Assert.Equal(0, engine.Ledger.TotalCount);
        Assert.Empty(counting.ReleasedRecords);

        var second = training.Loader.NextBatch();
        training.Optimizer.Step(second, Loss(model));
        Assert.Equal([second.Count], counting.ReleasedRecords); // nothing of the failed batch rode along
        Assert.Equal(1, engine.Ledger.TotalCount);
    }

    [Fact]
    public void AnEventTheLedgerRefusesLeavesTheModelUntouched()
    {
        using var scope = torch.NewDisposeScope();
        var (engine, training, model) = Make(new DpSgdOptions
        {
            MaxGradNorm = 1,
            ExpectedBatchSize = 20,
            Seed = 4,
            Query = new UnsupportedEventQuery(),
        });
        var before = TrainingFixtures.Flatten(model);
        var batch = training.Loader.NextBatch();
        Assert.Throws<UnsupportedDpEventException>(() => training.Optimizer.Step(batch, Loss(model)));
        Assert.Equal(before, TrainingFixtures.Flatten(model));
        Assert.All(model.parameters(), p => Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0));
        Assert.Equal(0, engine.Ledger.TotalCount);
    }

    [Fact]
    public void ACustomQueryCannotBeCombinedWithMicrobatchesUnlessItAccountsForThem()
    {
        using var scope = torch.NewDisposeScope();
        var perExample = new GaussianSumQuery(ClippingOptions.Flat(1.0), 1.0);
        var error = Assert.Throws<ArgumentException>(() => Make(new DpSgdOptions
        {
            MaxGradNorm = 1,
            ExpectedBatchSize = 20,
            Microbatches = 5,
            Query = perExample,
        }));
        Assert.Contains("recordsAreMicrobatches", error.Message);

        var (engine, training, model) = Make(new DpSgdOptions
        {
            MaxGradNorm = 1,
            ExpectedBatchSize = 20,
            Microbatches = 5,
            Seed = 2,
            Query = new GaussianSumQuery(ClippingOptions.Flat(1.0), 1.0, recordsAreMicrobatches: true),
        });
        training.Optimizer.Step(training.Loader.NextBatch(), Loss(model));
        Assert.Equal(new PoissonSampledDpEvent(20.0 / N, new GaussianDpEvent(0.5)), engine.Ledger.Entries[0].Event);
    }

    [Fact]
    public void RollingBackToACheckpointKeepsEveryReleaseInTheLedger()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("diffpriv-rollback-");
        try
        {
            var path = Path.Combine(dir.FullName, "early.bin");
            var (engine, training, model) = Make(planSteps: 10);
            Steps(training, model, 5);
            engine.SaveCheckpoint(path, training);
            var early = TrainingFixtures.Flatten(model);
            Steps(training, model, 5);
            var epsilon = engine.GetEpsilon(1e-5);

            engine.LoadCheckpoint(path, training);
            Assert.Equal(early, TrainingFixtures.Flatten(model));      // the model goes back …
            Assert.Equal(10, engine.Ledger.TotalCount);                // … the releases stay
            Assert.Equal(epsilon, engine.GetEpsilon(1e-5));
            Assert.Equal(10, training.Optimizer.Steps);
            Assert.Throws<StepPlanExceededException>(() => Steps(training, model, 1)); // and the plan stays used up

            // Into a fresh engine, the checkpoint's own ledger comes along.
            var (fresh, freshTraining, freshModel) = Make(planSteps: 10);
            fresh.LoadCheckpoint(path, freshTraining);
            Assert.Equal(5, fresh.Ledger.TotalCount);
            Assert.Equal(5, freshTraining.Optimizer.Steps);
            Assert.Equal(early, TrainingFixtures.Flatten(freshModel));
            Steps(freshTraining, freshModel, 5);
            Assert.Equal(10, fresh.Ledger.TotalCount);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ACheckpointThatDoesNotFitChangesNothing()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("diffpriv-misfit-");
        try
        {
            var path = Path.Combine(dir.FullName, "adam.bin");
            var (adamEngine, adamTraining, adamModel) = Make(optimizerFactory: m => optim.Adam(m.parameters()));
            Steps(adamTraining, adamModel, 2);
            adamEngine.SaveCheckpoint(path, adamTraining);

            var (engine, training, model) = Make(seed: 5);
            var before = TrainingFixtures.Flatten(model);
            Assert.Throws<InvalidDataException>(() => engine.LoadCheckpoint(path, training));
            Assert.Equal(before, TrainingFixtures.Flatten(model));
            Assert.Equal(0, engine.Ledger.TotalCount);
            Assert.Equal(0, training.Optimizer.Steps);
            Steps(training, model, 1); // still usable
            Assert.Equal(1, engine.Ledger.TotalCount);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void ACheckpointOfAnotherRunIsRefused()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Directory.CreateTempSubdirectory("diffpriv-other-run-");
        try
        {
            var path = Path.Combine(dir.FullName, "other.bin");
            var (otherEngine, otherTraining, otherModel) = Make(options: new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 2, ExpectedBatchSize = 20, Seed = 8 });
            Steps(otherTraining, otherModel, 2);
            otherEngine.SaveCheckpoint(path, otherTraining);

            var (engine, training, model) = Make();
            Steps(training, model, 1);
            Assert.Throws<InvalidOperationException>(() => engine.LoadCheckpoint(path, training));
            Assert.Equal(1, engine.Ledger.TotalCount);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static Func<Tensor, Tensor, Tensor> Loss(nn.Module<Tensor, Tensor> model) =>
        (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb);

    private static void Steps(PrivateTraining training, nn.Module<Tensor, Tensor> model, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var scope = torch.NewDisposeScope();
            training.Optimizer.Step(training.Loader.NextBatch(), Loss(model));
        }
    }

    private static (PrivacyEngine Engine, PrivateTraining Training, nn.Module<Tensor, Tensor> Model) Make(
        DpSgdOptions? options = null,
        long? planSteps = null,
        Func<nn.Module<Tensor, Tensor>, optim.Optimizer>? optimizerFactory = null,
        long seed = 3)
    {
        var (x, y) = TrainingFixtures.Blobs(N, 4, 3);
        var model = TrainingFixtures.SmallMlp(4, seed);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        options ??= new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 20, Seed = 4 };
        if (planSteps is { } steps)
        {
            options = options with { Steps = steps };
        }

        var optimizer = optimizerFactory?.Invoke(model) ?? optim.SGD(model.parameters(), 0.1);
        return (engine, engine.MakePrivate(model, optimizer, x, y, options), model);
    }

    /// <summary>Delegates to a query and records how many records every release summed.</summary>
    private sealed class CountingQuery(IDpQuery inner) : IDpQuery
    {
        public List<long> ReleasedRecords { get; } = [];

        public double NoiseMultiplier => inner.NoiseMultiplier;

        public IDpQuery WithNoiseMultiplier(double noiseMultiplier) => new CountingQuery(inner.WithNoiseMultiplier(noiseMultiplier));

        public DpEvent PlannedEvent(double samplingProbability, long steps) => inner.PlannedEvent(samplingProbability, steps);

        public object? InitialGlobalState() => inner.InitialGlobalState();

        public DpSampleParameters DeriveSampleParameters(object? globalState, DpStepInfo stepInfo) => inner.DeriveSampleParameters(globalState, stepInfo);

        public DpQueryState InitialSampleState(DpSampleParameters parameters) => inner.InitialSampleState(parameters);

        public void Accumulate(DpQueryState state, DpSampleParameters parameters, ClippedSumResult clipped) => inner.Accumulate(state, parameters, clipped);

        public DpQueryRelease GetNoisedResult(
            DpQueryState state, object? globalState, DpStepInfo stepInfo, NoiseGate gate, IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes)
        {
            ReleasedRecords.Add(state.RecordCount);
            return inner.GetNoisedResult(state, globalState, stepInfo, gate, shapes);
        }
    }

    /// <summary>A Gaussian sum whose event the add/remove ledger cannot analyse (stands for a buggy custom query).</summary>
    private sealed class UnsupportedEventQuery : IDpQuery
    {
        private static readonly DpEvent Unsupported = new SampledWithoutReplacementDpEvent(N, 20, new GaussianDpEvent(1.0));

        private readonly GaussianSumQuery _inner = new(ClippingOptions.Flat(1.0), 1.0);

        public double NoiseMultiplier => 1.0;

        public IDpQuery WithNoiseMultiplier(double noiseMultiplier) => this;

        public DpEvent PlannedEvent(double samplingProbability, long steps) => Unsupported;

        public object? InitialGlobalState() => null;

        public DpSampleParameters DeriveSampleParameters(object? globalState, DpStepInfo stepInfo) => new(ClippingOptions.Flat(1.0));

        public DpQueryState InitialSampleState(DpSampleParameters parameters) => new();

        public void Accumulate(DpQueryState state, DpSampleParameters parameters, ClippedSumResult clipped) => state.Add(clipped.Gradients, clipped.BatchSize);

        public DpQueryRelease GetNoisedResult(
            DpQueryState state, object? globalState, DpStepInfo stepInfo, NoiseGate gate, IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes) =>
            new(GaussianSumQuery.AddNoise(state, gate, shapes, _inner.NoiseStandardDeviation), null, Unsupported);
    }

}
