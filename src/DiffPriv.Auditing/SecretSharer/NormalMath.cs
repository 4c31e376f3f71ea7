namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// The standard normal distribution with full relative precision in the lower tail: φ, Φ and log Φ for any real x.
/// Built on W. J. Cody's rational Chebyshev approximations of the scaled complementary error function
/// erfcx(x) = exp(x²)·erfc(x) ("Rational Chebyshev approximations for the error function", Math. Comp. 23, 1969;
/// the CALERF coefficients), the same approximations DiffPriv.Accounting uses internally (its helpers are internal to
/// that assembly). Accurate to a few units in the last place.
/// </summary>
internal static class NormalMath
{
    /// <summary>log(2π)/2.</summary>
    public const double LogSqrt2Pi = 0.91893853320467274178;

    private const double InvSqrt2 = 0.70710678118654752440;
    private const double Ln2 = 0.69314718055994530942;
    private const double InvSqrtPi = 0.56418958354775628695;

    /// <summary>log φ(x) = −x²/2 − log √(2π).</summary>
    public static double LogPdf(double x) => (-0.5 * x * x) - LogSqrt2Pi;

    /// <summary>φ(x), the standard normal density.</summary>
    public static double Pdf(double x) => Math.Exp(LogPdf(x));

    /// <summary>Φ(x), with full relative precision for x &lt; 0 (down to the underflow near x ≈ −38).</summary>
    public static double Cdf(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        // Φ(x) = erfc(−x/√2)/2.
        var z = -x * InvSqrt2;
        if (z >= 0)
        {
            return z > 27.5 ? 0.0 : 0.5 * ExpMinusSquare(z) * ErfcxNonNegative(z);
        }

        var tail = -z > 27.5 ? 0.0 : 0.5 * ExpMinusSquare(-z) * ErfcxNonNegative(-z);
        return 1.0 - tail;
    }

    /// <summary>log Φ(x), finite for every finite x (−x²/2 + log(erfcx(−x/√2)/2) in the lower tail).</summary>
    public static double LogCdf(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        if (double.IsNegativeInfinity(x))
        {
            return double.NegativeInfinity;
        }

        var z = -x * InvSqrt2;
        if (z >= 0)
        {
            return Math.Log(ErfcxNonNegative(z)) - (z * z) - Ln2;
        }

        // Φ(x) = 1 − erfc(|z|)/2 ≥ 1/2: log1p of a small negative number.
        var tail = -z > 27.5 ? 0.0 : 0.5 * ExpMinusSquare(-z) * ErfcxNonNegative(-z);
        return Log1p(-tail);
    }

    /// <summary>φ(x)/Φ(x) (the inverse Mills ratio of −x), without overflow in the lower tail.</summary>
    public static double PdfOverCdf(double x)
    {
        var z = -x * InvSqrt2;
        if (z >= 0)
        {
            // φ(x)/Φ(x) = (e^{−z²}/√(2π)) / (e^{−z²}·erfcx(z)/2) = √(2/π)/erfcx(z).
            return 2.0 * InvSqrtPi * InvSqrt2 / ErfcxNonNegative(z);
        }

        return Pdf(x) / Cdf(x);
    }

    /// <summary>log(1 + x), accurate for tiny |x| (Goldberg's correction of the rounded argument).</summary>
    public static double Log1p(double x)
    {
        var u = 1.0 + x;
        if (u == 1.0)
        {
            return x;
        }

        if (double.IsPositiveInfinity(u))
        {
            return u;
        }

        return Math.Log(u) * (x / (u - 1.0));
    }

    /// <summary>exp(−x²) with the square split so the exponent is exact to working precision (as in CALERF).</summary>
    private static double ExpMinusSquare(double x)
    {
        var hi = Math.Truncate(x * 16.0) / 16.0;
        var lo = (x - hi) * (x + hi);
        return Math.Exp(-hi * hi) * Math.Exp(-lo);
    }

    /// <summary>erfcx(x) = exp(x²)·erfc(x) for x ≥ 0 (Cody's three regions: x ≤ 0.46875, x ≤ 4, x &gt; 4).</summary>
    private static double ErfcxNonNegative(double x)
    {
        if (x <= 0.46875)
        {
            var z = x * x;
            var num = 1.85777706184603153e-1 * z;
            var den = z;
            num = (num + 3.16112374387056560e00) * z;
            den = (den + 2.36012909523441209e01) * z;
            num = (num + 1.13864154151050156e02) * z;
            den = (den + 2.44024637934444173e02) * z;
            num = (num + 3.77485237685302021e02) * z;
            den = (den + 1.28261652607737228e03) * z;
            var erf = x * (num + 3.20937758913846947e03) / (den + 2.84423683343917062e03);
            return Math.Exp(z) * (1.0 - erf);
        }

        if (x <= 4.0)
        {
            var num = 2.15311535474403846e-8 * x;
            var den = x;
            num = (num + 5.64188496988670089e-1) * x;
            den = (den + 1.57449261107098347e01) * x;
            num = (num + 8.88314979438837594e00) * x;
            den = (den + 1.17693950891312499e02) * x;
            num = (num + 6.61191906371416295e01) * x;
            den = (den + 5.37181101862009858e02) * x;
            num = (num + 2.98635138197400131e02) * x;
            den = (den + 1.62138957456669019e03) * x;
            num = (num + 8.81952221241769090e02) * x;
            den = (den + 3.29079923573345963e03) * x;
            num = (num + 1.71204761263407058e03) * x;
            den = (den + 4.36261909014324716e03) * x;
            num = (num + 2.05107837782607147e03) * x;
            den = (den + 3.43936767414372164e03) * x;
            return (num + 1.23033935479799725e03) / (den + 1.23033935480374942e03);
        }

        if (x >= 6.71e7)
        {
            return InvSqrtPi / x;
        }

        var w = 1.0 / (x * x);
        var pNum = 1.63153871373020978e-2 * w;
        var pDen = w;
        pNum = (pNum + 3.05326634961232344e-1) * w;
        pDen = (pDen + 2.56852019228982242e00) * w;
        pNum = (pNum + 3.60344899949804439e-1) * w;
        pDen = (pDen + 1.87295284992346047e00) * w;
        pNum = (pNum + 1.25781726111229246e-1) * w;
        pDen = (pDen + 5.27905102951428412e-1) * w;
        pNum = (pNum + 1.60837851487422766e-2) * w;
        pDen = (pDen + 6.05183413124413191e-2) * w;
        var r = w * (pNum + 6.58749161529837803e-4) / (pDen + 2.33520497626869185e-3);
        return (InvSqrtPi - r) / x;
    }
}
