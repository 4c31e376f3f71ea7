namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// The mean negative log-likelihood of a standardised sample y under skewnorm(α, ξ, ω) as a function of
/// θ = (α, ξ, η = log ω), with its exact gradient and Hessian (Azzalini 1985's score equations, chain rule through
/// z = (y − ξ)·e^{−η}): ℓ(θ) = η + mean[z²/2 − log Φ(αz)] + log √(2π) − log 2.
/// </summary>
internal static class SkewNormalLikelihood
{
    private const double Ln2 = 0.69314718055994530942;

    /// <summary>
    /// The largest |α| searched. Beyond it the skew-normal equals the half-normal limit (|α| → ∞) to within 10⁻⁶ scale
    /// units of ξ; samples more skewed than the family (|skewness| &gt; 0.9953) have their likelihood supremum there.
    /// </summary>
    public const double MaxShape = 1e6;

    /// <summary>ℓ(θ) for θ = (α, ξ, log ω); +∞ when |α| &gt; <see cref="MaxShape"/>.</summary>
    public static double MeanNegativeLogLikelihood(double[] y, double[] theta)
    {
        var (alpha, xi, eta) = (theta[0], theta[1], theta[2]);
        if (!(Math.Abs(alpha) <= MaxShape))
        {
            return double.PositiveInfinity;
        }

        var invOmega = Math.Exp(-eta);
        var sum = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            var z = (y[i] - xi) * invOmega;
            sum += (0.5 * z * z) - NormalMath.LogCdf(alpha * z);
        }

        return (sum / y.Length) + eta + NormalMath.LogSqrt2Pi - Ln2;
    }

    /// <summary>∇ℓ and ∇²ℓ at θ = (α, ξ, log ω).</summary>
    public static (double[] Gradient, double[,] Hessian) Derivatives(double[] y, double[] theta)
    {
        var (alpha, xi, eta) = (theta[0], theta[1], theta[2]);
        var invOmega = Math.Exp(-eta);
        var g = new double[3];
        var h = new double[3, 3];
        for (var i = 0; i < y.Length; i++)
        {
            var z = (y[i] - xi) * invOmega;
            var w = alpha * z;

            // r = φ(w)/Φ(w) and r′ = −r(w + r).
            var r = NormalMath.PdfOverCdf(w);
            var dr = -r * (w + r);

            // Per-point loss l = z²/2 − log Φ(αz) and its partial derivatives in α and z.
            var la = -r * z;
            var lz = z - (alpha * r);
            var laa = -dr * z * z;
            var laz = -r - (alpha * z * dr);
            var lzz = 1.0 - (alpha * alpha * dr);

            // z_ξ = −1/ω, z_η = −z, z_ξξ = 0, z_ξη = 1/ω, z_ηη = z.
            var zx = -invOmega;
            var ze = -z;
            g[0] += la;
            g[1] += lz * zx;
            g[2] += lz * ze;
            h[0, 0] += laa;
            h[0, 1] += laz * zx;
            h[0, 2] += laz * ze;
            h[1, 1] += lzz * zx * zx;
            h[1, 2] += (lzz * zx * ze) + (lz * invOmega);
            h[2, 2] += (lzz * ze * ze) + (lz * z);
        }

        var n = (double)y.Length;
        for (var j = 0; j < 3; j++)
        {
            g[j] /= n;
            for (var k = j; k < 3; k++)
            {
                h[j, k] /= n;
                h[k, j] = h[j, k];
            }
        }

        // The +η term of ℓ.
        g[2] += 1.0;
        return (g, h);
    }

    /// <summary>
    /// Newton's method from <paramref name="start"/>, each step halved until ℓ does not increase; stops when the step
    /// is below 1e-12 (relative), when the Hessian is not positive definite (keeping the best point so far), or after
    /// 50 steps.
    /// </summary>
    public static double[] NewtonPolish(double[] y, double[] start)
    {
        var theta = (double[])start.Clone();
        var value = MeanNegativeLogLikelihood(y, theta);
        for (var iteration = 0; iteration < 50; iteration++)
        {
            var (g, h) = Derivatives(y, theta);
            if (!TrySolvePositiveDefinite(h, g, out var step))
            {
                break;
            }

            var accepted = false;
            for (var halving = 0; halving < 40; halving++)
            {
                var candidate = new[] { theta[0] - step[0], theta[1] - step[1], theta[2] - step[2] };
                var candidateValue = MeanNegativeLogLikelihood(y, candidate);
                if (candidateValue <= value)
                {
                    theta = candidate;
                    value = candidateValue;
                    accepted = true;
                    break;
                }

                step = [0.5 * step[0], 0.5 * step[1], 0.5 * step[2]];
            }

            var size = Math.Max(Math.Abs(step[0]) / (1.0 + Math.Abs(theta[0])), Math.Max(Math.Abs(step[1]), Math.Abs(step[2])));
            if (!accepted || size <= 1e-12)
            {
                break;
            }
        }

        return theta;
    }

    /// <summary>Solves H·x = b by Cholesky; false when H is not (numerically) positive definite.</summary>
    private static bool TrySolvePositiveDefinite(double[,] h, double[] b, out double[] x)
    {
        var l = new double[3, 3];
        x = new double[3];
        for (var j = 0; j < 3; j++)
        {
            var d = h[j, j];
            for (var k = 0; k < j; k++)
            {
                d -= l[j, k] * l[j, k];
            }

            if (!(d > 0) || !double.IsFinite(d))
            {
                return false;
            }

            l[j, j] = Math.Sqrt(d);
            for (var i = j + 1; i < 3; i++)
            {
                var s = h[i, j];
                for (var k = 0; k < j; k++)
                {
                    s -= l[i, k] * l[j, k];
                }

                l[i, j] = s / l[j, j];
            }
        }

        // L·u = b, then Lᵀ·x = u.
        var u = new double[3];
        for (var i = 0; i < 3; i++)
        {
            var s = b[i];
            for (var k = 0; k < i; k++)
            {
                s -= l[i, k] * u[k];
            }

            u[i] = s / l[i, i];
        }

        for (var i = 2; i >= 0; i--)
        {
            var s = u[i];
            for (var k = i + 1; k < 3; k++)
            {
                s -= l[k, i] * x[k];
            }

            x[i] = s / l[i, i];
        }

        return true;
    }
}
