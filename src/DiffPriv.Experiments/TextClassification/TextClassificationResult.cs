namespace DiffPriv.Experiments.TextClassification;

/// <summary>What <see cref="TextClassificationExperiment.Run(TextClassificationSettings, IProgress{ProgressUpdate}?)"/> measured.</summary>
/// <param name="Settings">The settings it ran with.</param>
/// <param name="TrainReviews">Training reviews used.</param>
/// <param name="TestReviews">Test reviews used.</param>
/// <param name="VocabularySize">Ids of the public word vocabulary.</param>
/// <param name="UnknownRate">Share of the training reviews' tokens outside the public vocabulary.</param>
/// <param name="PretrainedWeights">The cached pretrained weights file.</param>
/// <param name="PretrainingLoaded">True when the pretrained weights came from the cache (nothing pretrained by this run).</param>
/// <param name="PretrainingSeconds">Wall time of loading or pretraining the public model.</param>
/// <param name="Outcomes">One per setting, in the order run.</param>
/// <param name="WallSeconds">The whole run.</param>
/// <param name="RunDir">The run folder (report.md, results.json, accuracy-vs-epsilon.png, command.txt).</param>
public sealed record TextClassificationResult(
    TextClassificationSettings Settings,
    int TrainReviews,
    int TestReviews,
    int VocabularySize,
    double UnknownRate,
    string PretrainedWeights,
    bool PretrainingLoaded,
    double PretrainingSeconds,
    IReadOnlyList<TextClassificationOutcome> Outcomes,
    double WallSeconds,
    string RunDir);
