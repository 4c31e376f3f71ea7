using DiffPriv.Accounting.Numerics;

namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// The standard normal distribution with full relative precision in the lower tail: φ, Φ and log Φ for any real x.
/// Built on DiffPriv.Accounting's <see cref="LogMath"/>: W. J. Cody's rational Chebyshev approximations of the scaled
/// complementary error function erfcx(x) = exp(x²)·erfc(x) ("Rational Chebyshev approximations for the error function",
/// Math. Comp. 23, 1969; the CALERF coefficients), accurate to a few units in the last place.
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

    /// <summary>Φ(x) = erfc(−x/√2)/2, with full relative precision for x &lt; 0 (down to the underflow near x ≈ −38).</summary>
    public static double Cdf(double x) => 0.5 * LogMath.Erfc(-x * InvSqrt2);

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
            return LogMath.LogErfc(z) - Ln2;
        }

        // Φ(x) = 1 − erfc(|z|)/2 ≥ 1/2: log1p of a small negative number, kept apart from log 2 so that a tiny
        // log Φ(x) keeps its relative precision (LogErfc adds it to log 2).
        return LogMath.Log1p(-0.5 * LogMath.Erfc(-z));
    }

    /// <summary>φ(x)/Φ(x) (the inverse Mills ratio of −x), without overflow in the lower tail.</summary>
    public static double PdfOverCdf(double x)
    {
        var z = -x * InvSqrt2;
        if (z >= 0)
        {
            // φ(x)/Φ(x) = (e^{−z²}/√(2π)) / (e^{−z²}·erfcx(z)/2) = √(2/π)/erfcx(z).
            return 2.0 * InvSqrtPi * InvSqrt2 / LogMath.ErfcxNonNegative(z);
        }

        return Pdf(x) / Cdf(x);
    }
}
