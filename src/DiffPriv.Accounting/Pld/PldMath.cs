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

    /// <summary>Python's math.isclose with its default relative tolerance 1e-9.</summary>
    public static bool IsClose(double a, double b) =>
        a == b || Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));
}
