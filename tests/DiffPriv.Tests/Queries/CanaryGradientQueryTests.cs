using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using DiffPriv.Queries;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Queries;

/// <summary>The gradient-canary wrapper: what it inserts, what it scores, and that it leaves the accounting alone.</summary>
public sealed class CanaryGradientQueryTests
{
    private static readonly Dictionary<string, (long[], ScalarType, Device)> Shapes = new()
    {
        ["a"] = ([3, 4], ScalarType.Float64, torch.CPU),
        ["b"] = ([5], ScalarType.Float64, torch.CPU),
    };

    public CanaryGradientQueryTests() => TorchRuntime.EnsureLoaded();

    private static GradientCanaries FourCanaries() => new(
        [new("a", 0), new("a", 7), new("b", 4), new("b", 1)],
        [true, false, true, true]);

    // One release of an empty step (no data records) through the wrapper.
    private static DpQueryRelease Release(CanaryGradientQuery query, NoiseGate gate, double q, long step = 0)
    {
        var info = new DpStepInfo(step, q, 1);
        var parameters = query.DeriveSampleParameters(null, info);
        using var state = query.InitialSampleState(parameters);
        return query.GetNoisedResult(state, null, info, gate, Shapes);
    }

    [Fact]
    public void InsertsIncludedCanariesAtTheClipNormAndScoresEveryCanary()
    {
        using var scope = torch.NewDisposeScope();
        var canaries = FourCanaries();
        var query = new CanaryGradientQuery(new GaussianSumQuery(ClippingOptions.Flat(2.5), 0, allowNoNoise: true), canaries);
        using var gate = NoiseGate.CreateSeeded(3);
        for (var step = 0; step < 3; step++)
        {
            var release = Release(query, gate, 1.0, step);
            var a = release.NoisedSum["a"].flatten().data<double>().ToArray();
            var b = release.NoisedSum["b"].flatten().data<double>().ToArray();
            Assert.Equal(2.5, a[0]);
            Assert.Equal(0, a[7]);
            Assert.Equal(2.5, b[4]);
            Assert.Equal(2.5, b[1]);
            Assert.Equal(7.5, a.Sum() + b.Sum()); // nothing anywhere else
        }

        Assert.Equal([7.5, 0, 7.5, 7.5], canaries.Scores);
        Assert.Equal(3, canaries.Releases);
        Assert.Equal(9, canaries.Insertions);
    }

    [Fact]
    public void SamplesCanariesLikeExamples()
    {
        using var scope = torch.NewDisposeScope();
        var canaries = new GradientCanaries([.. Enumerable.Range(0, 12).Select(i => new GradientCanary("a", i))], [.. Enumerable.Repeat(true, 12)]);
        var query = new CanaryGradientQuery(new GaussianSumQuery(ClippingOptions.Flat(1), 0, allowNoNoise: true), canaries);
        using var gate = NoiseGate.CreateSeeded(5);
        for (var step = 0; step < 200; step++)
        {
            Release(query, gate, 0.25, step);
        }

        // Each score counts its canary's draws; all 2400 draws Bernoulli(¼): mean 600, sd 21.2 (5 sd: ±106).
        Assert.Equal(canaries.Insertions, canaries.Scores.Sum(), 1e-9);
        Assert.InRange(canaries.Insertions, 494, 706);
        Assert.All(canaries.Scores, s => Assert.Equal(Math.Round(s), s));
    }

    [Fact]
    public void NoiseReachesTheScoresAndAccountingIsTheInnerQuerys()
    {
        using var scope = torch.NewDisposeScope();
        var canaries = FourCanaries();
        var inner = new GaussianSumQuery(ClippingOptions.Flat(1), 2.0);
        var query = new CanaryGradientQuery(inner, canaries);
        using var gate = NoiseGate.CreateSeeded(9);
        var release = Release(query, gate, 0.5);
        Assert.Equal(inner.PlannedEvent(0.5, 10), query.PlannedEvent(0.5, 10));
        Assert.Equal(new PoissonSampledDpEvent(0.5, new GaussianDpEvent(2.0)), release.Event);
        Assert.NotEqual(0, canaries.Scores[1]); // an excluded canary's coordinate still carries noise

        // A copy with another σ shares the canaries (calibration makes such copies).
        var copy = (CanaryGradientQuery)query.WithNoiseMultiplier(3.0);
        Assert.Same(canaries, copy.Canaries);
        Assert.Equal(3.0, copy.NoiseMultiplier);
    }

    [Fact]
    public void RejectsCanariesThatAreNotOrthogonalOrNotParameters()
    {
        Assert.Throws<ArgumentException>(() => new GradientCanaries([new("a", 1), new("a", 1)], [true, false]));
        Assert.Throws<ArgumentException>(() => new GradientCanaries([new("a", 1)], [true, false]));
        Assert.Throws<ArgumentException>(() => new GradientCanaries([new("a", -1)], [true]));

        using var scope = torch.NewDisposeScope();
        var query = new CanaryGradientQuery(new GaussianSumQuery(ClippingOptions.Flat(1), 1), new GradientCanaries([new("c", 0)], [true]));
        using var gate = NoiseGate.CreateSeeded(1);
        Assert.Throws<InvalidOperationException>(() => Release(query, gate, 1.0));
    }
}
