namespace DiffPriv.Experiments.Tabular;

/// <summary>What <see cref="TabularTrainRunner.Run(TabularTrainSettings, IProgress{ProgressUpdate}?)"/> (or <see cref="TabularTrainRunner.Resume"/>) did and measured.</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="Model">The classifier trained.</param>
/// <param name="Columns">Every column but the target, in file order: how it was used and where its public facts came from.</param>
/// <param name="Classes">The target's classes, in class order.</param>
/// <param name="ClassesSource">Where the classes came from.</param>
/// <param name="Features">The width of the encoded rows.</param>
/// <param name="TrainExamples">Training rows used.</param>
/// <param name="TestExamples">Test rows.</param>
/// <param name="LeftOutMissingTarget">Training and test rows left out because their target is missing.</param>
/// <param name="LeftOutUnknownClass">Training rows left out because their class was not among the classes released with DP.</param>
/// <param name="TestAccuracy">Accuracy on the test rows (a test row of a class outside the classes counts as wrong).</param>
/// <param name="MajorityBaseline">The test accuracy of always answering the test split's most frequent class (a floor read from the test split only).</param>
/// <param name="Epsilon">ε of the whole run at δ, preprocessing included: the PLD upper bound over the ledger.</param>
/// <param name="EpsilonLower">The PLD lower bound of the same ε.</param>
/// <param name="PreprocessingEpsilon">ε of the preprocessing's events alone at δ (0 when everything was declared).</param>
/// <param name="TrainingEpsilon">ε of the DP-SGD steps alone at δ.</param>
/// <param name="NoiseMultiplier">DP-SGD's σ.</param>
/// <param name="PreprocessingNoiseMultiplier">σ of the preprocessing's noisy counts (null when nothing was computed with DP).</param>
/// <param name="CategoryThreshold">τ of the thresholded histograms (null when there were none).</param>
/// <param name="SamplingProbability">q = B/N.</param>
/// <param name="Steps">DP-SGD steps.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="BatchSize">The expected batch size B.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="WallSeconds">The whole run.</param>
/// <param name="RunDir">The run folder.</param>
public sealed record TabularTrainResult(
    TabularTrainSettings Settings,
    TabularModelKind Model,
    IReadOnlyList<TabularColumnSummary> Columns,
    IReadOnlyList<string> Classes,
    TabularSource ClassesSource,
    int Features,
    int TrainExamples,
    int TestExamples,
    int LeftOutMissingTarget,
    int LeftOutUnknownClass,
    double TestAccuracy,
    double MajorityBaseline,
    double Epsilon,
    double EpsilonLower,
    double PreprocessingEpsilon,
    double TrainingEpsilon,
    double NoiseMultiplier,
    double? PreprocessingNoiseMultiplier,
    double? CategoryThreshold,
    double SamplingProbability,
    long Steps,
    double Epochs,
    int BatchSize,
    double LearningRate,
    double WallSeconds,
    string RunDir);
