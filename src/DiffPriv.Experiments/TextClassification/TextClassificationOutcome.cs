namespace DiffPriv.Experiments.TextClassification;

/// <summary>One setting of the text-classification experiment, as it ran.</summary>
/// <param name="Mode">The setting.</param>
/// <param name="TestAccuracy">Accuracy on the test reviews.</param>
/// <param name="Epsilon">ε at the experiment's δ from the accountant's ledger of the steps that ran (PLD); ∞ for non-private.</param>
/// <param name="NoiseMultiplier">σ (calibrated for the target ε); null for non-private.</param>
/// <param name="SamplingProbability">q = B/N; null for non-private.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="TrainableParameters">Parameters trained (and, when private, clipped and noised).</param>
/// <param name="TotalParameters">Parameters of the model (with LoRA: the frozen base and the adapters).</param>
/// <param name="Curve">(epoch, ε so far, accuracy on the curve's reviews) after every epoch.</param>
/// <param name="WallSeconds">Model set-up, training and evaluation of this setting.</param>
public sealed record TextClassificationOutcome(
    TextTrainingMode Mode,
    double TestAccuracy,
    double Epsilon,
    double? NoiseMultiplier,
    double? SamplingProbability,
    long Steps,
    long TrainableParameters,
    long TotalParameters,
    IReadOnlyList<(int Epoch, double Epsilon, double Accuracy)> Curve,
    double WallSeconds);
