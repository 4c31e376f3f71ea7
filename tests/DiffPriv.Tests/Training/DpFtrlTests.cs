using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

/// <summary>DP-FTRL through the engine: fixed shuffled batches, the tree query, the FTRL form of the parameters and the accounting.</summary>
public sealed class DpFtrlTests
{
    public DpFtrlTests() => TorchRuntime.EnsureLoaded();

    private static PrivacyEngine ReplaceSpecialEngine() => new(AccountantKind.Rdp, NeighboringRelation.ReplaceSpecial);

    [Fact]
    public void WithSgdTheParametersAreTheStartMinusEtaTimesTheNoisyCumulativeSumOverB()
    {
        // ℓ_i = ⟨W·1, r_i⟩: example i's gradient is r_i whatever W is, so a pass sums Σ clip(r_i) in any order. N = 8,
        // B = 2: a pass is 4 steps, a tree of 4 leaves, whose cumulative noise after its last leaf is its single level-2 node
        // (the plain tree's 4th draw). SGD at lr η: θ = θ_0 − η·(2·Σ clip(r_i) + z_pass0 + z_pass1)/B after two passes.
        const int N = 8, D = 3;
        const double Eta = 0.3, C = 1.0, Sigma = 0.7;
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(11, torch.CPU);
        var records = torch.randn([N, D], ScalarType.Float64, generator: generator);
        var model = nn.Linear(1, D, hasBias: false).to(ScalarType.Float64);
        var start = model.weight!.detach().clone();
        var engine = ReplaceSpecialEngine();
        var options = new DpFtrlOptions { Clipping = ClippingOptions.Flat(C), BatchSize = 2, Epochs = 2, NoiseMultiplier = Sigma, EfficientTree = false, Seed = 42 };
        using var training = engine.MakePrivateFtrl(model, optim.SGD(model.parameters(), Eta), records, torch.zeros([N], ScalarType.Int64), options);
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var batch in training.Loader)
            {
                training.Optimizer.Step(batch, (r, _) => model.call(torch.ones([r.shape[0], 1], ScalarType.Float64)).mul(r).sum(1));
            }
        }

        // The replica draws what the gate drew: per pass a permutation, then one node per step.
        using var replica = NoiseGate.CreateSeeded(42);
        var noise = torch.zeros([D, 1], ScalarType.Float64);
        for (var pass = 0; pass < 2; pass++)
        {
            replica.Permutation(N);
            Tensor? last = null;
            for (var step = 0; step < 4; step++)
            {
                last = replica.Gaussian([D, 1], Sigma * C, ScalarType.Float64);
            }

            noise.add_(last!);
        }

        var norms = records.norm(1, keepdim: true);
        var clipped = records.mul(torch.clamp(C / (norms + 1e-6), max: 1.0)).sum(dim: 0).reshape(D, 1);
        var expected = start - (Eta * ((2 * clipped) + noise) / 2);
        Assert.True(model.weight!.detach().allclose(expected, rtol: 0, atol: 1e-9), $"{model.weight!.detach().str()} vs {expected.str()}");
    }

    [Fact]
    public void SgdWithMomentumIsThePapersDpFtrlm()
    {
        // Kairouz et al.'s DP-FTRLM (their FTRLOptimizer): m_t = γ·m_{t−1} + s̃_t and θ_{t+1} = θ_0 − η·m_t/B, where s̃_t is
        // the noisy cumulative sum including the final noisy sums of finished trees. SGD with momentum on the residuals
        // must land on the same parameters. ℓ_i = ⟨W·1, r_i⟩ keeps each example's gradient r_i fixed; the replica gate
        // replays the shuffles and the efficient tree's draws.
        const int N = 12, D = 2, B = 4;
        const double Eta = 0.2, Gamma = 0.9, C = 0.8, Sigma = 0.5;
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(13, torch.CPU);
        var records = torch.randn([N, D], ScalarType.Float64, generator: generator);
        var model = nn.Linear(1, D, hasBias: false).to(ScalarType.Float64);
        var start = model.weight!.detach().clone();
        var engine = ReplaceSpecialEngine();
        var options = new DpFtrlOptions { Clipping = ClippingOptions.Flat(C), BatchSize = B, Epochs = 3, NoiseMultiplier = Sigma, Seed = 8 };
        using var training = engine.MakePrivateFtrl(model, optim.SGD(model.parameters(), Eta, momentum: Gamma), records, torch.zeros([N], ScalarType.Int64), options);
        for (var pass = 0; pass < 3; pass++)
        {
            foreach (var batch in training.Loader)
            {
                training.Optimizer.Step(batch, (r, _) => model.call(torch.ones([r.shape[0], 1], ScalarType.Float64)).mul(r).sum(1));
            }
        }

        var clipped = records.mul(torch.clamp(C / (records.norm(1, keepdim: true) + 1e-6), max: 1.0));
        using var replica = NoiseGate.CreateSeeded(8);
        var momentum = torch.zeros([D, 1], ScalarType.Float64);
        var expected = start.clone();
        var signal = torch.zeros([D, 1], ScalarType.Float64);
        var finishedTrees = torch.zeros([D, 1], ScalarType.Float64);
        for (var pass = 0; pass < 3; pass++)
        {
            var order = replica.Permutation(N).data<long>().ToArray();
            var tree = NoiseTree.Empty(efficient: true);
            for (var step = 0; step < N / B; step++)
            {
                var rows = torch.tensor(order[(step * B)..((step + 1) * B)]);
                signal.add_(clipped.index_select(0, rows).sum(dim: 0).reshape(D, 1));
                var next = tree.Append(() => [replica.Gaussian([D, 1], Sigma * C, ScalarType.Float64)]);
                tree.Dispose();
                tree = next;
                var noisySum = signal + finishedTrees + tree.CumulativeNoise()![0];
                momentum = (Gamma * momentum) + noisySum;
                expected = start - (Eta * momentum / B);
            }

            finishedTrees.add_(tree.CumulativeNoise()![0]);
            tree.Dispose();
        }

        Assert.True(model.weight!.detach().allclose(expected, rtol: 0, atol: 1e-9), $"{model.weight!.detach().str()} vs {expected.str()}");
    }

    [Fact]
    public void EveryPassIsOneTreeRecordedWithItsFirstStepAndCountedComplete()
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 1);
        var model = TrainingFixtures.SmallMlp(4, 1);
        var engine = ReplaceSpecialEngine();
        using var training = engine.MakePrivateFtrl(model, optim.SGD(model.parameters(), 0.1, momentum: 0.9), x, y,
            new DpFtrlOptions { Clipping = ClippingOptions.Flat(1), BatchSize = 30, Epochs = 3, NoiseMultiplier = 2.0, Seed = 3 });
        var tree = new SingleEpochTreeAggregationDpEvent(2.0, [4]); // ⌈100/30⌉ = 4 steps per pass
        var steps = 0;
        foreach (var batch in training.Loader)
        {
            training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            steps++;
            // The tree in progress is already accounted as complete.
            Assert.Equal(new ComposedDpEvent([tree]), engine.LedgerEvent);
        }

        Assert.Equal(4, steps);
        foreach (var batch in training.Loader)
        {
            training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            steps++;
        }

        foreach (var batch in training.Loader)
        {
            training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            steps++;
        }

        Assert.Equal(10, steps); // ⌈3·100/30⌉ = 10: passes of 4, 4 and 2, three trees
        Assert.Equal(new ComposedDpEvent([new SelfComposedDpEvent(tree, 3)]), engine.LedgerEvent);
        var expected = new RdpAccountant(neighboringRelation: NeighboringRelation.ReplaceSpecial).Compose(tree, 3).GetEpsilon(1e-5);
        Assert.Equal(expected, engine.GetEpsilon(1e-5), 12);
        Assert.Throws<StepPlanExceededException>(() => training.Loader.First());

        // The engine's ledger is the ordinary PrivacyLedger, under replace-special: RDP reports, PLD brackets the exact ε
        // of the same trees (tighter than RDP).
        Assert.Equal(NeighboringRelation.ReplaceSpecial, engine.Ledger.NeighboringRelation);
        Assert.Equal(AccountantKind.Rdp, engine.Ledger.Accountant);
        Assert.Equal(engine.LedgerEvent, engine.Ledger.ToEvent());
        var interval = engine.GetEpsilonInterval(1e-5);
        var pld = ((PldAccountant)new PldAccountant(NeighboringRelation.ReplaceSpecial).Compose(tree, 3)).GetEpsilonInterval(1e-5);
        Assert.Equal(pld, interval);
        Assert.True(interval.Lower <= interval.Upper && interval.Upper < expected, $"PLD [{interval.Lower}, {interval.Upper}] vs RDP {expected}");
    }

    [Fact]
    public void DpFtrlNeedsAReplaceSpecialEngine()
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(50, 4, 2);
        var model = TrainingFixtures.SmallMlp(4, 2);
        var options = new DpFtrlOptions { Clipping = ClippingOptions.Flat(1), BatchSize = 10, Epochs = 1, NoiseMultiplier = 1, Seed = 1 };
        var error = Assert.Throws<InvalidOperationException>(() => new PrivacyEngine(AccountantKind.Rdp).MakePrivateFtrl(model, optim.SGD(model.parameters(), 0.1), x, y, options));
        Assert.Contains("NeighboringRelation.ReplaceSpecial", error.Message);

        // A PLD engine under replace-special accounts the same trees exactly (σ is still calibrated by RDP).
        var pldEngine = new PrivacyEngine(AccountantKind.Pld, NeighboringRelation.ReplaceSpecial);
        using var training = pldEngine.MakePrivateFtrl(model, optim.SGD(model.parameters(), 0.1), x, y, options);
        foreach (var batch in training.Loader)
        {
            training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
        }

        Assert.Equal(
            new PldAccountant(NeighboringRelation.ReplaceSpecial).Compose(new SingleEpochTreeAggregationDpEvent(1, [5]), 1).GetEpsilon(1e-5),
            pldEngine.GetEpsilon(1e-5),
            12);
    }

    [Fact]
    public void CalibrationMeetsTheTargetUnderReplaceSpecial()
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(200, 4, 3);
        var model = TrainingFixtures.SmallMlp(4, 3);
        var engine = ReplaceSpecialEngine();
        using var training = engine.MakePrivateFtrlWithEpsilon(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpFtrlOptions { Clipping = ClippingOptions.Flat(1), BatchSize = 25, Epochs = 5 }, targetEpsilon: 2.0, targetDelta: 1e-5);
        var sigma = training.Options.NoiseMultiplier;
        var eps = new RdpAccountant(neighboringRelation: NeighboringRelation.ReplaceSpecial)
            .Compose(new SingleEpochTreeAggregationDpEvent(sigma, [8]), 5).GetEpsilon(1e-5);
        Assert.InRange(eps, 2.0 * (1 - 1e-3), 2.0);
        Assert.Equal(sigma, training.Optimizer.Query.NoiseMultiplier);
    }

    [Fact]
    public void NoTensorLeaksOverThirtyThreeFtrlStepsAcrossATreeRestart()
    {
        var (x, y) = TrainingFixtures.Blobs(300, 8, 4);
        var model = TrainingFixtures.SmallMlp(8, 4);
        var engine = ReplaceSpecialEngine();
        using var training = engine.MakePrivateFtrl(model, optim.SGD(model.parameters(), 0.1, momentum: 0.9), x, y,
            new DpFtrlOptions { Clipping = ClippingOptions.Flat(1), BatchSize = 10, Epochs = 2, NoiseMultiplier = 1, MaxPhysicalBatchSize = 4, Seed = 5 });
        using var batches = training.Loader.Concat(training.Loader).GetEnumerator();
        void Steps(int count)
        {
            for (var i = 0; i < count; i++)
            {
                using var scope = torch.NewDisposeScope();
                Assert.True(batches.MoveNext());
                training.Optimizer.Step(batches.Current, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            }
        }

        Steps(3); // warm-up: momentum buffers and gradients are allocated once
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Steps(33); // crosses a pass (30 steps): the first tree is replaced by the second, now at leaf 6 (two nodes, as leaf 3)
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        x.Dispose();
        y.Dispose();
    }

    /// <summary>
    /// A DP-FTRL checkpoint between passes (model, momentum, ledger, counters, the seeded generator behind the next shuffle
    /// and tree) resumes into the uninterrupted run bit for bit; a pass in progress cannot be saved, and a DP-SGD
    /// checkpoint does not load into a DP-FTRL training.
    /// </summary>
    [Fact]
    public void ResumingBetweenPassesEqualsTheUninterruptedRun()
    {
        var dir = Directory.CreateTempSubdirectory("diffpriv-ftrl-ckpt");
        try
        {
            var (x, y) = TrainingFixtures.Blobs(100, 4, 6);
            var path = Path.Combine(dir.FullName, "ftrl.bin");
            var options = new DpFtrlOptions { Clipping = ClippingOptions.Flat(1), BatchSize = 30, Epochs = 3, NoiseMultiplier = 1.5, Seed = 8 };
            (double[] Parameters, ComposedDpEvent Ledger, double Epsilon) Run(int passes, bool save, bool resume)
            {
                using var scope = torch.NewDisposeScope();
                var model = TrainingFixtures.SmallMlp(4, 6);
                var engine = new PrivacyEngine(AccountantKind.Pld, NeighboringRelation.ReplaceSpecial);
                using var training = engine.MakePrivateFtrl(model, optim.SGD(model.parameters(), 0.1, momentum: 0.9), x, y, options);
                if (resume)
                {
                    engine.LoadCheckpoint(path, training);
                    Assert.Equal(4, training.Optimizer.Steps);
                }

                for (var pass = 0; pass < passes; pass++)
                {
                    foreach (var batch in training.Loader)
                    {
                        training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
                        if (save && pass == 0 && training.Optimizer.Steps == 2)
                        {
                            Assert.Contains("in progress", Assert.Throws<NotSupportedException>(() => engine.SaveCheckpoint(path, training)).Message);
                        }
                    }

                    if (save && pass == 0)
                    {
                        engine.SaveCheckpoint(path, training);
                    }
                }

                return (TrainingFixtures.Flatten(model), engine.LedgerEvent, engine.GetEpsilon(1e-5));
            }

            var straight = Run(3, save: true, resume: false);
            var resumed = Run(2, save: false, resume: true);
            Assert.Equal(straight.Parameters, resumed.Parameters); // bit-identical
            Assert.Equal(straight.Ledger, resumed.Ledger);
            Assert.Equal(new ComposedDpEvent([new SelfComposedDpEvent(new SingleEpochTreeAggregationDpEvent(1.5, [4]), 3)]), resumed.Ledger);
            Assert.Equal(straight.Epsilon, resumed.Epsilon);

            // The checkpoint keeps its relation; a DP-SGD training refuses it and records nothing.
            using (var scope = torch.NewDisposeScope())
            {
                var model = TrainingFixtures.SmallMlp(4, 6);
                var engine = new PrivacyEngine(AccountantKind.Rdp, NeighboringRelation.ReplaceSpecial);
                using var training = engine.MakePrivateFtrl(model, optim.SGD(model.parameters(), 0.1, momentum: 0.9), x, y, options);
                engine.LoadCheckpoint(path, training);
                Assert.Equal(NeighboringRelation.ReplaceSpecial, engine.Ledger.NeighboringRelation);
                Assert.Equal(1, engine.Ledger.TotalCount);

                var sgdModel = TrainingFixtures.SmallMlp(4, 6);
                var sgdEngine = new PrivacyEngine();
                using var sgd = sgdEngine.MakePrivate(sgdModel, optim.SGD(sgdModel.parameters(), 0.1, momentum: 0.9), x, y,
                    new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 30, Seed = 8 });
                Assert.Throws<InvalidDataException>(() => sgdEngine.LoadCheckpoint(path, sgd));
                Assert.Equal(0, sgdEngine.Ledger.TotalCount);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
