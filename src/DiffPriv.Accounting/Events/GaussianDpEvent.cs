namespace DiffPriv.Accounting.Events;

/// <summary>
/// The Gaussian mechanism: a query of L2 sensitivity 1 released with noise N(0, σ²) added to each coordinate.
/// </summary>
/// <remarks>For a sum of records clipped to norm C with noise std σ·C, σ is <see cref="NoiseMultiplier"/>.</remarks>
public sealed record GaussianDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="noiseMultiplier">σ, the ratio of the noise standard deviation to the L2 sensitivity; finite, ≥ 0 (0 means no privacy).</param>
    /// <exception cref="ArgumentOutOfRangeException">σ is negative, infinite or NaN.</exception>
    public GaussianDpEvent(double noiseMultiplier)
    {
        RequireFiniteNonNegative(noiseMultiplier, nameof(noiseMultiplier));
        NoiseMultiplier = noiseMultiplier;
    }

    /// <summary>σ: noise standard deviation divided by the L2 sensitivity.</summary>
    public double NoiseMultiplier { get; }
}
