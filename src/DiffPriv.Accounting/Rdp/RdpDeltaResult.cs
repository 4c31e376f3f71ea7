namespace DiffPriv.Accounting.Rdp;

/// <summary>A δ proven by <see cref="RdpAccountant.GetDeltaAndOrder"/> and the Rényi order that proves it.</summary>
/// <param name="Delta">δ ∈ [0, 1].</param>
/// <param name="OptimalOrder">The minimising order α.</param>
public sealed record RdpDeltaResult(double Delta, double OptimalOrder);
