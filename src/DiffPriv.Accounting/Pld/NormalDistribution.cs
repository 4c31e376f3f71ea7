using DiffPriv.Accounting.Numerics;
namespace DiffPriv.Accounting.Pld;

/// <summary>
/// The standard normal distribution: Φ (ndtr), its complement and log Φ, built on erf/erfc rational
/// approximations (Cephes coefficients, W. J. Cody's form) with an exp(−x²) that keeps full relative accuracy.
/// .NET has no erf; these are accurate to about 1e-15 relative over the whole range and never underflow in log form.
/// </summary>
internal static class NormalDistribution
{
    private const double InvSqrt2 = 0.70710678118654752440;
    private const double Ln2 = 0.69314718055994530942;

    // erf(x) = x·T(x²)/U(x²) for |x| < 1.
    private static readonly double[] T = [9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3, 7.00332514112805075473E3, 5.55923013010394962768E4];
    private static readonly double[] U = [3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3, 2.26290000613890934246E4, 4.92673942608635921086E4];

    // erfc(x) = exp(−x²)·P(x)/Q(x) for 1 ≤ x < 8.
    private static readonly double[] P = [2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0, 4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2, 9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2];
    private static readonly double[] Q = [1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2, 9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3, 1.65666309194161350182E3, 5.57535340817727675546E2];

    // erfc(x) = exp(−x²)·R(x)/S(x) for x ≥ 8.
    private static readonly double[] R = [5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0, 6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0];
    private static readonly double[] S = [2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1, 1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0];

    private static double PolEvl(double x, double[] c)
    {
        var r = c[0];
        for (var i = 1; i < c.Length; i++)
        {
            r = (r * x) + c[i];
        }

        return r;
    }

    // Polynomial with an implicit leading coefficient 1.
    private static double P1Evl(double x, double[] c)
    {
        var r = x + c[0];
        for (var i = 1; i < c.Length; i++)
        {
            r = (r * x) + c[i];
        }

        return r;
    }

    /// <summary>erf(x) for |x| ≤ 1.</summary>
    private static double ErfSmall(double x)
    {
        var z = x * x;
        return x * PolEvl(z, T) / P1Evl(z, U);
    }

    /// <summary>erfc(x)·exp(x²) for x ≥ 1 (the scaled complementary error function).</summary>
    private static double ErfcScaledLarge(double x) =>
        x < 8.0 ? PolEvl(x, P) / P1Evl(x, Q) : PolEvl(x, R) / P1Evl(x, S);

    /// <summary>exp(−x²) without the relative error that rounding x² would cause: x² = s + e exactly (e by FMA), and e^{−e} ≈ 1 − e.</summary>
    private static double ExpMinusSquare(double x)
    {
        var square = x * x;
        var error = Math.FusedMultiplyAdd(x, x, -square);
        return Math.Exp(-square) * (1.0 - error);
    }

    /// <summary>erfc(x) for any real x.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        var ax = Math.Abs(x);
        if (ax < 1.0)
        {
            return 1.0 - ErfSmall(x);
        }

        var y = ax > 27.3 ? 0.0 : ExpMinusSquare(ax) * ErfcScaledLarge(ax);
        return x < 0 ? 2.0 - y : y;
    }

    /// <summary>Φ(x), the standard normal CDF.</summary>
    public static double Cdf(double x)
    {
        var z = x * InvSqrt2;
        if (Math.Abs(z) < 1.0)
        {
            return 0.5 + (0.5 * ErfSmall(z));
        }

        var y = 0.5 * Erfc(Math.Abs(z));
        return z > 0 ? 1.0 - y : y;
    }

    /// <summary>log Φ(x), finite for every finite x.</summary>
    public static double LogCdf(double x)
    {
        if (double.IsNegativeInfinity(x))
        {
            return double.NegativeInfinity;
        }

        var z = -x * InvSqrt2;
        if (z >= 1.0)
        {
            // Φ(x) = erfc(z)/2 = exp(−z²)·scaled(z)/2 with z = −x/√2 ≥ 1.
            return -(z * z) + Math.Log(ErfcScaledLarge(z)) - Ln2;
        }

        // Φ(x) ≥ Φ(−√2) ≈ 0.079: log of the complement is accurate.
        return LogMath.Log1p(-0.5 * Erfc(-z));
    }

    /// <summary>
    /// Φ(x) and 1 − Φ(x) from one erfc evaluation, each with full relative accuracy on its small side.
    /// </summary>
    public static (double Cdf, double Sf) CdfAndSf(double x)
    {
        if (x <= 0)
        {
            var c = Cdf(x);
            return (c, 1.0 - c);
        }

        var s = Cdf(-x);
        return (1.0 - s, s);
    }

    /// <summary>Φ⁻¹(p) for 0 &lt; p &lt; 1 given as log p ≤ log 0.5, by Newton's method on log Φ.</summary>
    public static double InverseCdfFromLog(double logP)
    {
        // Start from the tail asymptotics log Φ(x) ≈ −x²/2 − log(−x√(2π)).
        var x = logP < -1 ? -Math.Sqrt(-2.0 * logP) : -0.5;
        for (var i = 0; i < 100; i++)
        {
            var f = LogCdf(x) - logP;
            // d/dx log Φ(x) = φ(x)/Φ(x).
            var logPdf = (-0.5 * x * x) - (0.5 * Math.Log(2 * Math.PI));
            var step = f / Math.Exp(logPdf - LogCdf(x));
            x -= step;
            if (Math.Abs(step) <= 1e-15 * Math.Max(1.0, Math.Abs(x)))
            {
                break;
            }
        }

        return x;
    }
}
