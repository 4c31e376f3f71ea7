namespace DiffPriv.Accounting.Pld;

/// <summary>An interval [Lower, Upper] that contains the exact ε of the composed mechanisms.</summary>
/// <param name="Lower">ε from the optimistic PLD: no smaller than 0 and no larger than the exact ε (up to float error).</param>
/// <param name="Upper">ε from the pessimistic PLD: a valid (ε, δ)-DP guarantee; +∞ when none is finite.</param>
public sealed record EpsilonInterval(double Lower, double Upper);
