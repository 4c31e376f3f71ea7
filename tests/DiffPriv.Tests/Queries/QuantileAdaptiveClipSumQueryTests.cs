using DiffPriv.Accounting;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using DiffPriv.Queries;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Queries;

/// <summary>
/// Quantile-adaptive clipping against TF Privacy's own tests (tensorflow/privacy,
/// tensorflow_privacy/privacy/dp_query/quantile_adaptive_clip_sum_query_test.py at commit
/// 0c2747462f2eab77aa52bf24851798c1120314b0): the records go through the real per-example gradient hooks (a bias-free
/// linear layer whose per-example gradient is the record), the query clips, counts and moves the clip norm.
/// </summary>
public sealed class QuantileAdaptiveClipSumQueryTests
{
    public QuantileAdaptiveClipSumQueryTests() => TorchRuntime.EnsureLoaded();

    /// <summary>One step of the query over <paramref name="records"/> (rows); returns the released sum and the next clip.</summary>
    private static (double[] Sum, double Clip) RunQuery(QuantileAdaptiveClipSumQuery query, double[][] records, object? globalState, NoiseGate? gate = null)
    {
        using var scope = torch.NewDisposeScope();
        var n = records.Length;
        var d = records[0].Length;
        var model = nn.Linear(1, d, hasBias: false).to(ScalarType.Float64);
        using var hooks = new GradSampleHooks(model, GradSamplerRegistry.Default, new GradSampleOptions());
        var info = new DpStepInfo(0, 1.0, n);
        var parameters = query.DeriveSampleParameters(globalState, info);
        using var state = query.InitialSampleState(parameters);
        var r = torch.tensor(records.SelectMany(x => x).ToArray(), [n, d], ScalarType.Float64);
        using (hooks.BeginStep())
        {
            // ℓ_i = ⟨W·1, r_i⟩: the per-example gradient of W ([d, 1]) is r_i.
            var loss = model.call(torch.ones([n, 1], ScalarType.Float64)).mul(r).sum(1);
            using var clipped = hooks.ClipAndSum(loss, parameters.RecordClipping);
            query.Accumulate(state, parameters, clipped);
        }

        using var ownGate = gate is null ? NoiseGate.CreateSeeded(1) : null;
        var release = query.GetNoisedResult(
            state, globalState, info, gate ?? ownGate!, new Dictionary<string, (long[], ScalarType, Device)> { ["weight"] = ([d, 1], ScalarType.Float64, torch.CPU) });
        return (release.NoisedSum["weight"].flatten().data<double>().ToArray(), (double)release.GlobalState!);
    }

    /// <summary>The upstream test's tolerance (TensorFlow's assertAllClose: |a − e| ≤ 1e-6 + 1e-6·|e|). The engine clips with
    /// C/(‖g‖ + 1e-6), as Opacus does, so a clipped record is 1e-6 (relative) shorter than TF Privacy's exact clip.</summary>
    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(actual - expected) <= 1e-6 + (1e-6 * Math.Abs(expected)), $"expected {expected}, got {actual}");

    private static QuantileAdaptiveClipSumQuery NoNoise(double clip, double target, double rate, double records, bool geometric) =>
        new(clip, noiseMultiplier: 0, target, rate, clippedCountStddev: 0, records, geometric, allowNoNoise: true);

    private static void AssertSteps(QuantileAdaptiveClipSumQuery query, double[][] records, double[] sums, double[] clips)
    {
        var state = query.InitialGlobalState();
        for (var i = 0; i < sums.Length; i++)
        {
            var (sum, clip) = RunQuery(query, records, state);
            AssertClose(sums[i], Assert.Single(sum));
            AssertClose(clips[i], clip);
            state = clip;
        }
    }

    [Fact]
    public void TargetZeroArithmetic() =>
        AssertSteps(NoNoise(10.0, 0.0, 1.0, 2.0, geometric: false), [[8.5], [-7.25]], [1.25, 1.25, 0.75, 0.25, 0.0], [9.0, 8.0, 7.5, 7.0, 7.0]);

    [Fact]
    public void TargetZeroGeometric()
    {
        var fourOverRootTwo = 4 / Math.Sqrt(2.0);
        AssertSteps(NoNoise(16.0, 0.0, Math.Log(2.0), 2.0, geometric: true), [[5.0], [-2.5]], [2.5, 2.5, 1.5, fourOverRootTwo - 2.5, 0.0], [8.0, 4.0, fourOverRootTwo, 2.0, 2.0]);
    }

    [Fact]
    public void TargetOneArithmetic() =>
        AssertSteps(NoNoise(0.0, 1.0, 1.0, 2.0, geometric: false), [[-1.5], [2.75]], [0.0, 0.0, 0.5, 1.0, 1.25], [1.0, 2.0, 2.5, 3.0, 3.0]);

    [Fact]
    public void TargetOneGeometric()
    {
        var twoRootTwo = 2 * Math.Sqrt(2.0);
        AssertSteps(NoNoise(0.5, 1.0, Math.Log(2.0), 2.0, geometric: true), [[-1.5], [3.0]], [0.0, 0.0, 0.5, twoRootTwo - 1.5, 1.5], [1.0, 2.0, twoRootTwo, 4.0, 4.0]);
    }

    [Fact]
    public void SumWithClipNoNoise()
    {
        // [-6, 8] is clipped to [-3, 4]; [4, -3] is not.
        var (sum, clip) = RunQuery(NoNoise(5.0, 1.0, 0.0, 2.0, geometric: false), [[-6.0, 8.0], [4.0, -3.0]], 5.0);
        AssertClose(1.0, sum[0]);
        AssertClose(1.0, sum[1]);
        Assert.Equal(5.0, clip);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void TheClipConvergesToTheMedianOfEquallySpacedNorms(bool startLow, bool geometric)
    {
        double[][] records = [.. Enumerable.Range(0, 21).Select(i => new[] { i * 0.5 })];
        var query = NoNoise(startLow ? 1.0 : 10.0, 0.5, 1.0, 21, geometric);
        var state = query.InitialGlobalState();
        for (var t = 0; t < 50; t++)
        {
            var (_, clip) = RunQuery(query, records, state);
            state = clip;
            if (t > 40)
            {
                Assert.InRange(clip, 4.75, 5.25);
            }
        }
    }

    [Fact]
    public void TheSumAndTheCountTogetherAreAccountedAsOneGaussianOfTheGivenSigma()
    {
        var adaptive = new QuantileAdaptiveClipSumQuery(1.0, noiseMultiplier: 1.1, 0.5, 0.2, clippedCountStddev: 25.6, expectedNumRecords: 512);
        var plain = new GaussianSumQuery(ClippingOptions.Flat(1.0), 1.1);
        Assert.Equal(plain.PlannedEvent(0.01, 1000), adaptive.PlannedEvent(0.01, 1000));
        // σ^-2 = σ_sum^-2 + (2σ_b)^-2: the sum carries slightly more noise than σ·C.
        Assert.Equal(1 / (1.1 * 1.1), (1 / (adaptive.SumNoiseMultiplier * adaptive.SumNoiseMultiplier)) + (1 / (51.2 * 51.2)), 12);
        Assert.True(adaptive.SumNoiseMultiplier > 1.1);
        Assert.Equal(1.1, adaptive.WithNoiseMultiplier(1.1).NoiseMultiplier);

        // A count noise too small to be paid out of σ, or a count without noise under a private σ, is refused.
        Assert.Throws<ArgumentException>(() => new QuantileAdaptiveClipSumQuery(1.0, 1.1, 0.5, 0.2, clippedCountStddev: 0.5, expectedNumRecords: 512));
        Assert.Throws<ArgumentException>(() => new QuantileAdaptiveClipSumQuery(1.0, 1.1, 0.5, 0.2, clippedCountStddev: 0, expectedNumRecords: 512));
        Assert.Throws<ArgumentException>(() => new QuantileAdaptiveClipSumQuery(1.0, 1.1, 1.5, 0.2, 25.6, 512));
        Assert.Throws<ArgumentException>(() => new QuantileAdaptiveClipSumQuery(1.0, 0, 0.5, 0.2, 25.6, 512));
    }

    [Fact]
    public void ThroughThePrivacyEngineTheClipMovesAndTheLedgerIsThatOfAPlainGaussianSum()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var x = torch.randn([400, 5]);
        var y = torch.randint(0, 2, [400], dtype: ScalarType.Int64);
        var model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2));
        var engine = new PrivacyEngine();
        var query = new QuantileAdaptiveClipSumQuery(100.0, noiseMultiplier: 1.0, 0.5, learningRate: 1.0, clippedCountStddev: 5.0, expectedNumRecords: 100);
        using var training = engine.MakePrivate(
            model, optim.SGD(model.parameters(), 0.1), x, y, new DpSgdOptions { MaxGradNorm = 1.0, ExpectedBatchSize = 100, Query = query, Seed = 3, Epochs = 5 });
        var clips = new List<double>();
        for (var epoch = 0; epoch < 5; epoch++)
        {
            foreach (var batch in training.Loader)
            {
                training.Optimizer.Step(batch, (input, label) => nn.functional.cross_entropy(model.call(input), label, reduction: nn.Reduction.None));
                clips.Add((double)training.Optimizer.GlobalState!);
            }
        }

        // Started 100× too high, nothing clipped: the clip fell geometrically, then settled among the gradients' norms.
        Assert.Equal(20, clips.Count);
        Assert.True(clips[0] < 100 && clips[1] < clips[0], $"clips {string.Join(", ", clips)}");
        Assert.InRange(clips[^1], 1e-3, 5.0);

        // The ledger holds exactly what a Gaussian sum query with the same σ would: 20 × PoissonSampled(¼, Gaussian(1)).
        var plain = new GaussianSumQuery(ClippingOptions.Flat(1.0), 1.0).PlannedEvent(0.25, 20);
        Assert.Equal(
            PrivacyAccountants.Create(AccountantKind.Pld).Compose(plain).GetEpsilon(1e-5),
            engine.GetEpsilon(1e-5),
            9);
    }

    [Fact]
    public void TheSumIsNoisedAtSigmaSumTimesTheCurrentClip()
    {
        // TF Privacy's test_sum_with_noise: the released sum's spread is the sum's noise std, here σ_sum·C with C = 5.
        var query = new QuantileAdaptiveClipSumQuery(5.0, noiseMultiplier: 0.2, 1.0, 0.0, clippedCountStddev: 10, expectedNumRecords: 2);
        using var gate = NoiseGate.CreateSeeded(3);
        var sums = Enumerable.Range(0, 1000).Select(_ => RunQuery(query, [[2.71828], [3.14159]], 5.0, gate).Sum[0]).ToArray();
        var mean = sums.Average();
        var std = Math.Sqrt(sums.Sum(s => (s - mean) * (s - mean)) / (sums.Length - 1));
        Assert.InRange(mean, 5.85987 - 0.1, 5.85987 + 0.1);
        Assert.InRange(std, query.SumNoiseMultiplier * 5.0 * 0.9, query.SumNoiseMultiplier * 5.0 * 1.1);
    }

    [Fact]
    public void AReleaseClipRescalesTheNoisedSumToItWithoutChangingTheClipOrTheEvent()
    {
        // Records of norms 1 and 3 clipped at C = 2: the sum is 1 + 2 = 3, rescaled by R/C = 0.5/2 it is 0.75, the noise's
        // spread becomes σ_sum·R instead of σ_sum·C, and the clip's update and the event are those of the raw query.
        var raw = new QuantileAdaptiveClipSumQuery(2.0, noiseMultiplier: 0.5, 0.5, learningRate: 0.2, clippedCountStddev: 10, expectedNumRecords: 2);
        var scaled = new QuantileAdaptiveClipSumQuery(2.0, noiseMultiplier: 0.5, 0.5, learningRate: 0.2, clippedCountStddev: 10, expectedNumRecords: 2) { ReleaseClip = 0.5 };
        using var rawGate = NoiseGate.CreateSeeded(7);
        using var scaledGate = NoiseGate.CreateSeeded(7);
        var rawSums = new List<double>();
        var scaledSums = new List<double>();
        for (var i = 0; i < 400; i++)
        {
            var (rawSum, rawClip) = RunQuery(raw, [[1.0], [3.0]], 2.0, rawGate);
            var (scaledSum, scaledClip) = RunQuery(scaled, [[1.0], [3.0]], 2.0, scaledGate);
            Assert.Equal(rawClip, scaledClip, 12);
            Assert.Equal(rawSum[0] * 0.25, scaledSum[0], 9);
            rawSums.Add(rawSum[0]);
            scaledSums.Add(scaledSum[0]);
        }

        var mean = scaledSums.Average();
        var std = Math.Sqrt(scaledSums.Sum(s => (s - mean) * (s - mean)) / (scaledSums.Count - 1));
        Assert.InRange(mean, 0.75 - 0.05, 0.75 + 0.05);
        Assert.InRange(std, scaled.SumNoiseMultiplier * 0.5 * 0.9, scaled.SumNoiseMultiplier * 0.5 * 1.1);
        Assert.Equal(raw.PlannedEvent(0.1, 10), scaled.PlannedEvent(0.1, 10));
        Assert.Equal(0.5, ((QuantileAdaptiveClipSumQuery)scaled.WithNoiseMultiplier(0.7)).ReleaseClip);
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantileAdaptiveClipSumQuery(2.0, 0.5, 0.5, 0.2, 10, 2) { ReleaseClip = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuantileAdaptiveClipSumQuery(2.0, 0.5, 0.5, 0.2, 10, 2) { ReleaseClip = double.PositiveInfinity });
    }
}
