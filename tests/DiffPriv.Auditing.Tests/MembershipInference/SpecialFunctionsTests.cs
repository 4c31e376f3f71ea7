using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Tests.MembershipInference;

/// <summary>Log-gamma and the regularized incomplete beta function against identities and independent oracles.</summary>
public sealed class SpecialFunctionsTests
{
    // e^x − 1 without cancellation (Kahan's trick); .NET's double.ExpM1 is exp(x) − 1.
    internal static double ExpM1(double x)
    {
        var u = Math.Exp(x);
        if (u == 1)
        {
            return x;
        }

        var um1 = u - 1;
        return um1 == -1 ? -1 : um1 * x / Math.Log(u);
    }

    // ln((n − 1)!) by summing logs: an oracle independent of the Lanczos and Stirling code paths.
    private static double LogFactorialOfPredecessor(int n)
    {
        var sum = 0.0;
        for (var k = 2; k < n; k++)
        {
            sum += Math.Log(k);
        }

        return sum;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(50)]
    [InlineData(1000)]
    [InlineData(100_000)]
    public void LogGammaOfIntegersIsLogFactorial(int n)
    {
        var expected = LogFactorialOfPredecessor(n);
        Assert.Equal(expected, SpecialFunctions.LogGamma(n), 1e-13 * Math.Max(1, Math.Abs(expected)));
    }

    [Fact]
    public void LogGammaAtHalfIntegersMatchesClosedForm()
    {
        // Γ(½) = √π and Γ(x + 1) = x·Γ(x).
        Assert.Equal(0.5 * Math.Log(Math.PI), SpecialFunctions.LogGamma(0.5), 1e-15);
        var expected = 0.5 * Math.Log(Math.PI);
        for (var x = 0.5; x < 30; x += 1)
        {
            expected += Math.Log(x);
            Assert.Equal(expected, SpecialFunctions.LogGamma(x + 1), 1e-13 * Math.Max(1, Math.Abs(expected)));
        }

        // Reflection branch: Γ(0.25)·Γ(0.75) = π√2.
        Assert.Equal(Math.Log(Math.PI * Math.Sqrt(2)), SpecialFunctions.LogGamma(0.25) + SpecialFunctions.LogGamma(0.75), 1e-14);
    }

    // Dyadic x, so that 1 − x is exact and the closed forms below are accurate oracles.
    [Theory]
    [InlineData(0.3125, 1, 7)]
    [InlineData(0.0009765625, 1, 60000)]
    [InlineData(0.875, 1, 2.5)]
    public void FirstParameterOneHasClosedForm(double x, double a, double b)
    {
        // I_x(1, b) = 1 − (1 − x)^b.
        var (value, complement) = SpecialFunctions.RegularizedIncompleteBeta(x, a, b);
        Assert.Equal(-SpecialFunctionsTests.ExpM1(b * Math.Log(1 - x)), value, 1e-13);
        Assert.Equal(Math.Exp(b * Math.Log(1 - x)), complement, 1e-13 * Math.Max(complement, 1e-300));
    }

    [Theory]
    [InlineData(0.3125, 7)]
    [InlineData(0.9990234375, 60000)]
    [InlineData(0.5, 0.5)]
    public void SecondParameterOneHasClosedForm(double x, double a)
    {
        // I_x(a, 1) = x^a.
        var (value, _) = SpecialFunctions.RegularizedIncompleteBeta(x, a, 1);
        var expected = Math.Pow(x, a);
        Assert.Equal(expected, value, 1e-12 * expected);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2.5)]
    [InlineData(10)]
    [InlineData(1000)]
    [InlineData(12345.5)]
    [InlineData(3e6)]
    public void SymmetricBetaHasMedianOneHalf(double a)
    {
        var (value, complement) = SpecialFunctions.RegularizedIncompleteBeta(0.5, a, a);
        Assert.Equal(0.5, value, 1e-12);
        Assert.Equal(0.5, complement, 1e-12);
    }

    // P(X ≤ k) for X ~ Binomial(n, p) by summing the pmf in log space: the oracle for I_{1−p}(n − k, k + 1).
    internal static double BinomialCdf(int k, int n, double p)
    {
        var logTerms = new double[k + 1];
        for (var j = 0; j <= k; j++)
        {
            logTerms[j] = SpecialFunctions.LogGamma(n + 1) - SpecialFunctions.LogGamma(j + 1) - SpecialFunctions.LogGamma(n - j + 1)
                + (j == 0 ? 0 : j * Math.Log(p)) + (n - j == 0 ? 0 : (n - j) * Math.Log(1 - p));
        }

        var max = logTerms.Max();
        return Math.Exp(max) * logTerms.Sum(t => Math.Exp(t - max));
    }

    [Theory]
    [InlineData(3, 30, 0.2)]
    [InlineData(0, 30, 0.05)]
    [InlineData(29, 30, 0.9)]
    [InlineData(15, 30, 0.5)]
    [InlineData(5, 2000, 0.001)]
    [InlineData(1000, 2000, 0.52)]
    [InlineData(40, 60000, 0.0005)]
    public void MatchesTheBinomialDistribution(int k, int n, double p)
    {
        // P(Bin(n, p) ≤ k) = I_{1−p}(n − k, k + 1) (DLMF 8.17.5).
        var expected = BinomialCdf(k, n, p);
        var (value, _) = SpecialFunctions.RegularizedIncompleteBeta(1 - p, n - k, k + 1);
        Assert.Equal(expected, value, 1e-10 * expected);
    }

    [Fact]
    public void ValueAndComplementAreSymmetric()
    {
        foreach (var (a, b) in new[] { (0.5, 0.5), (2.0, 3.0), (30.0, 7.0), (1.0, 60000.0), (59999.0, 2.0), (5000.0, 5000.0) })
        {
            // Dyadic x: 1 − x is exact, so both calls see the same point.
            foreach (var x in new[] { Math.ScaleB(1, -20), Math.ScaleB(1, -7), 0.3125, 0.5, 0.6875, 1 - Math.ScaleB(1, -7), 1 - Math.ScaleB(1, -20) })
            {
                var (v, c) = SpecialFunctions.RegularizedIncompleteBeta(x, a, b);
                var (v2, c2) = SpecialFunctions.RegularizedIncompleteBeta(1 - x, b, a);
                Assert.Equal(c, v2, 1e-12);
                Assert.Equal(v, c2, 1e-12);
                Assert.InRange(v, 0, 1);
            }
        }
    }

    [Fact]
    public void InverseRoundTripsAcrossShapesAndTails()
    {
        var shapes = new[] { (0.5, 0.5), (1.0, 1.0), (1.0, 60000.0), (2.0, 499.0), (11.0, 90.0), (100.0, 11.0), (500.0, 1.0), (30000.0, 30001.0), (3.0, 1e6) };
        var probabilities = new[] { 1e-12, 1e-5, 0.005, 0.025, 0.3, 0.5, 0.7, 0.975, 0.995, 1 - 1e-9 };
        foreach (var (a, b) in shapes)
        {
            foreach (var p in probabilities)
            {
                var x = SpecialFunctions.InverseRegularizedIncompleteBeta(p, a, b);
                var (value, complement) = SpecialFunctions.RegularizedIncompleteBeta(x, a, b);
                // Compare on the accurate side; where the root is not representable (1 − x below one ulp of 1), the
                // target must at least be bracketed by the neighbouring doubles.
                var close = p <= 0.5
                    ? Math.Abs(value - p) <= 1e-10 * p
                    : Math.Abs(complement - (1 - p)) <= 1e-9 * (1 - p);
                if (!close)
                {
                    var below = SpecialFunctions.RegularizedIncompleteBeta(Math.BitDecrement(x), a, b).Value;
                    var above = x < 1 ? SpecialFunctions.RegularizedIncompleteBeta(Math.BitIncrement(x), a, b).Value : 1;
                    Assert.True(below <= p && p <= above, $"a={a} b={b} p={p}: x = {x}, I_x = {value}, 1 − I_x = {complement}");
                }

                // The upper-tail inverse takes the tail probability itself: 1 − I_y = p.
                var y = SpecialFunctions.InverseRegularizedIncompleteBetaComplement(p, a, b);
                var (valueY, complementY) = SpecialFunctions.RegularizedIncompleteBeta(y, a, b);
                var closeY = p <= 0.5
                    ? Math.Abs(complementY - p) <= 1e-10 * p
                    : Math.Abs(valueY - (1 - p)) <= 1e-9 * (1 - p);
                if (!closeY)
                {
                    var below = SpecialFunctions.RegularizedIncompleteBeta(Math.BitDecrement(y), a, b).Complement;
                    var above = y < 1 ? SpecialFunctions.RegularizedIncompleteBeta(Math.BitIncrement(y), a, b).Complement : 0;
                    Assert.True(above <= p && p <= below, $"a={a} b={b} q={p}: y = {y}, 1 − I_y = {complementY}");
                }
            }
        }
    }
}
