namespace DiffPriv.Experiments.Reports;

/// <summary>ε of one run from one accountant.</summary>
/// <param name="Accountant">The accountant: <c>pld</c> or <c>rdp</c>.</param>
/// <param name="Epsilon">ε (for PLD the upper end of its interval); +∞ when unbounded.</param>
/// <param name="EpsilonLower">PLD only: the lower end of the interval that brackets the exact ε.</param>
/// <param name="OptimalOrder">RDP only: the Rényi order that gave ε.</param>
public sealed record AccountantEstimate(string Accountant, double Epsilon, double? EpsilonLower, double? OptimalOrder);
