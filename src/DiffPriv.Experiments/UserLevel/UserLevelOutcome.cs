namespace DiffPriv.Experiments.UserLevel;

/// <summary>One setting of the user-level experiment, as it ran.</summary>
/// <param name="Mode">The setting.</param>
/// <param name="TestRmse">Root mean squared error on the held-out ratings (stars).</param>
/// <param name="Epsilon">ε at the experiment's δ from the PLD accountant's ledger of the steps that ran (upper end of its
/// interval), per <see cref="PrivacyUnit"/>; ∞ for non-private.</param>
/// <param name="PrivacyUnit">What ε protects: <c>user</c> (all of a user's ratings), <c>example</c> (one rating) or <c>none</c>.</param>
/// <param name="NoiseMultiplier">σ (calibrated for the target ε); null for non-private.</param>
/// <param name="SamplingProbability">q: of a user (user-level) or of a rating (example-level); null for non-private.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="GroupBounds">Example-level only: what its guarantee means for the median and the largest user; empty otherwise.</param>
/// <param name="WallSeconds">Model set-up, training and evaluation of this setting.</param>
public sealed record UserLevelOutcome(
    RatingTrainingMode Mode,
    double TestRmse,
    double Epsilon,
    string PrivacyUnit,
    double? NoiseMultiplier,
    double? SamplingProbability,
    long Steps,
    IReadOnlyList<GroupPrivacyBound> GroupBounds,
    double WallSeconds);
