namespace DiffPriv.Auditing.MembershipInference;

/// <summary>
/// Log-gamma, the regularized incomplete beta function I_x(a, b) and its inverse: what exact (Clopper–Pearson)
/// binomial confidence bounds need. Pure C#, double precision.
/// </summary>
/// <remarks>
/// I_x(a, b) is evaluated as x^a (1 − x)^b / (a·B(a, b)) times the continued fraction of DLMF 8.17.22 (modified Lentz),
/// on the side x &lt; (a + 1)/(a + b + 2) where it converges fast, and by I_x(a, b) = 1 − I_{1−x}(b, a) on the other
/// side, so the smaller of I and 1 − I is always computed without cancellation. The prefactor is formed from Stirling
/// parts with log1p so that a, b up to ~10⁷ keep ~1e-13 relative accuracy. The inverse brackets the root and takes
/// Halley steps (Numerical Recipes 3rd ed. §6.4 initial guess), falling back to bisection whenever a step leaves the
/// bracket.
/// </remarks>
internal static class SpecialFunctions
{
    private const double HalfLogTwoPi = 0.91893853320467274178032973640562;
    private const double StirlingThreshold = 10;

    // Lanczos approximation, g = 7, n = 9 (relative error < 1e-15 for Re z > 0.5).
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>ln(1 + x), accurate for small |x| (the classic u = 1 + x correction).</summary>
    public static double Log1p(double x)
    {
        var u = 1 + x;
        if (u == 1)
        {
            return x;
        }

        return double.IsPositiveInfinity(u) ? u : Math.Log(u) * x / (u - 1);
    }

    /// <summary>ln Γ(z) for z &gt; 0.</summary>
    public static double LogGamma(double z)
    {
        if (!(z > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(z), z, "LogGamma needs z > 0.");
        }

        if (z >= StirlingThreshold)
        {
            return StirlingBase(z) + StirlingCorrection(z);
        }

        if (z < 0.5)
        {
            // Reflection: Γ(z)Γ(1 − z) = π / sin(πz).
            return Math.Log(Math.PI / Math.Sin(Math.PI * z)) - LogGamma(1 - z);
        }

        var x = z - 1;
        var sum = Lanczos[0];
        for (var i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (x + i);
        }

        var t = x + 7.5;
        return HalfLogTwoPi + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }

    // (z − ½) ln z − z + ½ ln 2π.
    private static double StirlingBase(double z) => ((z - 0.5) * Math.Log(z)) - z + HalfLogTwoPi;

    // ln Γ(z) − StirlingBase(z) for z ≥ 10: the asymptotic series (DLMF 5.11.1); the first omitted term is < 2e-14.
    private static double StirlingCorrection(double z)
    {
        var r = 1 / z;
        var r2 = r * r;
        return r * ((1.0 / 12) - (r2 * ((1.0 / 360) - (r2 * ((1.0 / 1260) - (r2 * ((1.0 / 1680) - (r2 / 1188))))))));
    }

    /// <summary>ln of x^a (1 − x)^b / B(a, b), for 0 &lt; x &lt; 1 and a, b &gt; 0.</summary>
    internal static double LogPowerTerms(double x, double a, double b) => LogPowerTerms(x, 1 - x, a, b);

    // y = 1 − x, passed separately so callers on the complement side keep the accurate one of the pair.
    private static double LogPowerTerms(double x, double y, double a, double b)
    {
        if (a >= StirlingThreshold && b >= StirlingThreshold)
        {
            // With p = a/(a+b): a ln(x/p) + b ln((1−x)/(1−p)) + ½ ln(ab/(a+b)) − ½ ln 2π − (corrections). The two log
            // terms are formed with log1p so nothing large cancels.
            var s = a + b;
            var p = a / s;
            var q = b / s;
            var main = (a * Log1p((x - p) / p)) + (b * Log1p((p - x) / q));
            var corrections = StirlingCorrection(a) + StirlingCorrection(b) - StirlingCorrection(s);
            return main + (0.5 * Math.Log(a * b / s)) - HalfLogTwoPi - corrections;
        }

        if (b >= StirlingThreshold && a + b >= StirlingThreshold)
        {
            return LogPowerTermsOneLarge(x, y, a, b);
        }

        if (a >= StirlingThreshold && a + b >= StirlingThreshold)
        {
            return LogPowerTermsOneLarge(y, x, b, a);
        }

        return (a * Math.Log(x)) + (b * LogOneMinus(x, y)) - LogBeta(a, b);
    }

    // ln(1 − x) given x and y = 1 − x: log1p(−x) for small x, ln y otherwise.
    private static double LogOneMinus(double x, double y) => x < 0.5 ? Log1p(-x) : Math.Log(y);

    // a small, b large: ln Γ(a+b) − ln Γ(b) = (a+b−½) ln(1 + a/b) + a ln b − a + corrections, combined with a ln x.
    private static double LogPowerTermsOneLarge(double x, double y, double a, double b)
    {
        var s = a + b;
        return (a * Math.Log(x * b)) + (b * LogOneMinus(x, y)) + ((s - 0.5) * Log1p(a / b)) - a - LogGamma(a)
            + StirlingCorrection(s) - StirlingCorrection(b);
    }

    /// <summary>ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).</summary>
    public static double LogBeta(double a, double b) => LogGamma(a) + LogGamma(b) - LogGamma(a + b);

    /// <summary>
    /// The regularized incomplete beta function I_x(a, b) = P(X ≤ x) for X ~ Beta(a, b), and its complement 1 − I_x(a, b),
    /// each accurate in relative terms when it is the smaller of the two.
    /// </summary>
    /// <param name="x">0 ≤ x ≤ 1.</param>
    /// <param name="a">a &gt; 0.</param>
    /// <param name="b">b &gt; 0.</param>
    public static (double Value, double Complement) RegularizedIncompleteBeta(double x, double a, double b)
    {
        if (!(a > 0) || !(b > 0) || double.IsInfinity(a) || double.IsInfinity(b))
        {
            throw new ArgumentOutOfRangeException(nameof(a), $"I_x(a, b) needs finite a, b > 0 (got a = {a}, b = {b}).");
        }

        if (!(x >= 0 && x <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "I_x(a, b) needs 0 ≤ x ≤ 1.");
        }

        if (x == 0)
        {
            return (0, 1);
        }

        if (x == 1)
        {
            return (1, 0);
        }

        if (x < (a + 1) / (a + b + 2))
        {
            var v = Math.Exp(LogPowerTerms(x, a, b)) * ContinuedFraction(x, a, b) / a;
            return (v, 1 - v);
        }

        var y = 1 - x;
        var c = Math.Exp(LogPowerTerms(y, x, b, a)) * ContinuedFraction(y, b, a) / b;
        return (1 - c, c);
    }

    // The continued fraction for I_x(a, b) (DLMF 8.17.22), evaluated by the modified Lentz method.
    private static double ContinuedFraction(double x, double a, double b)
    {
        const double Tiny = 1e-300;
        const double Epsilon = 1e-16;
        const int MaxIterations = 100_000;
        var qab = a + b;
        var qap = a + 1;
        var qam = a - 1;
        var c = 1.0;
        var d = 1 - (qab * x / qap);
        if (Math.Abs(d) < Tiny)
        {
            d = Tiny;
        }

        d = 1 / d;
        var h = d;
        for (var m = 1; m <= MaxIterations; m++)
        {
            var m2 = 2 * m;
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + (aa * d);
            if (Math.Abs(d) < Tiny)
            {
                d = Tiny;
            }

            c = 1 + (aa / c);
            if (Math.Abs(c) < Tiny)
            {
                c = Tiny;
            }

            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + (aa * d);
            if (Math.Abs(d) < Tiny)
            {
                d = Tiny;
            }

            c = 1 + (aa / c);
            if (Math.Abs(c) < Tiny)
            {
                c = Tiny;
            }

            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < Epsilon)
            {
                return h;
            }
        }

        throw new InvalidOperationException($"The incomplete beta continued fraction did not converge (x = {x}, a = {a}, b = {b}).");
    }

    /// <summary>The p-quantile of Beta(a, b): the x in [0, 1] with I_x(a, b) = p.</summary>
    /// <param name="p">0 ≤ p ≤ 1.</param>
    /// <param name="a">a &gt; 0.</param>
    /// <param name="b">b &gt; 0.</param>
    public static double InverseRegularizedIncompleteBeta(double p, double a, double b)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "The probability must be in [0, 1].");
        }

        if (!(a > 0) || !(b > 0) || double.IsInfinity(a) || double.IsInfinity(b))
        {
            throw new ArgumentOutOfRangeException(nameof(a), $"Beta(a, b) needs finite a, b > 0 (got a = {a}, b = {b}).");
        }

        if (p == 0)
        {
            return 0;
        }

        if (p == 1)
        {
            return 1;
        }

        return p <= 0.5 ? Solve(p, lowerTail: true, a, b) : Solve(1 - p, lowerTail: false, a, b);
    }

    /// <summary>The x in [0, 1] with 1 − I_x(a, b) = q: the upper-tail quantile, without forming 1 − q.</summary>
    /// <param name="q">0 ≤ q ≤ 1.</param>
    /// <param name="a">a &gt; 0.</param>
    /// <param name="b">b &gt; 0.</param>
    public static double InverseRegularizedIncompleteBetaComplement(double q, double a, double b)
    {
        if (!(q >= 0 && q <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, "The probability must be in [0, 1].");
        }

        if (!(a > 0) || !(b > 0) || double.IsInfinity(a) || double.IsInfinity(b))
        {
            throw new ArgumentOutOfRangeException(nameof(a), $"Beta(a, b) needs finite a, b > 0 (got a = {a}, b = {b}).");
        }

        if (q == 0)
        {
            return 1;
        }

        if (q == 1)
        {
            return 0;
        }

        return q <= 0.5 ? Solve(q, lowerTail: false, a, b) : Solve(1 - q, lowerTail: true, a, b);
    }

    // Solves I_x = target (lowerTail) or 1 − I_x = target (upper tail) for a target ≤ ½, which is represented without
    // cancellation. f(x) = I_x − target, or target − (1 − I_x): both increase with x.
    private static double Solve(double target, bool lowerTail, double a, double b)
    {
        double F(double x)
        {
            var (v, c) = RegularizedIncompleteBeta(x, a, b);
            return lowerTail ? v - target : target - c;
        }

        var lo = 0.0;
        var hi = 1.0;
        var x = InitialGuess(lowerTail ? target : 1 - target, a, b);
        if (!(x > 0 && x < 1))
        {
            x = 0.5;
        }

        var slowSteps = 0;
        var previousAbsF = double.PositiveInfinity;
        for (var iteration = 0; iteration < 400; iteration++)
        {
            var f = F(x);
            if (f == 0)
            {
                return x;
            }

            if (f < 0)
            {
                lo = x;
            }
            else
            {
                hi = x;
            }

            // Newton/Halley step: f' is the Beta density, f''/f' = (a − 1)/x − (b − 1)/(1 − x). A Newton step that leaves
            // the bracket is replaced by bisection (Halley's correction would otherwise shrink it to creep along), and
            // so is a step after three in a row that each reduced |f| by less than 4×.
            var logDensity = LogPowerTerms(x, a, b) - Math.Log(x) - Log1p(-x);
            var density = Math.Exp(logDensity);
            var next = double.NaN;
            if (density > 0 && double.IsFinite(density))
            {
                var newton = f / density;
                next = x - newton;
                if (next > lo && next < hi)
                {
                    var curvature = ((a - 1) / x) - ((b - 1) / (1 - x));
                    var denominator = 1 - (0.5 * newton * curvature);
                    var halley = x - (newton / denominator);
                    if (denominator > 0.5 && denominator < 2 && halley > lo && halley < hi)
                    {
                        next = halley;
                    }
                }
            }

            // Converged when the step is below 1e-15 relative to the nearer end of [0, 1] (or below one ulp of x).
            if (next > lo && next < hi && Math.Abs(next - x) <= Math.Max(1e-15 * Math.Min(x, 1 - x), Math.BitIncrement(x) - x))
            {
                return next;
            }

            slowSteps = Math.Abs(f) > 0.25 * previousAbsF ? slowSteps + 1 : 0;
            previousAbsF = Math.Abs(f);
            if (!(next > lo && next < hi) || slowSteps >= 3)
            {
                next = BisectionPoint(lo, hi);
                slowSteps = 0;
            }

            if (Math.BitIncrement(lo) >= hi)
            {
                return next;
            }

            x = next;
        }

        return x;
    }

    // Bisect in the log domain when the bracket spans orders of magnitude (quantiles near 0 can be ~1e-300).
    private static double BisectionPoint(double lo, double hi) =>
        lo > 0 && hi / lo > 4 ? Math.Sqrt(lo * hi) : lo == 0 && hi < 1e-3 ? hi / 16 : 0.5 * (lo + hi);

    // Numerical Recipes (3rd ed.) §6.4 starting value for the inverse incomplete beta.
    private static double InitialGuess(double p, double a, double b)
    {
        if (a >= 1 && b >= 1)
        {
            var pp = p < 0.5 ? p : 1 - p;
            var t = Math.Sqrt(-2 * Math.Log(pp));
            var z = ((2.30753 + (t * 0.27061)) / (1 + (t * (0.99229 + (t * 0.04481))))) - t;
            if (p < 0.5)
            {
                z = -z;
            }

            var al = ((z * z) - 3) / 6;
            var h = 2 / ((1 / ((2 * a) - 1)) + (1 / ((2 * b) - 1)));
            var w = (z * Math.Sqrt(al + h) / h) - (((1 / ((2 * b) - 1)) - (1 / ((2 * a) - 1))) * (al + (5.0 / 6) - (2 / (3 * h))));
            return a / (a + (b * Math.Exp(2 * w)));
        }

        var lna = Math.Log(a / (a + b));
        var lnb = Math.Log(b / (a + b));
        var t1 = Math.Exp(a * lna) / a;
        var u = Math.Exp(b * lnb) / b;
        var total = t1 + u;
        return p < t1 / total ? Math.Pow(a * total * p, 1 / a) : 1 - Math.Pow(b * total * (1 - p), 1 / b);
    }
}
