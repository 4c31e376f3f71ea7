namespace DiffPriv.Accounting.Events;

/// <summary>
/// A mechanism known only to be (ε, δ)-DP. One (ε, δ) pair rarely describes a mechanism fully; prefer a specific
/// event when there is one.
/// </summary>
public sealed record EpsilonDeltaDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="epsilon">ε ≥ 0; +∞ (JSON <c>"Infinity"</c>) means no guarantee.</param>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException">ε is negative or NaN, or δ is outside [0, 1].</exception>
    public EpsilonDeltaDpEvent(double epsilon, double delta)
    {
        RequireNonNegativeOrInfinity(epsilon, nameof(epsilon));
        RequireProbability(delta, nameof(delta));
        Epsilon = epsilon;
        Delta = delta;
    }

    /// <summary>ε of the guarantee.</summary>
    public double Epsilon { get; }

    /// <summary>δ of the guarantee.</summary>
    public double Delta { get; }
}
