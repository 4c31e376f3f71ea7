using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Tuning;

namespace DiffPriv.Accounting.Tests.Tuning;

public sealed class RunCountDistributionTests
{
    /// <summary>
    /// γ for (shape, mean), computed with dp_accounting's <c>_gamma_truncated_negative_binomial</c>
    /// (google/differential-privacy, python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant.py at commit
    /// b5b0286e313b64a692abfc8c528d54ef47d960a0; its tests hold no literal γ, so the values were computed by running it).
    /// </summary>
    [Theory]
    [InlineData(0.0, 3.0, 0.1489992964391907)]
    [InlineData(0.5, 3.0, 0.25)]
    [InlineData(1.0, 3.0, 0.3333333333333333)]
    [InlineData(2.0, 10.0, 0.17082039322704082)]
    [InlineData(0.25, 5.5, 0.09183438934004781)]
    [InlineData(3.0, 1.5, 0.8105357135646045)]
    public void GammaMatchesDpAccounting(double shape, double mean, double expected)
    {
        var gamma = new RunCountDistribution(mean, shape).Gamma;
        Assert.True(Math.Abs(gamma - expected) <= 2e-9 * expected, $"γ = {gamma:R}, dp_accounting {expected:R}");
        Assert.True(DiffPriv.Accounting.Rdp.RepeatAndSelectRdp.Mean(gamma, shape) >= mean, "the kept γ is the conservative end");
    }

    [Theory]
    [InlineData(3.0, double.PositiveInfinity)]
    [InlineData(3.0, 0.0)]
    [InlineData(3.0, 1.0)]
    [InlineData(5.5, 0.25)]
    [InlineData(10.0, 2.0)]
    [InlineData(1.0, 1.0)]
    public void TheProbabilitiesSumToOneWithTheStatedMean(double mean, double shape)
    {
        var d = new RunCountDistribution(mean, shape);
        var total = 0.0;
        var first = 0.0;
        for (var k = 0; k < 2000; k++)
        {
            total += d.Probability(k);
            first += k * d.Probability(k);
        }

        Assert.Equal(1.0, total, 9);
        Assert.Equal(mean, first, 6);
        if (!double.IsPositiveInfinity(shape))
        {
            Assert.Equal(0.0, d.Probability(0));
        }
    }

    [Theory]
    [InlineData(3.0, double.PositiveInfinity)]
    [InlineData(3.0, 1.0)]
    [InlineData(4.0, 0.0)]
    public void InversionSamplesHaveTheDistributionsFrequencies(double mean, double shape)
    {
        var d = new RunCountDistribution(mean, shape);
        var random = new Random(11);
        const int n = 200_000;
        var counts = new int[64];
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            var k = d.Sample(random.NextDouble());
            sum += k;
            counts[Math.Min(k, 63)]++;
        }

        // Each frequency within 5 standard errors of its probability; the sample mean within 5 standard errors of the mean.
        for (var k = 0; k < 10; k++)
        {
            var p = d.Probability(k);
            Assert.InRange(counts[k] / (double)n, p - (5 * Math.Sqrt(p * (1 - p) / n)) - 1e-12, p + (5 * Math.Sqrt(p * (1 - p) / n)) + 1e-12);
        }

        var variance = Enumerable.Range(0, 400).Sum(k => d.Probability(k) * (k - mean) * (k - mean));
        Assert.InRange(sum / n, mean - (5 * Math.Sqrt(variance / n)), mean + (5 * Math.Sqrt(variance / n)));
        Assert.Equal(0, d.Sample(0.0) - (double.IsPositiveInfinity(shape) ? 0 : 1));
    }

    [Fact]
    public void TheEventIsRepeatAndSelectWithTheSameParameters()
    {
        var run = new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0));
        Assert.Equal(new RepeatAndSelectDpEvent(run, 3.0, 1.0), new RunCountDistribution(3.0, 1.0).Event(run));
    }

    [Fact]
    public void BadParametersAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunCountDistribution(0.5, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunCountDistribution(double.PositiveInfinity, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunCountDistribution(3, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunCountDistribution(3, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RunCountDistribution(3, 1).Sample(1.0));
    }
}
