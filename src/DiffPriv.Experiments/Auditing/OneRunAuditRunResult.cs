using DiffPriv.Auditing.OneRun;

namespace DiffPriv.Experiments.Auditing;

/// <summary>What <c>diffpriv audit one-run</c> measured.</summary>
/// <param name="Settings">The settings of the run.</param>
/// <param name="Epsilon">The accountant's ε at δ (PLD, upper end); +∞ with <c>--no-dp</c>.</param>
/// <param name="NoiseMultiplier">σ (0 without DP).</param>
/// <param name="Steps">DP-SGD steps run.</param>
/// <param name="TrainExamples">N, the training examples (canaries not counted).</param>
/// <param name="TestAccuracy">Accuracy on the test examples that were not made into canaries.</param>
/// <param name="Audit">The one-run audit: bound, guesses, correct guesses, confidence.</param>
/// <param name="Seconds">Wall-clock time of the whole run.</param>
/// <param name="RunDir">The run folder (one-run.json).</param>
public sealed record OneRunAuditRunResult(
    OneRunAuditSettings Settings,
    double Epsilon,
    double NoiseMultiplier,
    long Steps,
    long TrainExamples,
    double TestAccuracy,
    OneRunAuditResult Audit,
    double Seconds,
    string RunDir);
