namespace DiffPriv.Accounting.Pld;

/// <summary>Small numerically careful helpers shared by the PLD code.</summary>
internal static class PldMath
{
    /// <summary>ln(1 + x) accurate for small x (Goldberg's correction; .NET's double.LogP1 is ln(x + 1)).</summary>
    public static double Log1P(double x)
    {
        var u = 1.0 + x;
        if (u == 1.0)
        {
            return x;
        }

        return double.IsInfinity(u) ? Math.Log(u) : Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>eˣ − 1 accurate for small x (Kahan's correction; .NET's double.ExpM1 is eˣ − 1).</summary>
    public static double ExpM1(double x)
    {
        if (Math.Abs(x) > 0.5)
        {
            return Math.Exp(x) - 1.0;
        }

        var u = Math.Exp(x);
        if (u == 1.0)
        {
            return x;
        }

        var um1 = u - 1.0;
        return um1 == -1.0 ? -1.0 : um1 * x / Math.Log(u);
    }

    /// <summary>ln(eᵃ + eᵇ).</summary>
    public static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
        {
            return b;
        }

        if (double.IsNegativeInfinity(b))
        {
            return a;
        }

        var (lo, hi) = a < b ? (a, b) : (b, a);
        return hi + Log1P(Math.Exp(lo - hi));
    }

    /// <summary>ln(eᵃ − eᵇ) for a &gt; b.</summary>
    private static double LogSubExp(double a, double b) => a + Log1P(-Math.Exp(b - a));

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

        return c < 0 ? LogSubExp(d, Math.Log(-c)) : LogAddExp(d, Math.Log(c));
    }

    /// <summary>Python's math.isclose with its default relative tolerance 1e-9.</summary>
    public static bool IsClose(double a, double b) =>
        a == b || Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));
}
