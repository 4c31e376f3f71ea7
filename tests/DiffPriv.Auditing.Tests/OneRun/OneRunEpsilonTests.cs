using DiffPriv.Auditing.OneRun;

namespace DiffPriv.Auditing.Tests.OneRun;

/// <summary>
/// The one-run p-value and ε bound (Steinke, Nasr &amp; Jagielski, NeurIPS 2023). Reference values: JAX Privacy's own
/// _one_run_p_value, google-deepmind/jax_privacy @ 8967688c26d46f3b74bfdfe61ef1f984b887abab, jax_privacy/auditing.py,
/// recomputed by one_run_goldens.py in this folder (bounds solved with brentq at xtol 1e-13).
/// </summary>
public sealed class OneRunEpsilonTests
{
    [Theory]
    [InlineData(1000, 100, 80, 1.0, 1e-5, 0.07300911594917776)]
    [InlineData(1000, 100, 80, 1.0, 0.0, 0.07155624680483674)]
    [InlineData(1000, 1000, 600, 0.3, 1e-5, 0.05459831694066975)]
    [InlineData(50, 20, 20, 2.0, 1e-3, 0.10341122928325891)]
    [InlineData(10000, 200, 190, 2.5, 1e-5, 0.11950172816467591)]
    [InlineData(1000, 1000, 1000, 5.0, 1e-5, 0.003130917795280354)]
    [InlineData(1000, 10, 3, 0.5, 1e-5, 0.991918191215827)]
    public void PValueMatchesJaxPrivacy(int m, int r, int v, double epsilon, double delta, double expected)
    {
        Assert.Equal(expected, OneRunEpsilon.PValue(m, r, v, epsilon, delta), 1e-11 * Math.Max(expected, 1e-3));
    }

    [Theory]
    [InlineData(1000, 100, 100, 1e-5, 0.95, 3.4653763478110693)]
    [InlineData(1000, 1000, 1000, 1e-5, 0.95, 5.782283135394065)]
    [InlineData(1000, 1000, 1000, 0.0, 0.95, 5.809068338546611)]
    [InlineData(1000, 1000, 600, 1e-5, 0.95, 0.2972269537187753)]
    [InlineData(2000, 400, 330, 1e-5, 1 - (0.05 / 7), 1.2216959010358837)]
    [InlineData(10000, 500, 450, 1e-5, 0.95, 1.9354543306548668)]
    [InlineData(100, 20, 19, 1e-3, 0.9, 1.3596572530056816)]
    public void LowerBoundMatchesJaxPrivacy(int m, int r, int v, double delta, double confidence, double expected)
    {
        var bound = OneRunEpsilon.LowerBound(m, r, v, delta, confidence);
        Assert.Equal(expected, bound, 1e-9);
        Assert.True(OneRunEpsilon.PValue(m, r, v, bound, delta) <= 1 - confidence, "the bound must be on the rejecting side");
    }

    [Fact]
    public void NoEvidenceGivesZero()
    {
        Assert.Equal(0, OneRunEpsilon.LowerBound(1000, 0, 0, 1e-5, 0.95));
        Assert.Equal(0, OneRunEpsilon.LowerBound(1000, 100, 50, 1e-5, 0.95));
        Assert.Equal(0, OneRunEpsilon.LowerBound(1000, 100, 0, 1e-5, 0.95));
        Assert.Equal(1, OneRunEpsilon.PValue(1000, 100, 0, 3, 1e-5));
    }

    [Fact]
    public void BoundGrowsWithCorrectGuessesAndFallsWithConfidenceAndDelta()
    {
        var previous = 0.0;
        for (var v = 50; v <= 100; v += 5)
        {
            var bound = OneRunEpsilon.LowerBound(1000, 100, v, 1e-5, 0.95);
            Assert.True(bound >= previous, $"v = {v}: {bound} < {previous}");
            previous = bound;
        }

        Assert.True(OneRunEpsilon.LowerBound(1000, 100, 90, 1e-5, 0.99) < OneRunEpsilon.LowerBound(1000, 100, 90, 1e-5, 0.95));
        Assert.True(OneRunEpsilon.LowerBound(1000, 100, 90, 1e-3, 0.95) < OneRunEpsilon.LowerBound(1000, 100, 90, 0, 0.95));
    }

    [Fact]
    public void MaxCertifiableIsAllGuessesRightAndGrowsWithCanaries()
    {
        // m = 1000 at δ = 1e-5, 95%: 5.78 (the JAX Privacy value above); no audit with 1000 canaries certifies ε = 8.
        Assert.Equal(5.782283135394065, OneRunEpsilon.MaxCertifiable(1000, 1e-5, 0.95), 1e-9);
        Assert.True(OneRunEpsilon.MaxCertifiable(100, 1e-5, 0.95) < OneRunEpsilon.MaxCertifiable(1000, 1e-5, 0.95));
        Assert.True(OneRunEpsilon.MaxCertifiable(10000, 1e-5, 0.95) > OneRunEpsilon.MaxCertifiable(1000, 1e-5, 0.95));
    }

    [Theory]
    [InlineData(0, 0, 0, 1e-5)]
    [InlineData(10, 11, 0, 1e-5)]
    [InlineData(10, 5, 6, 1e-5)]
    [InlineData(10, 5, -1, 1e-5)]
    [InlineData(10, 5, 5, 1.5)]
    public void RejectsCountsOutOfRange(int m, int r, int v, double delta)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OneRunEpsilon.LowerBound(m, r, v, delta, 0.95));
    }
}
