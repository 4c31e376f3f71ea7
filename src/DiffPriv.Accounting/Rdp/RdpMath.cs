using DiffPriv.Accounting.Numerics;
namespace DiffPriv.Accounting.Rdp;

/// <summary>
/// Rényi-DP curves of the supported mechanisms and the RDP → (ε, δ) conversion, following the analyses
/// implemented by Google's dp_accounting (<c>rdp/rdp_privacy_accountant.py</c>). Every function is pure and
/// works on one order α &gt; 1 (α may be +∞).
/// </summary>
internal static class RdpMath
{
    /// <summary>Iteration cap of the fractional-order series; past it the order is reported as +∞ (sound).</summary>
    internal const int MaxFractionalSeriesTerms = 1000;

    /// <summary>
    /// Integer orders above this are not expanded term by term (O(α) work); the subsampled mechanism's RDP is then
    /// bounded by the unsampled Gaussian's α/(2σ²), which holds by quasi-convexity of the Rényi divergence.
    /// dp_accounting has no such cap (it would loop α times).
    /// </summary>
    internal const double MaxExpandedIntegerOrder = 100_000;

    /// <summary>Above this order the without-replacement bound uses its O(α) form instead of the O(α²) exact one.</summary>
    private const int MaxExactWithoutReplacementOrder = 256;

    // Orders at or below this use only the KL-divergence bound in the conversion: the RDP bound is
    // numerically unstable as α → 1 and never the better one there.
    private const double ConversionMinOrder = 1.01;

    private static readonly double Ln2 = Math.Log(2.0);
    private static readonly double Ln4 = Math.Log(4.0);
    private static readonly double LnHalf = Math.Log(0.5);
    private static readonly double Sqrt2 = Math.Sqrt(2.0);

    /// <summary>Gaussian mechanism with noise multiplier σ: α/(2σ²) (Mironov 2017, Proposition 7).</summary>
    public static double Gaussian(double sigma, double alpha) =>
        sigma == 0 ? double.PositiveInfinity : alpha / (2.0 * sigma * sigma);

    /// <summary>
    /// Single-epoch tree aggregation with per-node noise multiplier σ whose longest tree has
    /// <paramref name="maxSteps"/> steps (Kairouz et al. 2021, appendix D): a record changes one leaf and its
    /// ancestors, ⌈log₂(s + 1)⌉ nodes in all, so the RDP is that many Gaussians, ⌈log₂(s + 1)⌉·α/(2σ²), under the
    /// replace-special relation. σ = 0 gives +∞ (as in dp_accounting, even for empty trees).
    /// </summary>
    public static double TreeAggregation(double sigma, long maxSteps, double alpha)
    {
        if (sigma == 0)
        {
            return double.PositiveInfinity;
        }

        var depth = TreeDepth(maxSteps);
        return depth == 0 ? 0 : depth * Gaussian(sigma, alpha);
    }

    /// <summary>⌈log₂(s + 1)⌉ for s ≥ 0, exactly: the number of bits of s.</summary>
    public static int TreeDepth(long steps) => 64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)steps);

    /// <summary>
    /// A (ξ, ρ)-zCDP mechanism (Bun &amp; Steinke 2016, Definition 1.1): ξ + ρα. The discrete Gaussian with scale σ and
    /// L2 sensitivity Δ is Δ²/(2σ²)-zCDP in any dimension (Canonne, Kamath &amp; Steinke 2020: one coordinate by their
    /// Rényi bound, several because independent coordinates add their Rényi divergences).
    /// </summary>
    public static double Zcdp(double rho, double xi, double alpha) =>
        rho == 0 ? xi : xi + (rho * alpha);

    /// <summary>
    /// Any ε-DP mechanism, via the binary randomized response that is the worst case for ε-DP (Mironov 2017,
    /// Proposition 5): (εα + log(1 + e^{ε(1−2α)}) − log(1 + e^ε))/(α − 1), written as
    /// ε + (log1p(e^{ε(1−2α)}) − log1p(e^{−ε}))/(α − 1) so that nothing cancels; ε at α = +∞.
    /// </summary>
    public static double PureDp(double eps, double alpha)
    {
        if (eps == 0)
        {
            return 0;
        }

        if (double.IsPositiveInfinity(eps) || double.IsPositiveInfinity(alpha))
        {
            return eps;
        }

        return eps + ((LogMath.Log1p(Math.Exp(eps * (1 - (2 * alpha)))) - LogMath.Log1p(Math.Exp(-eps))) / (alpha - 1));
    }

    /// <summary>
    /// The ε-DP exponential mechanism through bounded range (Cesar &amp; Rogers 2021, "Bounding, Concentrating, and
    /// Truncating: Unifying Privacy Loss Composition for Data Analytics", Section 3): it is (ξ, ε²/8)-zCDP with
    /// ξ = r − 1 − log r − ε²/8, r = ε/(e^ε − 1); and no order exceeds ε. dp_accounting's formula.
    /// </summary>
    public static double ExponentialMechanism(double eps, double alpha)
    {
        if (eps == 0)
        {
            return 0;
        }

        if (double.IsPositiveInfinity(eps) || double.IsPositiveInfinity(alpha))
        {
            return eps;
        }

        var r = eps / LogMath.Expm1(eps);
        var quarterSquare = eps * eps / 8;
        var xi = r - 1 - Math.Log(r) - quarterSquare;
        return Math.Min(xi + (quarterSquare * alpha), eps);
    }

    /// <summary>
    /// k-ary randomized response with noise p under replace-special: the Rényi divergence, in either direction,
    /// between the output for one bucket and for the special record (uniform over the k buckets):
    /// max over x ∈ {α, 1 − α} of log((k(1−p)+p)ˣ/k + (k−1)pˣ/k)/(α − 1); max(log(k(1−p)+p), −log p) at α = +∞.
    /// </summary>
    public static double RandomizedResponseReplaceSpecial(double p, long k, double alpha)
    {
        if (k == 1 || p == 1)
        {
            return 0;
        }

        if (p == 0)
        {
            return double.PositiveInfinity;
        }

        var logTruth = Math.Log((k * (1 - p)) + p);
        var logNoise = Math.Log(p);
        if (double.IsPositiveInfinity(alpha))
        {
            return Math.Max(logTruth, -logNoise);
        }

        double Bound(double x) => LogWeightedSum(x * logTruth, 1.0 / k, x * logNoise, 1 - (1.0 / k), 0, 0);
        return Math.Max(Bound(alpha), Bound(1 - alpha)) / (alpha - 1);
    }

    /// <summary>
    /// k-ary randomized response with noise p under replace-one: the Rényi divergence between the output
    /// distributions for two different buckets, log((p/k)e^{αL} + (1 − p + p/k)e^{−αL} + (1 − 2/k)p)/(α − 1) with
    /// L = log(k/p − k + 1); L at α = +∞.
    /// </summary>
    public static double RandomizedResponseReplaceOne(double p, long k, double alpha)
    {
        if (k == 1 || p == 1)
        {
            return 0;
        }

        if (p == 0)
        {
            return double.PositiveInfinity;
        }

        var logRatio = Math.Log((k / p) - k + 1);
        if (double.IsPositiveInfinity(alpha))
        {
            return logRatio;
        }

        return LogWeightedSum(alpha * logRatio, p / k, -alpha * logRatio, 1 - p + (p / k), 0, (1 - (2.0 / k)) * p) / (alpha - 1);
    }

    /// <summary>log(w₁e^{t₁} + w₂e^{t₂} + w₃e^{t₃}) for weights ≥ 0, without overflow.</summary>
    private static double LogWeightedSum(double t1, double w1, double t2, double w2, double t3, double w3)
    {
        var max = double.NegativeInfinity;
        if (w1 > 0)
        {
            max = Math.Max(max, t1);
        }

        if (w2 > 0)
        {
            max = Math.Max(max, t2);
        }

        if (w3 > 0)
        {
            max = Math.Max(max, t3);
        }

        var sum = (w1 > 0 ? w1 * Math.Exp(t1 - max) : 0) + (w2 > 0 ? w2 * Math.Exp(t2 - max) : 0) + (w3 > 0 ? w3 * Math.Exp(t3 - max) : 0);
        return max + Math.Log(sum);
    }

    /// <summary>
    /// Laplace mechanism with pure-DP parameter ε = 1/b (Mironov 2017, Proposition 6):
    /// ε + log(1 + (α−1)(e^{(1−2α)ε} − 1)/(2α−1))/(α−1), with a series for α close to 1.
    /// </summary>
    public static double Laplace(double eps, double alpha)
    {
        if (double.IsPositiveInfinity(eps))
        {
            return double.PositiveInfinity;
        }

        if (eps == 0)
        {
            return 0;
        }

        if (double.IsPositiveInfinity(alpha))
        {
            return eps;
        }

        // c·x with c = (e^{(1−2α)ε} − 1)/(2α − 1) ∈ (−1/(2α−1), 0] and x = α − 1.
        var c = LogMath.Expm1(eps * (1 - (2 * alpha))) / ((2 * alpha) - 1);
        if (alpha >= 1.1)
        {
            return eps + (LogMath.Log1p((alpha - 1) * c) / (alpha - 1));
        }

        // log(1 + c·x)/x = c·Σ_{k≥1} v^{k−1}/k with v = −c·x ∈ [0, 0.1): summed smallest term first.
        var v = -c * (alpha - 1);
        var sum = 0.0;
        for (var k = 99; k >= 1; k--)
        {
            sum += Math.Pow(v, k - 1) / k;
        }

        return eps + (c * sum);
    }

    /// <summary>
    /// Poisson-subsampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the
    /// Sampled Gaussian Mechanism"): log(A_α)/(α − 1), with A_α by the binomial expansion for integer α and the
    /// two-sided series of Sec. 3.3 for fractional α.
    /// </summary>
    public static double PoissonSampledGaussian(double q, double sigma, double alpha)
    {
        if (q == 0)
        {
            return 0;
        }

        if (double.IsPositiveInfinity(alpha) || sigma == 0)
        {
            return double.PositiveInfinity;
        }

        if (double.IsPositiveInfinity(sigma))
        {
            return 0;
        }

        if (q == 1 || (alpha > MaxExpandedIntegerOrder && alpha == Math.Floor(alpha)))
        {
            return Gaussian(sigma, alpha);
        }

        return LogA(q, sigma, alpha) / (alpha - 1);
    }

    /// <summary>log A_α for 0 &lt; q &lt; 1, choosing the integer or fractional expansion.</summary>
    public static double LogA(double q, double sigma, double alpha) =>
        alpha == Math.Floor(alpha) ? LogAInteger(q, sigma, alpha) : LogAFractional(q, sigma, alpha);

    /// <summary>
    /// log A_α for integer α: A_α = Σ_{i=0}^{α} C(α,i) qⁱ (1−q)^{α−i} exp((i² − i)/(2σ²)).
    /// </summary>
    public static double LogAInteger(double q, double sigma, double alpha)
    {
        var logQ = Math.Log(q);
        var log1mQ = LogMath.Log1p(-q);
        var twoSigmaSq = 2.0 * sigma * sigma;
        var n = (long)alpha;
        var logA = double.NegativeInfinity;
        var logBinom = 0.0; // log C(α, i), updated by the ratio C(α, i+1)/C(α, i) = (α − i)/(i + 1).
        for (long i = 0; i <= n; i++)
        {
            var term = logBinom + (i * logQ) + ((n - i) * log1mQ) + (((double)i * i) - i) / twoSigmaSq;
            logA = LogMath.LogAdd(logA, term);
            logBinom += Math.Log((double)(n - i) / (i + 1));
        }

        return logA;
    }

    /// <summary>
    /// log A_α for fractional α: the integral is split at z₀ = σ² log(1/q − 1) + ½ and each side expanded in a
    /// generalised binomial series (terms with |C(α, i)|) weighted by Gaussian tail masses. Summation stops once
    /// both sides' terms are decreasing and 30 nats below the running total; if that never happens within
    /// <see cref="MaxFractionalSeriesTerms"/> terms the result is +∞ so the order is never trusted.
    /// </summary>
    public static double LogAFractional(double q, double sigma, double alpha)
    {
        var logA0 = double.NegativeInfinity;
        var logA1 = double.NegativeInfinity;
        var sigmaSq = sigma * sigma;
        var z0 = (sigmaSq * Math.Log((1 / q) - 1)) + 0.5;
        var logQ = Math.Log(q);
        var log1mQ = LogMath.Log1p(-q);
        var erfcScale = Sqrt2 * sigma;

        var previous0 = double.NegativeInfinity;
        var previous1 = double.NegativeInfinity;
        var logAbsBinom = 0.0; // log |C(α, i)|, updated by |α − i|/(i + 1).
        for (var i = 0; i < MaxFractionalSeriesTerms; i++)
        {
            var j = alpha - i;

            // Left of z₀: q^i (1−q)^j weights; right of z₀: the roles of i and j swap.
            var left = logAbsBinom + (i * logQ) + (j * log1mQ)
                + (((double)i * i) - i) / (2 * sigmaSq)
                + LnHalf + LogMath.LogErfc((i - z0) / erfcScale);
            var right = logAbsBinom + (j * logQ) + (i * log1mQ)
                + ((j * j) - j) / (2 * sigmaSq)
                + LnHalf + LogMath.LogErfc((z0 - j) / erfcScale);

            logA0 = LogMath.LogAdd(logA0, left);
            logA1 = LogMath.LogAdd(logA1, right);
            var total = LogMath.LogAdd(logA0, logA1);

            if (left < previous0 && right < previous1 && Math.Max(left, right) < total - 30)
            {
                return total;
            }

            previous0 = left;
            previous1 = right;
            logAbsBinom += Math.Log(Math.Abs(j) / (i + 1));
        }

        return double.PositiveInfinity;
    }

    /// <summary>
    /// Gaussian mechanism on a uniformly random subset of fixed size (sampling ratio q = k/n) under the replace-one
    /// relation: Wang, Balle, Kasiviswanathan 2019, Theorem 27 (with Corollary 10's linear interpolation of the
    /// cumulant generating function for fractional α).
    /// </summary>
    public static double SampledWithoutReplacementGaussian(double q, double sigma, double alpha)
    {
        if (q == 0)
        {
            return 0;
        }

        if (sigma == 0 || double.IsPositiveInfinity(alpha))
        {
            return double.PositiveInfinity;
        }

        if (double.IsPositiveInfinity(sigma))
        {
            return 0;
        }

        if (q == 1 || alpha > MaxExpandedIntegerOrder)
        {
            return Gaussian(sigma, alpha);
        }

        if (alpha == Math.Floor(alpha))
        {
            return WithoutReplacementLogMoment(q, sigma, (long)alpha) / (alpha - 1);
        }

        var lower = Math.Floor(alpha);
        var t = alpha - lower;
        var atLower = WithoutReplacementLogMoment(q, sigma, (long)lower);
        var atUpper = WithoutReplacementLogMoment(q, sigma, (long)lower + 1);
        return (((1 - t) * atLower) + (t * atUpper)) / (alpha - 1);
    }

    /// <summary>(α − 1)·RDP of the without-replacement subsampled Gaussian at integer α (WBK19 Theorem 27).</summary>
    private static double WithoutReplacementLogMoment(double q, double sigma, long alpha)
    {
        if (alpha <= 1)
        {
            return 0;
        }

        var twoSigmaSq = 2.0 * sigma * sigma;

        // Cumulant generating function of the Gaussian mechanism's privacy loss: K(x) = x(x + 1)/(2σ²).
        double Cgf(double x) => x * (x + 1) / twoSigmaSq;

        var rdpAt2 = 2.0 / twoSigmaSq;
        var logExpRdp2Minus1 = rdpAt2 + LogMath.Log1p(-Math.Exp(-rdpAt2));
        var logQ = Math.Log(q);

        // log C(α, 2), then C(α, i) for i ≥ 3 by the ratio (α − i + 1)/i.
        var logBinom = Math.Log(alpha * (alpha - 1) / 2.0);
        var second = (2 * logQ) + logBinom + Math.Min(Ln4 + logExpRdp2Minus1, rdpAt2 + Ln2);
        var logMoment = LogMath.LogAdd(0.0, second);

        double[]? forwardDiffs = alpha <= MaxExactWithoutReplacementOrder ? LogForwardDifferences(Cgf, (int)alpha) : null;
        for (var i = 3L; i <= alpha; i++)
        {
            logBinom += Math.Log((double)(alpha - i + 1) / i);
            var bound = Ln2 + Cgf(i - 1);
            if (forwardDiffs is not null)
            {
                var even = 2 * (i / 2);
                var lo = forwardDiffs[even - 1];
                var hi = forwardDiffs[(2 * ((i + 1) / 2)) - 1];
                bound = Math.Min(Ln4 + (0.5 * (lo + hi)), bound);
            }

            logMoment = LogMath.LogAdd(logMoment, bound + (i * logQ) + logBinom);
        }

        return logMoment;
    }

    /// <summary>
    /// log-magnitudes of the forward differences Δ⁰…Δⁿ⁺¹ of exp(f) at 0, from the values f(0)…f(n) (plus a
    /// leading 1), computed with signs in log space (WBK19 Theorem 27 needs the odd-indexed ones).
    /// </summary>
    private static double[] LogForwardDifferences(Func<double, double> logValue, int n)
    {
        // Layout follows the reference implementation: slot 0 holds log 1 = 0, slot k ≥ 1 holds f(k − 1).
        var values = new double[n + 3];
        var positive = new bool[n + 3];
        Array.Fill(positive, true);
        for (var k = 1; k < n + 3; k++)
        {
            values[k] = logValue(k - 1);
        }

        var result = new double[n + 2];
        for (var order = 0; order < n + 2; order++)
        {
            // One differencing pass over the first n + 2 − order slots: slot j ← slot j+1 − slot j.
            var width = n + 2 - order;
            for (var j = 0; j < width; j++)
            {
                if (positive[j] == positive[j + 1])
                {
                    var (nonNegative, magnitude) = LogMath.LogSubSign(values[j + 1], values[j]);
                    values[j] = magnitude;
                    positive[j] = positive[j + 1] ? nonNegative : !nonNegative;
                }
                else
                {
                    values[j] = LogMath.LogAdd(values[j], values[j + 1]);
                    positive[j] = positive[j + 1];
                }
            }

            result[order] = values[0];
        }

        return result;
    }

    /// <summary>
    /// The smallest ε over all orders at the given δ &gt; 0, using the conversion of Canonne, Kamath, Steinke 2020
    /// (Proposition 12; also Asoodeh et al. 2020, Eq. 20): ε = r + log(1 − 1/α) − log(δ·α)/(α − 1), together with
    /// the KL bound δ ≤ √(1 − e^{−r}) that gives ε = 0 when it already suffices.
    /// </summary>
    public static (double Epsilon, double Order) Epsilon(IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double delta)
    {
        if (delta == 0)
        {
            return (rdp.All(r => r == 0) ? 0 : double.PositiveInfinity, 0);
        }

        var logDelta = Math.Log(delta);
        var best = double.PositiveInfinity;
        var bestOrder = orders[0];
        var found = false;
        for (var k = 0; k < orders.Count; k++)
        {
            var a = orders[k];
            var r = rdp[k];
            double eps;
            if (r < 0 || (delta * delta) + LogMath.Expm1(-r) > 0)
            {
                // A negative r can only be rounding noise; otherwise the KL bound already gives δ.
                eps = 0;
            }
            else if (double.IsPositiveInfinity(a))
            {
                eps = r; // The limit α → ∞ of the expression below: pure DP.
            }
            else if (a > ConversionMinOrder)
            {
                eps = r + LogMath.Log1p(-1 / a) - ((logDelta + Math.Log(a)) / (a - 1));
            }
            else
            {
                eps = double.PositiveInfinity;
            }

            if (!found || eps < best)
            {
                best = eps;
                bestOrder = a;
                found = true;
            }
        }

        return (Math.Max(0, best), bestOrder);
    }

    /// <summary>The smallest δ over all orders at the given ε ≥ 0 (the inverse of <see cref="Epsilon"/>'s bounds).</summary>
    public static (double Delta, double Order) Delta(IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double epsilon)
    {
        var best = double.PositiveInfinity;
        var bestOrder = orders[0];
        var found = false;
        for (var k = 0; k < orders.Count; k++)
        {
            var a = orders[k];
            var r = rdp[k];

            // KL bound δ ≤ √(1 − e^{−r}).
            var logDelta = r <= 0 ? double.NegativeInfinity : 0.5 * LogMath.Log1p(-Math.Exp(-r));
            if (a > ConversionMinOrder)
            {
                double bound;
                if (double.IsPositiveInfinity(a))
                {
                    bound = r <= epsilon ? double.NegativeInfinity : double.PositiveInfinity;
                }
                else
                {
                    bound = ((a - 1) * (r - epsilon + LogMath.Log1p(-1 / a))) - Math.Log(a);
                    if (double.IsNaN(bound))
                    {
                        bound = double.PositiveInfinity; // ∞ − ∞ (r = ε = ∞): claim nothing.
                    }
                }

                logDelta = Math.Min(logDelta, bound);
            }

            if (!found || logDelta < best)
            {
                best = logDelta;
                bestOrder = a;
                found = true;
            }
        }

        return (Math.Min(Math.Exp(best), 1.0), bestOrder);
    }
}
