namespace DiffPriv.Accounting.Events;

/// <summary>
/// The ε-DP permute-and-flip mechanism (McKenna &amp; Sheldon 2020). Its privacy loss distribution is that of the
/// Laplace mechanism with scale 1/ε.
/// </summary>
public sealed record PermuteAndFlipDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="epsilon">ε ≥ 0; +∞ (JSON <c>"Infinity"</c>) means no guarantee.</param>
    /// <exception cref="ArgumentOutOfRangeException">ε is negative or NaN.</exception>
    public PermuteAndFlipDpEvent(double epsilon)
    {
        RequireNonNegativeOrInfinity(epsilon, nameof(epsilon));
        Epsilon = epsilon;
    }

    /// <summary>ε of the mechanism.</summary>
    public double Epsilon { get; }
}
