namespace DiffPriv.Accounting.Pld;

/// <summary>An interval [Lower, Upper] that contains the exact δ(ε) of the composed mechanisms.</summary>
/// <param name="Lower">δ from the optimistic PLD, ≤ the exact δ (up to float error).</param>
/// <param name="Upper">δ from the pessimistic PLD: a valid (ε, δ)-DP guarantee.</param>
public sealed record DeltaInterval(double Lower, double Upper);
