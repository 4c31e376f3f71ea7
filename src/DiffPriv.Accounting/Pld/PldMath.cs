using DiffPriv.Accounting.Numerics;

namespace DiffPriv.Accounting.Pld;

/// <summary>Small numerically careful helpers shared by the PLD code.</summary>
internal static class PldMath
{
    /// <summary>ln(eᵃ − eᵇ) for a &gt; b.</summary>
    private static double LogSubExp(double a, double b) => a + LogMath.Log1p(-Math.Exp(b - a));

    /// <summary>ln(a·eᵇ + c), requiring a·eᵇ + c &gt; 0.</summary>
    public static double LogATimesExpBPlusC(double a, double b, double c)
    {
        if (a == 0)
        {
            return Math.Log(c);
        }

        if (a < 0)
        {
            return LogSubExp(Math.Log(c), Math.Log(-a) + b);
        }

        if (b == 0)
        {
            return Math.Log(a + c);
        }

        var d = b + Math.Log(a);
        if (c == 0)
        {
            return d;
        }

        return c < 0 ? LogSubExp(d, Math.Log(-c)) : LogMath.LogAdd(d, Math.Log(c));
    }

    /// <summary>ln sinh(a) for a ≥ 0 (ln 0 = −∞ at a = 0 is returned as 0, as dp_accounting's <c>log_sinh</c>).</summary>
    public static double LogSinh(double a)
    {
        if (a == 0)
        {
            return 0;
        }

        // sinh(a) = eᵃ(1 − e^{−2a})/2.
        return a + LogMath.Log1p(-Math.Exp(-2 * a)) - Math.Log(2);
    }

    /// <summary>asinh(b·eᵃ) for a sign b = ±1 (or 0), without overflow: sign(b)·ln(√((b·eᵃ)² + 1) + |b|·eᵃ).</summary>
    public static double AsinhExp(double a, double b)
    {
        if (b == 0)
        {
            return 0.0;
        }

        var logAbs = Math.Log(Math.Abs(b)) + a;
        return Math.Sign(b) * LogMath.LogAdd(0.5 * LogMath.LogAdd(0, 2 * logAbs), logAbs);
    }

    /// <summary>
    /// Mass of the cell (a, b] from the CDF/SF pairs at its ends, taken from whichever side is small so that tiny
    /// cells keep their relative accuracy.
    /// </summary>
    public static double CellMass((double Cdf, double Sf) a, (double Cdf, double Sf) b)
    {
        double m;
        if (b.Cdf <= 0.5)
        {
            m = b.Cdf - a.Cdf;
        }
        else if (a.Sf <= 0.5)
        {
            m = a.Sf - b.Sf;
        }
        else
        {
            m = 1.0 - a.Cdf - b.Sf;
        }

        return Math.Max(m, 0.0);
    }

    /// <summary>
    /// P[X &gt; k] for X ~ Binomial(n, p) (scipy's <c>binom.sf</c>), with full relative accuracy in the upper tail:
    /// the terms are summed from the smaller side outwards, the first one by Loader's saddle-point formula and the
    /// rest by the ratio of consecutive terms.
    /// </summary>
    public static double BinomialSurvival(long k, long n, double p)
    {
        if (n < 0 || !(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "Need n ≥ 0 and p ∈ [0, 1].");
        }

        if (k < 0)
        {
            return 1;
        }

        if (k >= n || p == 0)
        {
            return 0;
        }

        if (p == 1)
        {
            return 1;
        }

        var ratio = p / (1 - p);
        var mode = Math.Floor((n + 1) * p);
        if (k + 1 >= mode)
        {
            // Terms decrease from j = k + 1 on.
            double sum = 0, term = BinomialPmf(k + 1, n, p);
            for (var j = k + 1; j <= n && term > 0; j++)
            {
                sum += term;
                if (term < sum * 1e-17)
                {
                    break;
                }

                term *= (n - j) / (double)(j + 1) * ratio;
            }

            return sum;
        }

        // The lower tail P[X ≤ k] is the small side: its terms decrease from j = k downwards.
        double lower = 0, t = BinomialPmf(k, n, p);
        for (var j = k; j >= 0 && t > 0; j--)
        {
            lower += t;
            if (t < lower * 1e-17)
            {
                break;
            }

            t *= j / (double)(n - j + 1) / ratio;
        }

        return Math.Max(0, 1 - lower);
    }

    /// <summary>P[X = x] for X ~ Binomial(n, p) by Loader's (2000) saddle-point form, accurate to a few ulps.</summary>
    private static double BinomialPmf(long x, long n, double p)
    {
        var q = 1 - p;
        if (x == 0)
        {
            return Math.Exp(n * LogMath.Log1p(-p));
        }

        if (x == n)
        {
            return Math.Exp(n * Math.Log(p));
        }

        var lc = StirlingError(n) - StirlingError(x) - StirlingError(n - x) - Bd0(x, n * p) - Bd0(n - x, n * q);
        var lf = Math.Log(2 * Math.PI) + Math.Log(x) + LogMath.Log1p(-x / (double)n);
        return Math.Exp(lc - (0.5 * lf));
    }

    // ln(n!) − ln(√(2πn)·(n/e)ⁿ): exact factorials up to 15 (their logarithm has an absolute error of a few ulps),
    // the Stirling series above.
    private static double StirlingError(long n)
    {
        if (n <= 15)
        {
            double factorial = 1;
            for (var i = 2; i <= n; i++)
            {
                factorial *= i;
            }

            return Math.Log(factorial) - ((n + 0.5) * Math.Log(n)) + n - (0.5 * Math.Log(2 * Math.PI));
        }

        const double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
        double nn = (double)n * n;
        return (s0 - ((s1 - ((s2 - ((s3 - (s4 / nn)) / nn)) / nn)) / nn)) / n;
    }

    // x·ln(x/m) + m − x without cancellation when x ≈ m (Loader's bd0).
    private static double Bd0(double x, double m)
    {
        if (Math.Abs(x - m) < 0.1 * (x + m))
        {
            var v = (x - m) / (x + m);
            var s = (x - m) * v;
            var ej = 2 * x * v;
            var v2 = v * v;
            for (var j = 1; j < 1000; j++)
            {
                ej *= v2;
                var s1 = s + (ej / ((2 * j) + 1));
                if (s1 == s)
                {
                    return s1;
                }

                s = s1;
            }

            return s;
        }

        return (x * Math.Log(x / m)) + m - x;
    }

    /// <summary>Python's math.isclose with its default relative tolerance 1e-9.</summary>
    public static bool IsClose(double a, double b) =>
        a == b || (double.IsFinite(a) && double.IsFinite(b) && Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b)));
}
