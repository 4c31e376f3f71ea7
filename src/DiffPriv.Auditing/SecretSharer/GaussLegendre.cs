namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// 20-point Gauss–Legendre quadrature on a finite interval. Nodes and weights are computed once by Newton's method on
/// the Legendre polynomial P₂₀ (its three-term recurrence), to full double precision. Exact for polynomials of degree
/// ≤ 39; for functions analytic near the interval the error falls geometrically with the number of points.
/// </summary>
internal static class GaussLegendre
{
    private const int Points = 20;

    private static readonly (double[] Nodes, double[] Weights) Rule = Build(Points);

    /// <summary>∫ₗᵘ f(x) dx by one 20-point rule.</summary>
    public static double Integrate(Func<double, double> f, double lower, double upper)
    {
        var half = 0.5 * (upper - lower);
        var mid = 0.5 * (upper + lower);
        var (nodes, weights) = Rule;
        var sum = 0.0;
        for (var i = 0; i < nodes.Length; i++)
        {
            sum += weights[i] * f(mid + (half * nodes[i]));
        }

        return half * sum;
    }

    private static (double[] Nodes, double[] Weights) Build(int n)
    {
        var nodes = new double[n];
        var weights = new double[n];
        for (var i = 0; i < n; i++)
        {
            // Tricomi's initial guess for the i-th root, then Newton on Pₙ.
            var x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            for (var iteration = 0; iteration < 100; iteration++)
            {
                var (p, dp) = Legendre(n, x);
                var step = p / dp;
                x -= step;
                if (Math.Abs(step) <= 1e-16)
                {
                    break;
                }
            }

            var (_, derivative) = Legendre(n, x);
            nodes[i] = x;
            weights[i] = 2.0 / ((1.0 - (x * x)) * derivative * derivative);
        }

        return (nodes, weights);
    }

    /// <summary>Pₙ(x) and Pₙ′(x) by the recurrence (k + 1)Pₖ₊₁ = (2k + 1)x·Pₖ − k·Pₖ₋₁.</summary>
    private static (double P, double Derivative) Legendre(int n, double x)
    {
        var p0 = 1.0;
        var p1 = x;
        for (var k = 1; k < n; k++)
        {
            var p2 = (((2 * k) + 1) * x * p1 - (k * p0)) / (k + 1);
            p0 = p1;
            p1 = p2;
        }

        return (p1, n * ((x * p1) - p0) / ((x * x) - 1.0));
    }
}
