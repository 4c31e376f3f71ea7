namespace DiffPriv.Accounting.Events;

/// <summary>
/// The Laplace mechanism: a query of L1 sensitivity 1 released with Laplace noise of scale b added to each coordinate.
/// </summary>
public sealed record LaplaceDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="noiseMultiplier">b, the Laplace scale divided by the L1 sensitivity; finite, ≥ 0 (0 means no privacy).</param>
    /// <exception cref="ArgumentOutOfRangeException">b is negative, infinite or NaN.</exception>
    public LaplaceDpEvent(double noiseMultiplier)
    {
        RequireFiniteNonNegative(noiseMultiplier, nameof(noiseMultiplier));
        NoiseMultiplier = noiseMultiplier;
    }

    /// <summary>b: the Laplace scale divided by the L1 sensitivity.</summary>
    public double NoiseMultiplier { get; }
}
