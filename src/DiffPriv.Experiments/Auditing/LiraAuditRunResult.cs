using DiffPriv.Auditing.Lira;

namespace DiffPriv.Experiments.Auditing;

/// <summary>What <c>diffpriv audit lira</c> measured.</summary>
/// <param name="Settings">The settings of the run.</param>
/// <param name="Epsilon">The largest accountant ε over the K models at δ (PLD, upper end); +∞ with <c>--no-dp</c>.</param>
/// <param name="NoiseMultipliers">σ of each model (0 without DP).</param>
/// <param name="TrainAccuracies">Each model's accuracy on its own training half.</param>
/// <param name="TestAccuracies">Each model's accuracy on the test examples.</param>
/// <param name="Lira">The four LiRA tests over all K·N (target, example) pairs.</param>
/// <param name="Seconds">Wall-clock time of the whole run.</param>
/// <param name="RunDir">The run folder (lira.json, report.md, the ROC plot).</param>
public sealed record LiraAuditRunResult(
    LiraAuditSettings Settings,
    double Epsilon,
    IReadOnlyList<double> NoiseMultipliers,
    IReadOnlyList<double> TrainAccuracies,
    IReadOnlyList<double> TestAccuracies,
    LiraResult Lira,
    double Seconds,
    string RunDir);
