using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>
/// PMF-level behaviour: connect-the-dots discretisations (stated in google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/pld/privacy_loss_distribution_test.py,
/// places 7 there), the optimistic discretisation, FFT convolution, self-composition and the basic example
/// (<c>pld/privacy_loss_distribution_basic_example.py</c> at the same commit; its δ values computed by running it).
/// </summary>
public sealed class PldPmfTests
{
    private static void AssertPmf(PldPmf pmf, IReadOnlyDictionary<int, double> expected, double tolerance) =>
        PmfAssert.Equal(expected, pmf, tolerance);

    // test_laplace_varying_parameter_and_sensitivity (connect dots): Laplace(b 1, Δ 1), interval 1.
    [Fact]
    public void ConnectDotsLaplace()
    {
        var pmf = PmfBuilder.ConnectDots(new LaplacePrivacyLoss(1.0, 1.0, 1.0, AdjacencyType.Remove), 1.0);
        AssertPmf(pmf, new Dictionary<int, double> { [1] = 0.62245933, [0] = 0.14855068, [-1] = 0.22898999 }, 5e-8);
        Assert.Equal(0.0, pmf.InfinityMass, 12);
    }

    // test_gaussian_varying_standard_deviation_and_sensitivity (connect dots): σ 1, Δ 1, interval 1,
    // log_mass_truncation_bound = ln 2 + ln Φ(−0.9).
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ConnectDotsGaussian(bool add)
    {
        var adjacency = add ? AdjacencyType.Add : AdjacencyType.Remove;
        var bound = Math.Log(2) + NormalDistribution.LogCdf(-0.9);
        var pmf = PmfBuilder.ConnectDots(new GaussianPrivacyLoss(1.0, 1.0, 1.0, adjacency, bound), 1.0);
        AssertPmf(pmf, new Dictionary<int, double> { [2] = 0.167710257, [1] = 0.343270190, [0] = 0.319116756, [-1] = 0.126282046, [-2] = 0.022697115 }, 5e-8);
        Assert.Equal(0.020923636, pmf.InfinityMass, 7);
    }

    // The optimistic PMF is a post-processing: its δ never exceeds the mechanism's, the connect-dots δ never falls below.
    [Theory]
    [InlineData(1.0, 1.0)]
    [InlineData(0.5, 0.3)]
    [InlineData(2.0, 0.01)]
    public void OptimisticAndPessimisticBracketTheMechanism(double sigma, double q)
    {
        foreach (var adjacency in new[] { AdjacencyType.Add, AdjacencyType.Remove })
        {
            foreach (var loss in new AdditiveNoisePrivacyLoss[] { new GaussianPrivacyLoss(sigma, 1.0, q, adjacency), new LaplacePrivacyLoss(sigma, 1.0, q, adjacency) })
            {
                var optimistic = PmfBuilder.OptimisticMixing(loss, 1e-2);
                var pessimistic = PmfBuilder.ConnectDots(loss, 1e-2);
                Assert.InRange(optimistic.Probs.Sum(), 1 - 1e-9, 1 + 1e-12);
                foreach (var epsilon in new[] { 0.0, 0.005, 0.1, 0.5, 1.0, 2.0 })
                {
                    var exact = loss.GetDeltaForEpsilon(epsilon);
                    Assert.True(optimistic.GetDeltaForEpsilon(epsilon) <= exact + 1e-12, $"optimistic δ({epsilon}) > {exact}");
                    Assert.True(pessimistic.GetDeltaForEpsilon(epsilon) >= exact - 1e-12, $"pessimistic δ({epsilon}) < {exact}");
                }
            }
        }
    }

    [Fact]
    public void FftConvolutionMatchesDirect()
    {
        var rng = new Random(7);
        foreach (var (la, lb) in new[] { (1, 1), (3, 5), (100, 37), (1000, 1000), (4097, 33) })
        {
            var a = Enumerable.Range(0, la).Select(_ => rng.NextDouble()).ToArray();
            var b = Enumerable.Range(0, lb).Select(_ => rng.NextDouble()).ToArray();
            var fft = Fft.ConvolveReal(a, b);
            for (var k = 0; k < la + lb - 1; k++)
            {
                var direct = 0.0;
                for (var i = Math.Max(0, k - lb + 1); i <= Math.Min(k, la - 1); i++)
                {
                    direct += a[i] * b[k - i];
                }

                Assert.Equal(direct, fft[k], 1e-12 * Math.Max(1, direct));
            }
        }
    }

    // Sizes ≥ 2^15 take the two-core path of the FFT; check a sample of outputs against the direct sum.
    [Fact]
    public void LargeFftConvolutionMatchesDirect()
    {
        var rng = new Random(11);
        var a = Enumerable.Range(0, 40000).Select(_ => rng.NextDouble()).ToArray();
        var b = Enumerable.Range(0, 30000).Select(_ => rng.NextDouble()).ToArray();
        var fft = Fft.ConvolveReal(a, b);
        for (var s = 0; s < 200; s++)
        {
            var k = rng.Next(fft.Length);
            var direct = 0.0;
            for (var i = Math.Max(0, k - b.Length + 1); i <= Math.Min(k, a.Length - 1); i++)
            {
                direct += a[i] * b[k - i];
            }

            Assert.Equal(direct, fft[k], 1e-10 * Math.Max(1, direct));
        }
    }

    [Fact]
    public void SelfComposeMatchesRepeatedComposition()
    {
        var loss = new GaussianPrivacyLoss(1.0, 1.0, 0.1, AdjacencyType.Remove);
        var pmf = PmfBuilder.ConnectDots(loss, 1e-3);
        var byPower = pmf.SelfCompose(7, 0);
        var repeated = pmf;
        for (var i = 1; i < 7; i++)
        {
            repeated = repeated.Compose(pmf, 0);
        }

        Assert.Equal(repeated.LowerIndex, byPower.LowerIndex);
        Assert.Equal(repeated.Size, byPower.Size);
        for (var i = 0; i < repeated.Size; i++)
        {
            Assert.Equal(repeated.Probs[i], byPower.Probs[i], 1e-13);
        }

        foreach (var delta in new[] { 1e-3, 1e-6 })
        {
            Assert.Equal(repeated.GetEpsilonForDelta(delta), byPower.GetEpsilonForDelta(delta), 1e-10);
        }
    }

    [Fact]
    public void TruncationBoundsHoldTheTailMass()
    {
        var pmf = PmfBuilder.ConnectDots(new GaussianPrivacyLoss(1.0, 1.0, 0.05, AdjacencyType.Add), 1e-3);
        var full = pmf.SelfCompose(50, 0);
        var truncated = pmf.SelfCompose(50, 1e-15);
        Assert.True(truncated.Size < full.Size);
        Assert.Equal(full.GetDeltaForEpsilon(1.0), truncated.GetDeltaForEpsilon(1.0), 3e-15);
    }

    // privacy_loss_distribution_basic_example.py: Laplace(3)×40 at interval 1e-3, δ(10); then with Gaussian(5).
    [Fact]
    public void BasicExample()
    {
        var laplace = PrivacyLossDistribution.FromLaplace(3, 1e-3, 1.0, pessimistic: true).SelfCompose(40);
        Assert.Equal(1.7856053220202864e-06, laplace.GetDeltaForEpsilon(10), 1e-9 * 1.7856053220202864e-06);
        var both = laplace.Compose(PrivacyLossDistribution.FromGaussian(5, 1e-3, 1.0, pessimistic: true));
        Assert.Equal(2.2397696464335686e-06, both.GetDeltaForEpsilon(10), 1e-9 * 2.2397696464335686e-06);
    }

    // Hockey-stick divergence and its inverse on a hand-made PMF: losses −0.5, 0, 0.5 with masses 0.2, 0.3, 0.4 and 0.1 at +∞.
    [Fact]
    public void HockeyStickAndInverse()
    {
        var pmf = new PldPmf(0.5, -1, [0.2, 0.3, 0.4], 0.1, pessimistic: true, isSparse: true);
        // δ(0) = 0.1 + 0.4·(1 − e^{−0.5}); losses ≤ 0 contribute nothing.
        var expected = 0.1 + (0.4 * (1 - Math.Exp(-0.5)));
        Assert.Equal(expected, pmf.GetDeltaForEpsilon(0), 15);
        var epsilon = pmf.GetEpsilonForDelta(0.12);
        Assert.Equal(0.12, pmf.GetDeltaForEpsilon(epsilon), 14);
        Assert.Equal(double.PositiveInfinity, pmf.GetEpsilonForDelta(0.05));
    }
}
