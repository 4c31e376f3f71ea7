namespace DiffPriv.Accounting.Numerics;

/// <summary>
/// log-space arithmetic and special functions the accountants need, written to keep full double precision
/// where the framework's own helpers do not (<c>double.LogP1</c>/<c>double.ExpM1</c> are computed as
/// <c>Log(1 + x)</c> and <c>Exp(x) - 1</c>, which lose all digits for tiny x).
/// </summary>
internal static class LogMath
{
    private const double Ln2 = 0.69314718055994530942;

    // 1/√π.
    private const double InvSqrtPi = 0.56418958354775628695;

    /// <summary>log(1 + x), accurate for tiny |x| (Goldberg's correction of the rounded argument).</summary>
    public static double Log1p(double x)
    {
        if (double.IsPositiveInfinity(x))
        {
            return x;
        }

        var u = 1.0 + x;
        if (u == 1.0)
        {
            return x;
        }

        // log(u) is exact for the rounded u; rescale by x/(u - 1) to undo the rounding of 1 + x.
        return Math.Log(u) * (x / (u - 1.0));
    }

    /// <summary>exp(x) − 1, accurate for tiny |x| (Kahan's correction).</summary>
    public static double Expm1(double x)
    {
        var u = Math.Exp(x);
        if (u == 1.0)
        {
            return x;
        }

        var um1 = u - 1.0;
        if (um1 == -1.0 || double.IsPositiveInfinity(u))
        {
            return um1;
        }

        return um1 * (x / Math.Log(u));
    }

    /// <summary>log(eˣ + eʸ) without overflow; −∞ stands for 0.</summary>
    public static double LogAdd(double x, double y)
    {
        var (lo, hi) = x < y ? (x, y) : (y, x);
        if (double.IsNegativeInfinity(lo))
        {
            return hi;
        }

        return hi + Log1p(Math.Exp(lo - hi));
    }

    /// <summary>log|eˣ − eʸ| and whether eˣ ≥ eʸ; equal inputs give (true, −∞).</summary>
    public static (bool NonNegative, double LogMagnitude) LogSubSign(double x, double y)
    {
        if (x > y)
        {
            return (true, x + Log1p(-Math.Exp(y - x)));
        }

        if (x < y)
        {
            return (false, y + Log1p(-Math.Exp(x - y)));
        }

        return (true, double.NegativeInfinity);
    }

    /// <summary>
    /// The scaled complementary error function erfcx(x) = exp(x²)·erfc(x) for x ≥ 0, by W. J. Cody's rational
    /// Chebyshev approximations ("Rational Chebyshev approximations for the error function", Math. Comp. 23, 1969;
    /// the CALERF coefficients), accurate to a few units in the last place.
    /// </summary>
    public static double ErfcxNonNegative(double x)
    {
        if (x <= 0.46875)
        {
            // erf by a rational function of x², then erfc = 1 − erf.
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
            // The correction term is below half an ulp.
            return InvSqrtPi / x;
        }

        // Asymptotic regime: a rational function of 1/x².
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

    /// <summary>erfc(x) for any real x (underflows to 0 beyond x ≈ 26.5; use <see cref="LogErfc"/> there).</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        var ax = Math.Abs(x);
        var tail = ax > 27.5 ? 0.0 : ExpMinusSquare(ax) * ErfcxNonNegative(ax);
        return x >= 0 ? tail : 2.0 - tail;
    }

    /// <summary>
    /// log(erfc(x)) for any real x, with full relative precision in the far right tail where erfc underflows
    /// (there it is −x² + log(erfcx(x))).
    /// </summary>
    public static double LogErfc(double x)
    {
        if (double.IsNaN(x))
        {
            return x;
        }

        if (double.IsPositiveInfinity(x))
        {
            return double.NegativeInfinity;
        }

        if (x >= 0)
        {
            return Math.Log(ErfcxNonNegative(x)) - (x * x);
        }

        // erfc(x) = 2 − erfc(−x) for x < 0.
        var ax = -x;
        var tail = ax > 27.5 ? 0.0 : ExpMinusSquare(ax) * ErfcxNonNegative(ax);
        return Ln2 + Log1p(-0.5 * tail);
    }

    /// <summary>exp(−x²) with the square split so the exponent is exact to working precision (as in CALERF).</summary>
    private static double ExpMinusSquare(double x)
    {
        var hi = Math.Truncate(x * 16.0) / 16.0;
        var lo = (x - hi) * (x + hi);
        return Math.Exp(-hi * hi) * Math.Exp(-lo);
    }
}
