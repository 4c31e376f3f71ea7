using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using DiffPriv.Queries;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

/// <summary>A custom DP query's life cycle as the private optimizer drives it, and its events in the ledger.</summary>
public sealed class DpQueryLifecycleTests
{
    /// <summary>What one Accumulate call received.</summary>
    internal sealed record Accumulated(long Step, double Clip, double[] Norms, double[]? Factors, double ClippedSumNorm, long Records);

    /// <summary>
    /// A toy adaptive-clipping query: the global state is the clip norm, halved after every release. Step t adds
    /// N(0, (σ_t·C_t)²) with σ_t = σ·(1 + growth·t), and returns PoissonSampled(q, Gaussian(σ_t)) — distinct events per step
    /// when growth ≠ 0. Every call is logged as "Method step".
    /// </summary>
    internal sealed class HalvingClipQuery(double initialClip, double noiseMultiplier, double growth = 0) : IDpQuery
    {
        private long _step = -1;

        public List<string> Log { get; } = [];

        public List<Accumulated> Accumulations { get; } = [];

        public List<(DpStepInfo Info, object? GlobalState)> Derived { get; } = [];

        public List<(DpStepInfo Info, object? GlobalState, long Records)> Released { get; } = [];

        public double NoiseMultiplier => noiseMultiplier;

        public IDpQuery WithNoiseMultiplier(double sigma) => new HalvingClipQuery(initialClip, sigma, growth);

        public DpEvent StepEvent(double q, long step) => new PoissonSampledDpEvent(q, new GaussianDpEvent(noiseMultiplier * (1 + (growth * step))));

        public DpEvent PlannedEvent(double samplingProbability, long steps) => growth == 0
            ? new SelfComposedDpEvent(StepEvent(samplingProbability, 0), steps)
            : new ComposedDpEvent([.. Enumerable.Range(0, (int)steps).Select(t => StepEvent(samplingProbability, t))]);

        public object? InitialGlobalState()
        {
            Log.Add("InitialGlobalState");
            return initialClip;
        }

        public DpSampleParameters DeriveSampleParameters(object? globalState, DpStepInfo stepInfo)
        {
            _step = stepInfo.Step;
            Log.Add($"DeriveSampleParameters {_step}");
            Derived.Add((stepInfo, globalState));
            return new DpSampleParameters(ClippingOptions.Flat((double)globalState!));
        }

        public DpQueryState InitialSampleState(DpSampleParameters parameters)
        {
            Log.Add($"InitialSampleState {_step}");
            return new DpQueryState();
        }

        public void Accumulate(DpQueryState state, DpSampleParameters parameters, ClippedSumResult clipped)
        {
            Log.Add($"Accumulate {_step}");
            var sumNorm = Math.Sqrt(clipped.Gradients.Values.Sum(g => g.to(ScalarType.Float64).square().sum().item<double>()));
            Accumulations.Add(new Accumulated(
                _step,
                parameters.RecordClipping.MaxGradNorm,
                clipped.PerExampleNorms.data<double>().ToArray(),
                clipped.ClipFactors?.data<double>().ToArray(),
                sumNorm,
                clipped.BatchSize));
            state.Add(clipped.Gradients, clipped.BatchSize);
        }

        public DpQueryRelease GetNoisedResult(
            DpQueryState state,
            object? globalState,
            DpStepInfo stepInfo,
            NoiseGate gate,
            IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes)
        {
            Log.Add($"GetNoisedResult {stepInfo.Step}");
            Released.Add((stepInfo, globalState, state.RecordCount));
            var clip = (double)globalState!;
            var sigma = noiseMultiplier * (1 + (growth * stepInfo.Step));
            return new DpQueryRelease(GaussianSumQuery.AddNoise(state, gate, shapes, sigma * clip), clip / 2, StepEvent(stepInfo.SamplingProbability, stepInfo.Step));
        }
    }

    /// <summary>
    /// Tree-aggregation-like accounting: one covering event per group of releases, returned with the group's first
    /// release, null for the others. The global state is how many releases of the current group remain.
    /// </summary>
    internal sealed class CoveringEventQuery(double clip, double noiseMultiplier, IReadOnlyList<int> groupSizes) : IDpQuery
    {
        private readonly GaussianSumQuery _sum = new(ClippingOptions.Flat(clip), noiseMultiplier);

        public double NoiseMultiplier => noiseMultiplier;

        /// <summary>Group g's event: its releases as one event (σ differs per group so consecutive groups stay distinct).</summary>
        public DpEvent GroupEvent(double q, int group) =>
            new SelfComposedDpEvent(new PoissonSampledDpEvent(q, new GaussianDpEvent(noiseMultiplier + group)), groupSizes[group]);

        public IDpQuery WithNoiseMultiplier(double sigma) => new CoveringEventQuery(clip, sigma, groupSizes);

        public DpEvent PlannedEvent(double samplingProbability, long steps) =>
            new ComposedDpEvent([.. Enumerable.Range(0, groupSizes.Count).Select(g => GroupEvent(samplingProbability, g))]);

        public object? InitialGlobalState() => (Group: -1, Remaining: 0);

        public DpSampleParameters DeriveSampleParameters(object? globalState, DpStepInfo stepInfo) => new(ClippingOptions.Flat(clip));

        public DpQueryState InitialSampleState(DpSampleParameters parameters) => new();

        public void Accumulate(DpQueryState state, DpSampleParameters parameters, ClippedSumResult clipped) => _sum.Accumulate(state, parameters, clipped);

        public DpQueryRelease GetNoisedResult(
            DpQueryState state,
            object? globalState,
            DpStepInfo stepInfo,
            NoiseGate gate,
            IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes)
        {
            var (group, remaining) = ((int Group, int Remaining))globalState!;
            DpEvent? dpEvent = null;
            if (remaining == 0)
            {
                group++;
                remaining = groupSizes[group];
                dpEvent = GroupEvent(stepInfo.SamplingProbability, group);
            }

            var sigma = noiseMultiplier + group;
            return new DpQueryRelease(GaussianSumQuery.AddNoise(state, gate, shapes, sigma * clip), (group, remaining - 1), dpEvent);
        }
    }

    public static TheoryData<string, long> Paths() => new()
    {
        { "three-line", 512 },
        { "chunked", 1 },
        { "chunked", 3 },
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void StatefulQueryIsDrivenInTheDocumentedOrderAndItsClippingIsApplied(string path, long maxPhysicalBatchSize)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const long N = 60, Steps = 4;
        const double B = 10, InitialClip = 0.05;
        var (x, y) = TrainingFixtures.Blobs(N, 4, 21);
        var model = TrainingFixtures.SmallMlp(4, 21);
        var query = new HalvingClipQuery(InitialClip, 1.0, growth: 0.25);
        var engine = new PrivacyEngine();
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.05), x, y, new DpSgdOptions
        {
            MaxGradNorm = 100, // unused: the query decides the clipping
            ExpectedBatchSize = B,
            MaxPhysicalBatchSize = maxPhysicalBatchSize,
            Query = query,
            Seed = 4,
        });
        Assert.Equal(["InitialGlobalState"], query.Log);
        var expectedLog = new List<string> { "InitialGlobalState" };
        using (optimizer)
        {
            for (var t = 0; t < Steps; t++)
            {
                using var stepScope = torch.NewDisposeScope();
                var batch = loader.NextBatch();
                Assert.True(batch.Count > 0, "the seeded draws are not empty");
                expectedLog.Add($"DeriveSampleParameters {t}");
                expectedLog.Add($"InitialSampleState {t}");
                if (path == "three-line")
                {
                    optimizer.zero_grad();
                    optimizer.Backward(TrainingFixtures.PerExampleCrossEntropy(model, batch["data"], batch["label"]));
                    optimizer.step();
                    expectedLog.Add($"Accumulate {t}");
                }
                else
                {
                    optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
                    expectedLog.AddRange(Enumerable.Repeat($"Accumulate {t}", (int)((batch.Count + maxPhysicalBatchSize - 1) / maxPhysicalBatchSize)));
                }

                expectedLog.Add($"GetNoisedResult {t}");
                Assert.Equal(InitialClip / Math.Pow(2, t + 1), (double)optimizer.GlobalState!);
            }
        }

        Assert.Equal(expectedLog, query.Log);

        // Each step derived its clipping from the global state the previous release returned, with the step's info.
        Assert.Equal(Steps, query.Derived.Count);
        for (var t = 0; t < Steps; t++)
        {
            var clip = InitialClip / Math.Pow(2, t);
            Assert.Equal(new DpStepInfo(t, B / N, B), query.Derived[t].Info);
            Assert.Equal(clip, (double)query.Derived[t].GlobalState!);
            Assert.Equal(new DpStepInfo(t, B / N, B), query.Released[t].Info);
            Assert.Equal(clip, (double)query.Released[t].GlobalState!);
        }

        // The hooks clipped every record to the step's C_t: the factors are min(1, C_t / (‖g‖ + 1e-6)), every gradient
        // here is above C_t (so C = 100 from the options would have left them unclipped), and the clipped sum of k records
        // has norm ≤ k·C_t — exactly C_t for a physical batch of one example.
        foreach (var a in query.Accumulations)
        {
            Assert.Equal(InitialClip / Math.Pow(2, a.Step), a.Clip);
            Assert.NotNull(a.Factors);
            Assert.Equal(a.Norms.Length, a.Factors!.Length);
            for (var i = 0; i < a.Norms.Length; i++)
            {
                Assert.True(a.Norms[i] > a.Clip, $"step {a.Step}: gradient norm {a.Norms[i]} is not above C_t = {a.Clip}");
                Assert.Equal(Math.Min(1.0, a.Clip / (a.Norms[i] + 1e-6)), a.Factors[i], 1e-12);
            }

            Assert.True(a.ClippedSumNorm <= a.Records * a.Clip * (1 + 1e-5), $"step {a.Step}: ‖Σ‖ = {a.ClippedSumNorm} > {a.Records}·{a.Clip}");
            if (a.Records == 1)
            {
                Assert.Equal(a.Clip * a.Norms[0] / (a.Norms[0] + 1e-6), a.ClippedSumNorm, a.Clip * 1e-5);
            }
        }

        // The records accumulated per step are the batch's examples (the state of one step is not carried into the next).
        Assert.Equal(query.Accumulations.GroupBy(a => a.Step).Select(g => g.Sum(a => a.Records)), query.Released.Select(r => r.Records));

        // The events reach the ledger, one per step, in order.
        Assert.Equal(
            Enumerable.Range(0, (int)Steps).Select(t => (query.StepEvent(B / N, t), 1L)),
            engine.Ledger.Entries);
        Assert.Equal(PrivacyAccountants.Create(AccountantKind.Pld).Compose(query.PlannedEvent(B / N, Steps)).GetEpsilon(1e-5), engine.GetEpsilon(1e-5), 12);
    }

    [Fact]
    public void NullEventsAreNotRecordedAndCoveringEventsAreRecordedWithTheirFirstRelease()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const long N = 60;
        const double B = 10, Q = B / N;
        var (x, y) = TrainingFixtures.Blobs(N, 4, 22);
        var model = TrainingFixtures.SmallMlp(4, 22);
        var query = new CoveringEventQuery(1.0, 1.0, [3, 2]);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.05), x, y,
            new DpSgdOptions { MaxGradNorm = 1, ExpectedBatchSize = B, Query = query, Seed = 5 });
        var entriesAfterStep = new List<int>();
        using (optimizer)
        {
            for (var t = 0; t < 5; t++)
            {
                using var stepScope = torch.NewDisposeScope();
                optimizer.Step(loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
                entriesAfterStep.Add(engine.Ledger.Entries.Count);
            }
        }

        Assert.Equal([1, 1, 1, 2, 2], entriesAfterStep);
        Assert.Equal([(query.GroupEvent(Q, 0), 1L), (query.GroupEvent(Q, 1), 1L)], engine.Ledger.Entries);
        Assert.Equal(new Accounting.Rdp.RdpAccountant().Compose(query.PlannedEvent(Q, 5)).GetEpsilon(1e-5), engine.GetEpsilon(1e-5), 12);
    }

    [Fact]
    public void ACheckpointKeepsTheQuerysNumericStateAndRefusesAnyOther()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(60, 4, 23);
        var path = Path.Combine(Path.GetTempPath(), $"diffpriv-{Guid.NewGuid():N}.ckpt");
        try
        {
            var engine = new PrivacyEngine();
            var model = TrainingFixtures.SmallMlp(4, 23);
            using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.05), x, y,
                new DpSgdOptions { MaxGradNorm = 1, ExpectedBatchSize = 10, Query = new HalvingClipQuery(1.0, 1.0), Seed = 6 });
            for (var t = 0; t < 3; t++)
            {
                training.Optimizer.Step(training.Loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            }

            Assert.Equal(0.125, (double)training.Optimizer.GlobalState!); // halved three times
            engine.SaveCheckpoint(path, training);

            var resumedEngine = new PrivacyEngine();
            var resumedModel = TrainingFixtures.SmallMlp(4, 23);
            using var resumed = resumedEngine.MakePrivate(resumedModel, optim.SGD(resumedModel.parameters(), 0.05), x, y,
                new DpSgdOptions { MaxGradNorm = 1, ExpectedBatchSize = 10, Query = new HalvingClipQuery(1.0, 1.0), Seed = 6 });
            Assert.Equal(1.0, (double)resumed.Optimizer.GlobalState!);
            resumedEngine.LoadCheckpoint(path, resumed);
            Assert.Equal(0.125, (double)resumed.Optimizer.GlobalState!);
            Assert.Equal(engine.GetEpsilon(1e-5), resumedEngine.GetEpsilon(1e-5));

            // A training whose query has no state cannot take it, and nothing changes.
            var plainModel = TrainingFixtures.SmallMlp(4, 23);
            using var plain = new PrivacyEngine().MakePrivate(plainModel, optim.SGD(plainModel.parameters(), 0.05), x, y,
                new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 10, Seed = 6 });
            Assert.Contains("query state", Assert.Throws<InvalidDataException>(() => new PrivacyEngine().LoadCheckpoint(path, plain)).Message);

            // A state that is not a number is refused, and no file is written.
            File.Delete(path);
            training.Optimizer.GlobalState = "not a number";
            Assert.Contains("global state", Assert.Throws<NotSupportedException>(() => engine.SaveCheckpoint(path, training)).Message);
            Assert.False(File.Exists(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string> CustomQueries() => ["gaussian-microbatch-records", "halving-clip"];

    [Theory]
    [MemberData(nameof(CustomQueries))]
    public void MakePrivateWithEpsilonCalibratesTheCustomQuerysSigma(string kind)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const long N = 200;
        const double B = 20, Target = 2.0, Delta = 1e-5, Epochs = 2;
        var (x, y) = TrainingFixtures.Blobs(N, 4, 24);
        var model = TrainingFixtures.SmallMlp(4, 24);
        IDpQuery query = kind == "halving-clip"
            ? new HalvingClipQuery(1.0, 123.0)
            : new GaussianSumQuery(ClippingOptions.Flat(1.0), 123.0, recordsAreMicrobatches: true);
        var engine = new PrivacyEngine();
        using var training = engine.MakePrivateWithEpsilon(model, optim.SGD(model.parameters(), 0.05), x, y,
            new DpSgdOptions { MaxGradNorm = 1, ExpectedBatchSize = B, Query = query, Seed = 7 }, Target, Delta, Epochs);
        var calibrated = training.Options.Query!;
        var sigma = calibrated.NoiseMultiplier;
        Assert.NotEqual(123.0, sigma);
        Assert.Equal(sigma, training.Options.NoiseMultiplier);
        Assert.Same(calibrated, training.Optimizer.Query);
        Assert.Equal(query.GetType(), calibrated.GetType());
        var steps = training.Schedule!.TotalSteps;
        Assert.Equal(20, steps);
        double Epsilon(IDpQuery q) => PrivacyAccountants.Create(AccountantKind.Pld).Compose(q.PlannedEvent(B / N, steps)).GetEpsilon(Delta);
        var epsilon = Epsilon(calibrated);
        Assert.True(epsilon <= Target, $"ε(σ = {sigma}) = {epsilon} > {Target}");
        Assert.True(epsilon >= 0.9 * Target, $"ε(σ = {sigma}) = {epsilon} < 0.9·{Target}: σ is not the smallest");
        Assert.True(Epsilon(calibrated.WithNoiseMultiplier(0.99 * sigma)) > Target, "1% less noise should exceed the target");
        if (kind != "halving-clip")
        {
            // Microbatch records are accounted at σ/2: twice the σ of the per-example query.
            var plain = PrivacyEngine.CalibrateNoiseMultiplier(new GaussianSumQuery(ClippingOptions.Flat(1.0), 1.0), training.Schedule, Target, Delta, AccountantKind.Pld);
            Assert.Equal(2 * plain.NoiseMultiplier, sigma, 2 * plain.NoiseMultiplier * 1e-3);
        }

        // The run the calibration planned stays within the target.
        var (optimizer, loader) = training;
        for (var epoch = 0; epoch < Epochs; epoch++)
        {
            foreach (var batch in loader)
            {
                using var stepScope = torch.NewDisposeScope();
                optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            }
        }

        Assert.Equal(steps, engine.Ledger.TotalCount);
        Assert.True(engine.GetEpsilon(Delta) <= Target);
        Assert.Equal(epsilon, engine.GetEpsilon(Delta), 9);
    }

    [Fact]
    public void AFailedInnerStepDoesNotCarryItsRecordsIntoTheNextRelease()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(60, 4, 25);
        var model = TrainingFixtures.SmallMlp(4, 25);
        var query = new HalvingClipQuery(1.0, 1.0);
        var inner = new ThrowOnceOptimizer(optim.SGD(model.parameters(), 0.05));
        var engine = new PrivacyEngine();
        var (optimizer, loader) = engine.MakePrivate(model, inner, x, y,
            new DpSgdOptions { MaxGradNorm = 1, ExpectedBatchSize = 10, Query = query, Seed = 8 });
        using (optimizer)
        {
            var first = loader.NextBatch();
            Assert.Throws<InvalidOperationException>(() => optimizer.Step(first, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb)));
            // The release was made (and recorded): it is a step.
            Assert.Equal(1, engine.Ledger.TotalCount);
            Assert.Equal(engine.Ledger.TotalCount, optimizer.Steps);

            var second = loader.NextBatch();
            optimizer.Step(second, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            Assert.Equal(2, engine.Ledger.TotalCount);
            Assert.Equal([first.Count, second.Count], query.Released.Select(r => r.Records));
            Assert.Equal(2, query.Log.Count(l => l.StartsWith("DeriveSampleParameters", StringComparison.Ordinal)));
        }
    }

    /// <summary>An inner optimizer whose first step throws after nothing was changed; later steps are SGD's.</summary>
    private sealed class ThrowOnceOptimizer(optim.Optimizer inner) : optim.Optimizer(IntPtr.Zero)
    {
        private bool _thrown;

        public override IEnumerable<optim.ILearningRateController> ParamGroups => inner.ParamGroups;

        public override IEnumerable<TorchSharp.Modules.Parameter> parameters() => inner.parameters();

        public override void zero_grad() => inner.zero_grad();

        public override Tensor step(Func<Tensor>? closure = null)
        {
            if (!_thrown)
            {
                _thrown = true;
                throw new InvalidOperationException("the inner optimizer failed");
            }

            return inner.step(closure);
        }
    }
}
