namespace DiffPriv.Accounting.Rdp;

/// <summary>An ε proven by <see cref="RdpAccountant.GetEpsilonAndOrder"/> and the Rényi order that proves it.</summary>
/// <param name="Epsilon">ε ≥ 0 (nats), possibly +∞.</param>
/// <param name="OptimalOrder">The minimising order α (0 when δ = 0, where no order applies).</param>
public sealed record RdpEpsilonResult(double Epsilon, double OptimalOrder);
