using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Numerics;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting.Tuning;

/// <summary>
/// The distribution of the secret number of runs K in a private hyperparameter search that repeats a DP training K times
/// and releases only the best run (Papernot and Steinke, "Hyperparameter Tuning with Renyi Differential Privacy", ICLR
/// 2022; dp_accounting's <see cref="RepeatAndSelectDpEvent"/>). Shape η = +∞ is Poisson(mean); 0 &lt; η &lt; ∞ the
/// truncated negative binomial of their Definition 1, P[K = k] = (1 − γ)^k/(γ^−η − 1)·∏_{ℓ&lt;k}(ℓ + η)/(ℓ + 1) for k ≥ 1;
/// η = 1 the geometric, P[K = k] = γ(1 − γ)^(k−1); η = 0 the logarithmic, P[K = k] = (1 − γ)^k/(k·ln(1/γ)).
/// </summary>
/// <remarks>
/// The guarantee of <see cref="RepeatAndSelectDpEvent"/> holds only when K is drawn from this distribution with secret
/// randomness, K itself stays unpublished, and nothing of the runs but the selected one is released.
/// </remarks>
public sealed record RunCountDistribution
{
    /// <summary>Creates the distribution.</summary>
    /// <param name="mean">E[K], finite and ≥ 1.</param>
    /// <param name="shape">η ≥ 0, or +∞ for Poisson.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range or NaN.</exception>
    public RunCountDistribution(double mean, double shape)
    {
        if (!(mean >= 1) || double.IsInfinity(mean))
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean, "The mean number of runs must be finite and ≥ 1.");
        }

        if (!(shape >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "The shape must be ≥ 0 (+∞ for Poisson).");
        }

        Mean = mean;
        Shape = shape;
        Gamma = double.IsPositiveInfinity(shape) ? double.NaN : RepeatAndSelectRdp.GammaFromMean(shape, mean);
    }

    /// <summary>E[K].</summary>
    public double Mean { get; }

    /// <summary>η: 0 logarithmic, 1 geometric, +∞ Poisson, otherwise truncated negative binomial.</summary>
    public double Shape { get; }

    /// <summary>
    /// γ ∈ (0, 1], the halting probability of the truncated negative binomial whose mean is <see cref="Mean"/> (NaN for
    /// Poisson). The RDP accountant's own γ (bisection to a relative 1e-9, the lower end, as dp_accounting), so the sampler
    /// draws from exactly the distribution that is accounted (a smaller γ means slightly more runs on average).
    /// </summary>
    public double Gamma { get; }

    /// <summary>The event of the whole search: <paramref name="run"/> repeated K ~ this distribution times, the best released.</summary>
    /// <param name="run">The event of one run (all candidates must be covered by it).</param>
    /// <returns>A <see cref="RepeatAndSelectDpEvent"/>.</returns>
    public RepeatAndSelectDpEvent Event(DpEvent run) => new(run, Mean, Shape);

    /// <summary>P[K = k].</summary>
    /// <param name="k">The number of runs.</param>
    /// <returns>The probability (K = 0 has positive probability only under Poisson).</returns>
    public double Probability(int k) => k < 0 ? 0 : Math.Exp(LogProbability(k));

    /// <summary>Draws K by inversion from one uniform number.</summary>
    /// <param name="uniform">A uniform number in [0, 1) from a secret source (the caller's secure generator).</param>
    /// <returns>K ≥ 0 (≥ 1 unless Poisson).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="uniform"/> is outside [0, 1).</exception>
    public int Sample(double uniform)
    {
        if (!(uniform >= 0 && uniform < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(uniform), uniform, "Expected a uniform number in [0, 1).");
        }

        var cumulative = 0.0;
        var first = double.IsPositiveInfinity(Shape) ? 0 : 1;
        for (var k = first; ; k++)
        {
            var p = Probability(k);
            cumulative += p;
            // Past the mean, once the remaining mass is below double precision, stop at k (the tail beyond is < 1e-16).
            if (uniform < cumulative || (k > Mean && p < 1e-17 * Math.Max(1, cumulative)))
            {
                return k;
            }
        }
    }

    private double LogProbability(int k)
    {
        if (double.IsPositiveInfinity(Shape))
        {
            // Poisson: k ln μ − μ − ln k!.
            return (k * Math.Log(Mean)) - Mean - LogFactorial(k);
        }

        if (k < 1)
        {
            return double.NegativeInfinity;
        }

        var log1mGamma = LogMath.Log1p(-Gamma);
        if (Gamma == 1)
        {
            return k == 1 ? 0 : double.NegativeInfinity;
        }

        if (Shape == 0)
        {
            return (k * log1mGamma) - Math.Log(k) - Math.Log(-Math.Log(Gamma));
        }

        // (1 − γ)^k/(γ^−η − 1)·Γ(k + η)/(Γ(η)·k!), the product written as a sum of logs.
        var logProduct = 0.0;
        for (var l = 0; l < k; l++)
        {
            logProduct += Math.Log((l + Shape) / (l + 1));
        }

        return (k * log1mGamma) - Math.Log(LogMath.Expm1(-Shape * Math.Log(Gamma))) + logProduct;
    }

    private static double LogFactorial(int k)
    {
        var sum = 0.0;
        for (var i = 2; i <= k; i++)
        {
            sum += Math.Log(i);
        }

        return sum;
    }
}
