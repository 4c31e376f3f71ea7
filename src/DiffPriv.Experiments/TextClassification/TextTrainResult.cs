namespace DiffPriv.Experiments.TextClassification;

/// <summary>What <see cref="TextTrainRunner.Run(TextTrainSettings, IProgress{ProgressUpdate}?)"/> did and measured.</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="Labels">The classes, in class order.</param>
/// <param name="LabelsDeclared">True: declared with --labels; false: read from the training file and treated as public.</param>
/// <param name="TrainExamples">Training examples.</param>
/// <param name="TestExamples">Held-out examples.</param>
/// <param name="TestAccuracy">Accuracy on the held-out examples.</param>
/// <param name="MajorityAccuracy">The held-out accuracy of always answering the training set's most frequent label (a floor).</param>
/// <param name="Epsilon">ε (PLD upper bound) at δ from the ledger of the steps that ran.</param>
/// <param name="EpsilonLower">The PLD lower bound of the same ε.</param>
/// <param name="NoiseMultiplier">σ, calibrated for the target ε.</param>
/// <param name="SamplingProbability">q = B/N.</param>
/// <param name="Steps">DP-SGD steps.</param>
/// <param name="TrainableParameters">Parameters trained, clipped and noised.</param>
/// <param name="TotalParameters">Parameters of the model being trained.</param>
/// <param name="UnknownRate">Share of the training texts' tokens outside the public vocabulary.</param>
/// <param name="WallSeconds">The whole run.</param>
/// <param name="RunDir">The run folder.</param>
public sealed record TextTrainResult(
    TextTrainSettings Settings,
    IReadOnlyList<string> Labels,
    bool LabelsDeclared,
    int TrainExamples,
    int TestExamples,
    double TestAccuracy,
    double MajorityAccuracy,
    double Epsilon,
    double EpsilonLower,
    double NoiseMultiplier,
    double SamplingProbability,
    long Steps,
    long TrainableParameters,
    long TotalParameters,
    double UnknownRate,
    double WallSeconds,
    string RunDir);
