using DiffPriv.Accounting.Numerics;
using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting;

/// <summary>
/// Exact (ε, δ) of the Gaussian mechanism with sensitivity 1 and noise N(0, σ²) — the analytic Gaussian mechanism of
/// Balle &amp; Wang (2018, Theorem 8): δ(ε) = Φ(1/(2σ) − εσ) − e^ε·Φ(−1/(2σ) − εσ). Add/remove and replace-one
/// adjacency give the same curve for a single Gaussian. Useful as an oracle for the accountants.
/// </summary>
public static class GaussianMechanism
{
    // ln δ(ε; σ) computed from log Φ so neither term underflows: ln(Φ(a) − e^ε Φ(b)) = x + ln(1 − e^{y−x}).
    private static double LogDelta(double sigma, double epsilon)
    {
        var tStar = (epsilon * sigma) + (1 / (2 * sigma));
        var x = NormalDistribution.LogCdf((1 / sigma) - tStar);
        var y = epsilon + NormalDistribution.LogCdf(-tStar);
        return y <= x ? x + LogMath.Log1p(-Math.Exp(y - x)) : double.NegativeInfinity;
    }

    /// <summary>The exact δ at ε for noise multiplier σ.</summary>
    /// <param name="noiseMultiplier">σ ≥ 0 (0 means no privacy: δ = 1).</param>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <returns>δ ∈ [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException">σ or ε is negative or NaN.</exception>
    public static double GetDelta(double noiseMultiplier, double epsilon)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(noiseMultiplier);
        ArgumentOutOfRangeException.ThrowIfNegative(epsilon);
        if (double.IsNaN(noiseMultiplier) || double.IsNaN(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), "Arguments must not be NaN.");
        }

        if (noiseMultiplier == 0)
        {
            return double.IsPositiveInfinity(epsilon) ? 0 : 1;
        }

        if (double.IsPositiveInfinity(noiseMultiplier) || double.IsPositiveInfinity(epsilon))
        {
            return 0;
        }

        return Math.Clamp(Math.Exp(LogDelta(noiseMultiplier, epsilon)), 0, 1);
    }

    /// <summary>The smallest ε with δ(ε; σ) ≤ δ (Balle &amp; Wang's exact ε; dp_accounting's get_epsilon_gaussian).</summary>
    /// <param name="noiseMultiplier">σ ≥ 0.</param>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <returns>ε ≥ 0; +∞ when σ = 0 or δ = 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException">σ is negative or NaN, or δ is outside [0, 1].</exception>
    public static double GetEpsilon(double noiseMultiplier, double delta)
    {
        if (!(noiseMultiplier >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "σ must be ≥ 0.");
        }

        if (!(delta >= 0 && delta <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in [0, 1].");
        }

        if (delta == 1 || double.IsPositiveInfinity(noiseMultiplier))
        {
            return 0;
        }

        if (noiseMultiplier == 0 || delta == 0)
        {
            return double.PositiveInfinity;
        }

        var logDelta = Math.Log(delta);
        if (LogDelta(noiseMultiplier, 0) < logDelta)
        {
            return 0;
        }

        double lo = 0, hi = 1;
        while (LogDelta(noiseMultiplier, hi) > logDelta)
        {
            (lo, hi) = (hi, hi * 10);
        }

        // ln δ is decreasing in ε: bisect to the last representable digit.
        return Bisect(e => LogDelta(noiseMultiplier, e) > logDelta, lo, hi);
    }

    /// <summary>The smallest σ with δ(ε; σ) ≤ δ (dp_accounting's get_sigma_gaussian).</summary>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <returns>σ ≥ 0; 0 when δ = 1 or ε = ∞, +∞ when δ = 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException">ε is negative or NaN, or δ is outside [0, 1].</exception>
    public static double GetNoiseMultiplier(double epsilon, double delta)
    {
        if (!(epsilon >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be ≥ 0.");
        }

        if (!(delta >= 0 && delta <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in [0, 1].");
        }

        if (delta == 1 || double.IsPositiveInfinity(epsilon))
        {
            return 0;
        }

        if (delta == 0)
        {
            return double.PositiveInfinity;
        }

        var logDelta = Math.Log(delta);
        double lo = 0.1, hi = 1;
        while (LogDelta(lo, epsilon) < logDelta)
        {
            (hi, lo) = (lo, lo / 10);
        }

        while (LogDelta(hi, epsilon) > logDelta)
        {
            (lo, hi) = (hi, hi * 10);
        }

        // ln δ is decreasing in σ.
        return Bisect(s => LogDelta(s, epsilon) > logDelta, lo, hi);
    }

    // Smallest x in [lo, hi] where tooSmall(x) turns false, to within rounding.
    private static double Bisect(Func<double, bool> tooSmall, double lo, double hi)
    {
        for (var i = 0; i < 200; i++)
        {
            var mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi)
            {
                break;
            }

            if (tooSmall(mid))
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return hi;
    }
}
