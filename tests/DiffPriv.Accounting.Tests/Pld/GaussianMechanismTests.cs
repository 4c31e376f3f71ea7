namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>
/// Exact analytic Gaussian mechanism (Balle &amp; Wang 2018). Golden values computed with google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/gaussian_mechanism.py
/// (get_epsilon_gaussian / get_sigma_gaussian, brentq with tol 1e-12); δ values stated in
/// pld/privacy_loss_mechanism_test.py at that commit.
/// </summary>
public sealed class GaussianMechanismTests
{
    [Theory]
    [InlineData(1.0, 1e-5, 4.377178095681133)]
    [InlineData(0.5, 1e-3, 7.581279924570115)]
    [InlineData(3.0, 1e-2, 0.5335140871111663)]
    [InlineData(1.0, 0.1, 1.1603338527916218)]
    [InlineData(4.530877117, 1e-6, 0.9273923379974423)]
    public void EpsilonMatchesDpAccounting(double sigma, double delta, double expected)
    {
        // Upstream's root finder stops at xtol 1e-12; ours bisects to the last bit.
        Assert.Equal(expected, GaussianMechanism.GetEpsilon(sigma, delta), 1e-11);
    }

    [Theory]
    [InlineData(1.0, 1e-5, 3.7306316348159374)]
    [InlineData(1.0, 1e-6, 4.224678889326828)]
    [InlineData(2.0, 1e-5, 1.9938124456435373)]
    [InlineData(0.5, 1e-5, 7.031826675582503)]
    public void NoiseMultiplierMatchesDpAccounting(double epsilon, double delta, double expected)
    {
        Assert.Equal(expected, GaussianMechanism.GetNoiseMultiplier(epsilon, delta), 1e-11);
    }

    [Theory]
    [InlineData(1.0, 1.0, 0.12693674)]   // pld/privacy_loss_mechanism_test.py (σ 1, Δ 1, ε 1)
    [InlineData(1.0 / 3.0, 1.0, 0.78760074)] // (σ 1, Δ 3, ε 1) ≡ σ = 1/3
    [InlineData(1.0, 2.0, 0.02092364)]   // (σ 1, Δ 1, ε 2)
    public void DeltaMatchesMechanismValues(double sigma, double epsilon, double expected)
    {
        Assert.Equal(expected, GaussianMechanism.GetDelta(sigma, epsilon), 7);
    }

    [Theory]
    [InlineData(1e-3)]
    [InlineData(0.1)]
    [InlineData(1.0)]
    [InlineData(10.0)]
    [InlineData(1e3)]
    public void RoundTrips(double sigma)
    {
        // Upstream's gaussian_mechanism_test property: σ(ε(σ, δ), δ) ≈ σ.
        foreach (var delta in new[] { 1e-10, 1e-5, 0.1, 0.5 })
        {
            var epsilon = GaussianMechanism.GetEpsilon(sigma, delta);
            if (epsilon == 0)
            {
                continue;
            }

            Assert.Equal(delta, GaussianMechanism.GetDelta(sigma, epsilon), delta * 1e-6);
            Assert.Equal(sigma, GaussianMechanism.GetNoiseMultiplier(epsilon, delta), sigma * 1e-7);
        }
    }

    [Fact]
    public void EdgeCases()
    {
        Assert.Equal(double.PositiveInfinity, GaussianMechanism.GetEpsilon(0, 1e-5));
        Assert.Equal(0, GaussianMechanism.GetEpsilon(1, 1));
        Assert.Equal(double.PositiveInfinity, GaussianMechanism.GetEpsilon(1, 0));
        Assert.Equal(double.PositiveInfinity, GaussianMechanism.GetNoiseMultiplier(1, 0));
        Assert.Equal(0, GaussianMechanism.GetNoiseMultiplier(1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianMechanism.GetEpsilon(-1, 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianMechanism.GetEpsilon(1, 1.5));
    }
}
