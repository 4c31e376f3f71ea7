using DiffPriv.Auditing.SecretSharer;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Experiments.SecretSharer;

/// <summary>
/// Everything <c>experiment secret-sharer</c> reports. Without a non-private model (<see cref="SecretSharerSettings.PrivateOnly"/>)
/// <see cref="NonPrivate"/>, <see cref="NonPrivateExposure"/>, <see cref="Acceptance"/> and <see cref="Disagreements"/> are null.
/// </summary>
public sealed record SecretSharerExperimentResult(
    SecretSharerSettings Settings,
    TextCorpus Corpus,
    int TrainSequences,
    int TestSequences,
    CanaryPlan Plan,
    PretrainingSummary? Pretraining,
    LanguageModelScores? NonPrivate,
    LanguageModelScores Private,
    PrivateRunAccounting Accounting,
    SecretSharerResult? NonPrivateExposure,
    SecretSharerResult PrivateExposure,
    AcceptanceSummary? Acceptance,
    IReadOnlyList<(string Sequence, int Copies, double NonPrivate, double Private)>? Disagreements,
    double WallSeconds,
    string RunDir);
