using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Tests.MembershipInference;

/// <summary>
/// Clopper–Pearson intervals. References: R's binom.test output (recomputed by reference_values.py in this folder with
/// statsmodels 0.13.5 proportion_confint(method="beta") and scipy 1.10.1 beta.ppf, Debian 12 packages), and
/// tensorflow/privacy @ 03035d5d4a271ac795dab80f5bc1cef82fc3d462, tensorflow_privacy/privacy/privacy_tests/
/// epsilon_lower_bound.py and epsilon_lower_bound_test.py.
/// </summary>
public sealed class ClopperPearsonTests
{
    [Fact]
    public void MatchesRBinomTest()
    {
        // R: binom.test(9, 24) → 95 percent confidence interval 0.1879929 0.5940636 (printed to 7 digits).
        var (lower, upper) = ClopperPearson.Interval(9, 24, 0.95);
        Assert.Equal(0.1879929, lower, 5e-8);
        Assert.Equal(0.5940636, upper, 5e-8);

        // R: binom.test(1, 1497, 0.0033, conf.level = 0.9) → 90 percent confidence interval 3.426347e-05 3.164954e-03.
        (lower, upper) = ClopperPearson.Interval(1, 1497, 0.9);
        Assert.Equal(3.426347e-05, lower, 5e-12);
        Assert.Equal(3.164954e-03, upper, 5e-10);
    }

    [Theory]
    // TF Privacy epsilon_lower_bound.py, RatioBound CLOPPER_PEARSON = lower CP end of TPR / upper CP end of FPR
    // (statsmodels proportion_confint(method="beta")); docstring example tp [100, 90], fp [10, 5], pos 110, neg 80,
    // α = 0.05 → [3.8513399089, 5.2429215136] (computed with that commit's RatioBound and statsmodels 0.13.5).
    [InlineData(100, 110, 10, 80, 0.95, 3.8513399089)]
    [InlineData(90, 110, 5, 80, 0.95, 5.2429215136)]
    public void RatioOfEndsMatchesTfPrivacy(int tp, int positives, int fp, int negatives, double confidence, double expected)
    {
        var tprLower = ClopperPearson.Interval(tp, positives, confidence).Lower;
        var fprUpper = ClopperPearson.Interval(fp, negatives, confidence).Upper;
        Assert.Equal(expected, tprLower / fprUpper, 1e-9 * expected);
    }

    [Fact]
    public void PerfectSeparationAtAlphaOnePercentMatchesTfPrivacy()
    {
        // TF Privacy epsilon_lower_bound_test.py test_bound_scalar_clopper_pearson (stated): tp = 500 of 500, fp = 0 of 500, α = 0.01 → ln(CLOPPER_PEARSON) = 4.54 (places 2).
        var tprLower = ClopperPearson.Interval(500, 500, 0.99).Lower;
        var fprUpper = ClopperPearson.Interval(0, 500, 0.99).Upper;
        Assert.Equal(4.54, Math.Log(tprLower / fprUpper), 0.005);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(500)]
    [InlineData(60000)]
    public void ExtremeCountsHaveClosedForms(int n)
    {
        // k = 0: upper = 1 − (α/2)^(1/n); k = n: lower = (α/2)^(1/n).
        var (lower0, upper0) = ClopperPearson.Interval(0, n, 0.95);
        Assert.Equal(0, lower0);
        Assert.Equal(-SpecialFunctionsTests.ExpM1(Math.Log(0.025) / n), upper0, 1e-13 * upper0);
        var (lowerN, upperN) = ClopperPearson.Interval(n, n, 0.95);
        Assert.Equal(Math.Exp(Math.Log(0.025) / n), lowerN, 1e-13);
        Assert.Equal(1, upperN);
    }

    [Theory]
    [InlineData(3, 40, 0.95)]
    [InlineData(17, 25, 0.9)]
    [InlineData(2, 5000, 0.95)]
    [InlineData(4990, 5000, 0.99)]
    public void EndsSolveTheDefiningBinomialTailEquations(int k, int n, double confidence)
    {
        // Clopper & Pearson (1934): P(X ≥ k | p = lower) = α/2 and P(X ≤ k | p = upper) = α/2, X ~ Binomial(n, p),
        // checked by summing the binomial pmf directly.
        var alpha = 1 - confidence;
        var (lower, upper) = ClopperPearson.Interval(k, n, confidence);
        Assert.Equal(alpha / 2, SpecialFunctionsTests.BinomialCdf(k, n, upper), 1e-9 * alpha);
        Assert.Equal(alpha / 2, 1 - SpecialFunctionsTests.BinomialCdf(k - 1, n, lower), 1e-9 * alpha);
        Assert.Equal(upper, ClopperPearson.Upper(k, n, confidence));
    }

    [Theory]
    [InlineData(-1, 10, 0.95)]
    [InlineData(11, 10, 0.95)]
    [InlineData(1, 0, 0.95)]
    [InlineData(1, 10, 1.0)]
    [InlineData(1, 10, 0.0)]
    [InlineData(1, 10, double.NaN)]
    public void RejectsInvalidArguments(long k, long n, double confidence) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ClopperPearson.Interval(k, n, confidence));
}
