namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// Owen's T function T(h, a) = (1/2π) ∫₀ᵃ exp(−h²(1 + x²)/2) / (1 + x²) dx (D. B. Owen, "Tables for computing bivariate
/// normal probabilities", Ann. Math. Statist. 27, 1956), which gives the skew-normal CDF F(z; α) = Φ(z) − 2·T(z, α).
/// For |a| ≤ 1 the integral is taken by composite Gauss–Legendre quadrature (the integrand is analytic: its poles ±i
/// are far from [0, 1], and the Gaussian factor is cut where it falls below e⁻⁴⁰); for |a| &gt; 1 by Owen's identity
/// T(h, a) + T(ah, 1/a) = ½Φ(h)Q(ah) + ½Φ(ah)Q(h) for h ≥ 0 (Q = 1 − Φ), whose right side has no cancellation.
/// Absolute error about 1e-17; relative error ≲ 1e-14 wherever T is not far below its largest value.
/// </summary>
internal static class OwensT
{
    private const double TwoPi = 2.0 * Math.PI;

    /// <summary>T(h, a) for any real h and a (including ±∞ for a).</summary>
    public static double Evaluate(double h, double a)
    {
        if (double.IsNaN(h) || double.IsNaN(a))
        {
            return double.NaN;
        }

        if (a == 0 || double.IsInfinity(h))
        {
            return 0.0;
        }

        // T is even in h and odd in a.
        var sign = a < 0 ? -1.0 : 1.0;
        a = Math.Abs(a);
        h = Math.Abs(h);
        return sign * EvaluateNonNegative(h, a);
    }

    private static double EvaluateNonNegative(double h, double a)
    {
        if (double.IsPositiveInfinity(a))
        {
            // T(h, ∞) = Q(h)/2 for h ≥ 0.
            return 0.5 * NormalMath.Cdf(-h);
        }

        if (a <= 1.0)
        {
            return Quadrature(h, a);
        }

        var ah = a * h;
        var right = 0.5 * ((NormalMath.Cdf(h) * NormalMath.Cdf(-ah)) + (NormalMath.Cdf(ah) * NormalMath.Cdf(-h)));
        return right - Quadrature(ah, 1.0 / a);
    }

    /// <summary>T(h, a) for h ≥ 0, 0 &lt; a ≤ 1: exp(−h²/2)/(2π) · ∫₀ᵃ exp(−h²x²/2)/(1 + x²) dx.</summary>
    private static double Quadrature(double h, double a)
    {
        // Beyond x = 9/h the Gaussian factor is below e^{−40.5}: nothing left to add at double precision.
        var upper = h > 0 ? Math.Min(a, 9.0 / h) : a;
        // Panels at most 3 standard deviations (1/h) of the Gaussian factor wide, and at most the whole of [0, 1].
        var panels = Math.Max(1, (int)Math.Ceiling(upper * h / 3.0));
        var width = upper / panels;
        var halfH2 = 0.5 * h * h;
        var sum = 0.0;
        for (var p = 0; p < panels; p++)
        {
            var left = p * width;
            sum += GaussLegendre.Integrate(x => Math.Exp(-halfH2 * x * x) / (1.0 + (x * x)), left, left + width);
        }

        return Math.Exp(-halfH2) / TwoPi * sum;
    }
}
