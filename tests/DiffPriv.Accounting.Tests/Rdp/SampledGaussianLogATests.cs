using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting.Tests.Rdp;

/// <summary>
/// DPA test_compute_log_a_equals_mp (google/differential-privacy @ b5b0286e313b64a692abfc8c528d54ef47d960a0,
/// python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py): log A_α of the sampled Gaussian mechanism,
/// A_α = ∫ N(z; 0, σ²) ((1 − q) + q·exp((2z − 1)/(2σ²)))^α dz, against an independent numerical integral.
/// Upstream integrates with mpmath; here the oracle is a trapezoidal rule in log space on a grid of step σ/200
/// (spectrally accurate for this smooth, Gaussian-tailed integrand), covering every binomial component
/// (centred at z = 0 … α, width σ).
/// </summary>
public sealed class SampledGaussianLogATests
{
    [Theory]
    [InlineData(1e-7, 0.1, 1.01)]
    [InlineData(1e-6, 0.1, 256)]
    [InlineData(1e-5, 0.1, 256.1)]
    [InlineData(1e-6, 1, 27)]
    [InlineData(1e-4, 1.0, 1.5)]
    [InlineData(1e-3, 1.0, 2)]
    [InlineData(0.01, 10, 20)]
    [InlineData(0.1, 100, 20.5)]
    [InlineData(0.99, 0.1, 256)]
    [InlineData(0.999, 100, 256.1)]
    public void LogAEqualsNumericalIntegral(double q, double sigma, double alpha)
    {
        var expected = LogAByQuadrature(q, sigma, alpha);
        var actual = RdpMath.LogA(q, sigma, alpha);

        // Upstream's criterion: assert_allclose(rtol=1e-4, atol=1e-8).
        Assert.True(Math.Abs(actual - expected) <= 1e-8 + (1e-4 * Math.Abs(expected)), $"log A = {actual:R}, quadrature {expected:R}");

        // Tighter and one-sided: the fractional series sums |C(α, i)| (as dp_accounting does), so it can only
        // overestimate A_α; integer orders are exact. Neither may fall below the integral beyond rounding.
        Assert.True(actual >= expected - (1e-12 + (1e-9 * Math.Abs(expected))), $"log A = {actual:R} is below the integral {expected:R}");
        if (alpha == Math.Floor(alpha))
        {
            Assert.True(Math.Abs(actual - expected) <= 1e-12 + (1e-9 * Math.Abs(expected)), $"log A = {actual:R}, quadrature {expected:R}");
        }
    }

    // DPA's _compute_log_a_frac (rdp_privacy_accountant.py at b5b0286e…), first evaluated with mpmath's log|Γ| and
    // log erfc in place of scipy's, since re-run as is with scipy 1.10.1 (reference_values.py): all agree to 4e-12
    // relative, and the C# series reproduces them to rounding.
    [Theory]
    [InlineData(1e-4, 1.0, 1.5, 6.445198025030585e-09)]
    [InlineData(1e-7, 0.1, 1.01, 4.0034136195371197e-08)]
    [InlineData(1e-5, 0.1, 256.1, 3263607.039788421)]
    [InlineData(0.1, 100, 20.5, 0.0001999181845798699)]
    [InlineData(0.999, 100, 256.1, 3.2601080379730956)]
    [InlineData(0.01, 2.5, 1.5, 6.70579740668356e-06)]
    [InlineData(0.01, 1.0, 2.5, 0.0003266580363609653)]
    public void FractionalLogAMatchesDpAccountantSeries(double q, double sigma, double alpha, double expected)
    {
        var actual = RdpMath.LogAFractional(q, sigma, alpha);
        Assert.True(Math.Abs(actual - expected) <= 1e-15 + (1e-9 * Math.Abs(expected)), $"log A = {actual:R}, upstream series {expected:R}");
    }

    // The fractional-order series is continuous with the integer-order binomial sum.
    [Theory]
    [InlineData(0.01, 1.0, 2)]
    [InlineData(0.01, 1.0, 5)]
    [InlineData(0.01, 2.5, 50)]
    [InlineData(0.2, 3.0, 12)]
    [InlineData(1e-3, 0.5, 30)]
    public void FractionalSeriesMeetsIntegerSumAtIntegers(double q, double sigma, int alpha)
    {
        var integer = RdpMath.LogAInteger(q, sigma, alpha);
        foreach (var offset in new[] { -1e-9, 1e-9 })
        {
            var fractional = RdpMath.LogAFractional(q, sigma, alpha + offset);
            Assert.True(Math.Abs(fractional - integer) <= 1e-7 * Math.Max(1, Math.Abs(integer)), $"α = {alpha + offset}: {fractional:R} vs {integer:R}");
        }
    }

    private static double LogAByQuadrature(double q, double sigma, double alpha)
    {
        var h = sigma / 200;
        var lo = (-30 * sigma) - 2;
        var hi = alpha + (30 * sigma) + 2;
        var n = (int)Math.Ceiling((hi - lo) / h);
        var logQ = Math.Log(q);
        var log1mQ = Math.Log(1 - q);
        var logNorm = -Math.Log(sigma * Math.Sqrt(2 * Math.PI));
        var logs = new double[n + 1];
        var max = double.NegativeInfinity;
        for (var k = 0; k <= n; k++)
        {
            var z = lo + (k * h);
            var t = ((2 * z) - 1) / (2 * sigma * sigma);
            var a = log1mQ;
            var b = logQ + t;
            var mix = Math.Max(a, b) + Math.Log(1 + Math.Exp(-Math.Abs(a - b)));
            logs[k] = logNorm - (z * z / (2 * sigma * sigma)) + (alpha * mix);
            max = Math.Max(max, logs[k]);
        }

        var sum = 0.0;
        for (var k = 0; k <= n; k++)
        {
            var w = k == 0 || k == n ? 0.5 : 1.0;
            sum += w * Math.Exp(logs[k] - max);
        }

        return max + Math.Log(h * sum);
    }
}
