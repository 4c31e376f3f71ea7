namespace DiffPriv.Accounting.Events;

/// <summary>
/// The discrete Gaussian mechanism (Canonne, Kamath &amp; Steinke 2020, "The Discrete Gaussian for Differential
/// Privacy"): an integer-valued query of L2 sensitivity <see cref="Sensitivity"/> released with noise whose mass at
/// the integer vector z is proportional to exp(−‖z‖²/(2σ²)). Roughly a Gaussian with noise multiplier
/// σ / sensitivity; unlike the continuous Gaussian, one and several dimensions differ.
/// </summary>
public sealed record DiscreteGaussianDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="sigma">σ, the scale of the noise; finite, ≥ 0 (0 means no privacy).</param>
    /// <param name="sensitivity">The L2 sensitivity of the query; finite, &gt; 0; default 1.</param>
    /// <param name="dimension">The number of coordinates released: 1 univariate, more multivariate, null unknown
    /// (accountants must then be conservative); ≥ 1 when given.</param>
    /// <exception cref="ArgumentOutOfRangeException">σ is negative, infinite or NaN, the sensitivity is not finite and
    /// positive, or the dimension is below 1.</exception>
    public DiscreteGaussianDpEvent(double sigma, double sensitivity = 1.0, long? dimension = null)
    {
        RequireFiniteNonNegative(sigma, nameof(sigma));
        if (!(sensitivity > 0) || double.IsInfinity(sensitivity))
        {
            throw new ArgumentOutOfRangeException(nameof(sensitivity), sensitivity, "The sensitivity must be finite and > 0.");
        }

        if (dimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The dimension must be ≥ 1 (or unknown).");
        }

        Sigma = sigma;
        Sensitivity = sensitivity;
        Dimension = dimension;
    }

    /// <summary>σ: the scale of the discrete Gaussian noise.</summary>
    public double Sigma { get; }

    /// <summary>The L2 sensitivity of the integer-valued query.</summary>
    public double Sensitivity { get; }

    /// <summary>The number of coordinates released, or null when unknown.</summary>
    public long? Dimension { get; }
}
