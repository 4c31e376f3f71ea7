using System.Collections;
using System.Reflection;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

/// <summary>The drop-in training API: dictionary batches, the TorchSharp-style loop, lazy data sets, schedulers, disposal.</summary>
public sealed class DropInApiTests
{
    public enum TrainingLoop
    {
        /// <summary>zero_grad(); loss = model(batch); Backward(loss); step().</summary>
        ThreeLine,

        /// <summary>The forward first, then zero_grad() (it must not drop the recorded forward), Backward, step().</summary>
        ZeroGradAfterForward,

        /// <summary>Step(batch, chunk => loss) in physical chunks of at most MaxPhysicalBatchSize examples.</summary>
        Chunked,

        /// <summary>zero_grad(); step(closure) whose closure runs the forward and Backward (TorchSharp's closure form).</summary>
        Closure,
    }

    public static TheoryData<TrainingLoop, double> LoopsAndNoise() => new()
    {
        { TrainingLoop.ThreeLine, 0.0 },
        { TrainingLoop.ZeroGradAfterForward, 0.0 },
        { TrainingLoop.Chunked, 0.0 },
        { TrainingLoop.Closure, 0.0 },
        { TrainingLoop.ThreeLine, 0.6 },
        { TrainingLoop.Chunked, 0.6 },
    };

    private static void RunStep(TrainingLoop loop, Optim.DpOptimizer optimizer, TwoInputNet model, DiffPriv.Data.LogicalBatch batch)
    {
        switch (loop)
        {
            case TrainingLoop.ThreeLine:
                optimizer.zero_grad();
                optimizer.Backward(DropInFixtures.PerExampleLoss(model, batch));
                optimizer.step();
                break;
            case TrainingLoop.ZeroGradAfterForward:
                var loss = DropInFixtures.PerExampleLoss(model, batch);
                optimizer.zero_grad();
                optimizer.Backward(loss);
                optimizer.step();
                break;
            case TrainingLoop.Closure:
                optimizer.zero_grad();
                optimizer.step(() =>
                {
                    var closureLoss = DropInFixtures.PerExampleLoss(model, batch);
                    optimizer.Backward(closureLoss);
                    return closureLoss.sum();
                });
                break;
            default:
                optimizer.Step(batch, chunk =>
                {
                    Assert.InRange(chunk[DropInFixtures.Label].shape[0], 1, batch.MaxPhysicalBatchSize);
                    return DropInFixtures.PerExampleLoss(model, chunk);
                });
                break;
        }
    }

    [Theory]
    [MemberData(nameof(LoopsAndNoise))]
    public void TwoInputDictionaryStepEqualsThePerExampleLoopOracle(TrainingLoop loop, double sigma)
    {
        // One step over a lazy dictionary data set with a two-input model. SGD at lr 1: B·(θ_before − θ_after) must be
        // Σ_i clip_C(g_i) (+ the noise), with g_i from ordinary backward one example at a time, the indices and the noise
        // re-drawn from an identically seeded gate (sampling first, then noise, as the engine does).
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const long N = 40, Seed = 1;
        const double B = 10;
        var data = DropInFixtures.TwoInputData(N, 3);
        var model = new TwoInputNet(5);
        var reference = new TwoInputNet(5);

        using var gate = NoiseGate.CreateSeeded(Seed);
        var indices = gate.PoissonSample(N, B / N).data<long>().ToArray();
        Assert.True(indices.Length >= 4, $"the seeded draw has {indices.Length} examples");
        // C = the median per-example norm: some examples are clipped, some are not.
        var (_, norms) = DropInFixtures.ClippedSumOracle(reference, data, indices, double.PositiveInfinity);
        var c = norms.Order().ElementAt(norms.Length / 2);
        Assert.Contains(norms, n => n > c * 1.01);
        Assert.Contains(norms, n => n < c * 0.99);
        var (expected, _) = DropInFixtures.ClippedSumOracle(reference, data, indices, c);
        foreach (var (name, p) in reference.named_parameters())
        {
            expected[name].add_(gate.Gaussian(p.shape, sigma * c).to(ScalarType.Float64));
        }

        var engine = new PrivacyEngine();
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters(), 1.0), DropInFixtures.LazyDataset(data),
            new DpSgdOptions { MaxGradNorm = c, NoiseMultiplier = sigma, AllowNoNoise = sigma == 0, ExpectedBatchSize = B, MaxPhysicalBatchSize = 3, Seed = Seed });
        using (optimizer)
        {
            var before = DropInFixtures.Snapshot(model);
            var batch = loader.First();
            Assert.Equal(indices, batch.Indices);
            RunStep(loop, optimizer, model, batch);
            var after = DropInFixtures.Snapshot(model);
            foreach (var (name, sum) in expected)
            {
                var update = before[name].sub(after[name]).mul(B);
                var error = DropInFixtures.RelativeError(update, sum);
                Assert.True(error < 1e-5, $"{loop}, σ = {sigma}, {name}: relative error {error}");
            }
        }

        DpEvent expectedEvent = sigma == 0 ? new NonPrivateDpEvent() : new PoissonSampledDpEvent(B / N, new GaussianDpEvent(sigma));
        Assert.Equal((expectedEvent, 1L), Assert.Single(engine.Ledger.Entries));
    }

    [Theory]
    [InlineData(TrainingLoop.ThreeLine)]
    [InlineData(TrainingLoop.Chunked)]
    public void LazyDatasetIsReadOnlyAtTheSampledIndices(TrainingLoop loop)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const long N = 60;
        var data = DropInFixtures.TwoInputData(N, 4);
        var reads = new List<long>();
        var model = new TwoInputNet(6);
        var engine = new PrivacyEngine();
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), DropInFixtures.LazyDataset(data, reads),
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 12, MaxPhysicalBatchSize = 4, Seed = 2 });
        using (optimizer)
        {
            Assert.Empty(reads);
            var sampled = new List<long>();
            for (var epoch = 0; epoch < 2; epoch++)
            {
                foreach (var batch in loader)
                {
                    using var stepScope = torch.NewDisposeScope();
                    sampled.AddRange(batch.Indices);
                    RunStep(loop, optimizer, model, batch);
                }
            }

            Assert.Equal(10, optimizer.Steps); // 2 epochs of ⌈N/B⌉ = 5
            Assert.NotEmpty(sampled);
            Assert.Equal(sampled.Order(), reads.Order());
        }
    }

    /// <summary>Variable-length examples (a TorchSharp Dataset&lt;T&gt; that is not a dictionary); every read is logged.</summary>
    private sealed class VariableLengthDataset(float[][] features, long[] labels, List<long> reads) : utils.data.Dataset<(float[] Features, long Label)>
    {
        public override long Count => features.Length;

        public override (float[] Features, long Label) GetTensor(long index)
        {
            reads.Add(index);
            return (features[index], labels[index]);
        }
    }

    [Fact]
    public void GenericDatasetWithCollateIsReadOnlyAtTheSampledIndicesAndBatchesHaveTheCollateKeys()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const int N = 50, Width = 5;
        var random = new Random(3);
        var features = Enumerable.Range(0, N).Select(_ => Enumerable.Range(0, random.Next(1, Width + 1)).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var labels = Enumerable.Range(0, N).Select(i => (long)(i % 2)).ToArray();
        var reads = new List<long>();
        var collated = new List<int>();
        Dictionary<string, Tensor> Collate(IReadOnlyList<(float[] Features, long Label)> examples, Device device)
        {
            collated.Add(examples.Count);
            var padded = new float[examples.Count * Width];
            for (var i = 0; i < examples.Count; i++)
            {
                examples[i].Features.CopyTo(padded, i * Width);
            }

            return new Dictionary<string, Tensor>
            {
                ["padded"] = torch.tensor(padded, [examples.Count, Width], device: device),
                ["target"] = torch.tensor(examples.Select(e => e.Label).ToArray(), device: device),
            };
        }

        var model = nn.Sequential(("fc", nn.Linear(Width, 2)));
        var engine = new PrivacyEngine();
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), new VariableLengthDataset(features, labels, reads), Collate,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 10, MaxPhysicalBatchSize = 4, Seed = 9 });
        using (optimizer)
        {
            Assert.Empty(reads);
            var sampled = new List<long>();
            foreach (var batch in loader)
            {
                using var stepScope = torch.NewDisposeScope();
                sampled.AddRange(batch.Indices);
                optimizer.Step(batch, chunk => nn.functional.cross_entropy(model.call(chunk["padded"]), chunk["target"], reduction: nn.Reduction.None));
            }

            Assert.Equal(5, optimizer.Steps);
            Assert.Equal(sampled.Order(), reads.Order());
            Assert.All(collated, count => Assert.InRange(count, 1, 4));

            var next = loader.NextBatch();
            Assert.Equal(["padded", "target"], next.Keys.Order());
            Assert.True(next.ContainsKey("padded"));
            Assert.Equal([next.Count, Width], next["padded"].shape);
            var error = Assert.Throws<KeyNotFoundException>(() => next["data"]);
            Assert.Contains("padded", error.Message);
        }
    }

    [Fact]
    public void LearningRateSchedulerOnTheDpOptimizerChangesTheInnerRate()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 1);
        var model = TrainingFixtures.SmallMlp(4, 1);
        var inner = optim.SGD(model.parameters(), 0.4);
        var engine = new PrivacyEngine();
        var (optimizer, loader) = engine.MakePrivate(model, inner, x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 10, Seed = 1 });
        using (optimizer)
        {
            var scheduler = optim.lr_scheduler.StepLR(optimizer, 1, 0.5);
            Assert.Equal(0.4, inner.ParamGroups.Single().LearningRate, 12);
            foreach (var expected in new[] { 0.2, 0.1 })
            {
                var batch = loader.NextBatch();
                optimizer.zero_grad();
                optimizer.Backward(TrainingFixtures.PerExampleCrossEntropy(model, batch["data"], batch["label"]));
                optimizer.step();
                scheduler.step();
                Assert.Equal(expected, inner.ParamGroups.Single().LearningRate, 12);
                Assert.Equal(expected, optimizer.ParamGroups.Single().LearningRate, 12);
            }
        }
    }

    [Fact]
    public void SigmaZeroWithoutTheOptInIsRefusedNamingAllowNoNoise()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 1);
        var model = TrainingFixtures.SmallMlp(4, 1);
        var error = Assert.Throws<ArgumentException>(() => new PrivacyEngine().MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 0, ExpectedBatchSize = 10, Seed = 1 }));
        Assert.Contains("AllowNoNoise", error.Message);
    }

    [Theory]
    [InlineData(AccountantKind.Pld)]
    [InlineData(AccountantKind.Rdp)]
    public void ClippingOnlyModeRecordsNonPrivateStepsAndEpsilonIsInfinite(AccountantKind accountant)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 1);
        var model = TrainingFixtures.SmallMlp(4, 1);
        var engine = new PrivacyEngine(accountant);
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 0, AllowNoNoise = true, ExpectedBatchSize = 10, Seed = 1 });
        using (optimizer)
        {
            Assert.Equal(0.0, engine.GetEpsilon(1e-5));
            foreach (var batch in loader.Take(3))
            {
                optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            }
        }

        Assert.Equal((new NonPrivateDpEvent(), 3L), Assert.Single(engine.Ledger.Entries));
        Assert.Equal(double.PositiveInfinity, engine.GetEpsilon(1e-5));
        Assert.Equal(new Accounting.Pld.EpsilonInterval(double.PositiveInfinity, double.PositiveInfinity), engine.GetEpsilonInterval(1e-5));
    }

    [Theory]
    [InlineData(1e-5)]
    [InlineData(1e-3)]
    public void EpsilonIntervalBracketsThePldEpsilon(double delta)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 2);
        var model = TrainingFixtures.SmallMlp(4, 2);
        var engine = new PrivacyEngine(AccountantKind.Pld);
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 0.9, ExpectedBatchSize = 10, Seed = 1 });
        using (optimizer)
        {
            foreach (var batch in loader)
            {
                optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            }
        }

        var epsilon = engine.GetEpsilon(delta);
        var interval = engine.GetEpsilonInterval(delta);
        Assert.True(epsilon > 0 && double.IsFinite(epsilon));
        Assert.True(interval.Lower <= epsilon && epsilon <= interval.Upper, $"ε = {epsilon} outside [{interval.Lower}, {interval.Upper}]");
        Assert.True(interval.Lower > 0.9 * interval.Upper, $"[{interval.Lower}, {interval.Upper}] is too wide to be a bracket of the discretisation");
        // The same answer from an RDP engine's ledger: the interval is always the PLD one.
        var rdp = new PrivacyEngine(AccountantKind.Rdp);
        foreach (var (dpEvent, count) in engine.Ledger.Entries)
        {
            rdp.Ledger.Record(dpEvent, count);
        }

        Assert.Equal(interval, rdp.GetEpsilonInterval(delta));
    }

    [Fact]
    public void DisposingTheDeconstructedOptimizerRemovesTheHooks()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var data = DropInFixtures.TwoInputData(30, 7);
        var model = new TwoInputNet(8);
        var layers = model.named_modules().Where(m => m.module is nn.Module<Tensor, Tensor>).Select(m => m.module).ToList();
        Assert.Equal(4, layers.Count);
        Assert.All(layers, layer => Assert.Equal(0, ForwardHookCount(layer)));
        var engine = new PrivacyEngine();
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), DropInFixtures.LazyDataset(data),
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 10, Seed = 1 });
        Assert.All(layers, layer => Assert.Equal(1, ForwardHookCount(layer)));
        optimizer.Step(loader.NextBatch(), chunk => DropInFixtures.PerExampleLoss(model, chunk));
        optimizer.Dispose();

        Assert.All(layers, layer => Assert.Equal(0, ForwardHookCount(layer)));
        // The model is an ordinary model again: a forward with gradients and an ordinary backward work and set .grad.
        DropInFixtures.PerExampleLoss(model, data).sum().backward();
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
        Assert.Throws<ObjectDisposedException>(() => optimizer.zero_grad());
        Assert.Throws<ObjectDisposedException>(() => optimizer.Step(loader.NextBatch(), chunk => DropInFixtures.PerExampleLoss(model, chunk)));
        Assert.Equal(1, engine.Ledger.TotalCount);
    }

    /// <summary>The number of forward hooks registered on a TorchSharp module (its private post_hooks table).</summary>
    private static int ForwardHookCount(nn.Module module)
    {
        for (var type = module.GetType(); type is not null; type = type.BaseType)
        {
            var field = type.GetField("post_hooks", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
            if (field is not null)
            {
                return ((ICollection)field.GetValue(module)!).Count;
            }
        }

        throw new InvalidOperationException($"{module.GetType().Name} has no post_hooks table (TorchSharp internals changed).");
    }
}
