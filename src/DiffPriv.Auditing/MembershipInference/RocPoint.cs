namespace DiffPriv.Auditing.MembershipInference;

/// <summary>One point of a ROC curve: predicting "member" for every score ≥ <see cref="Threshold"/>.</summary>
/// <param name="Threshold">The score threshold (the attack's score scale, higher = more likely a member); +∞ for the leading
/// point where nothing is predicted a member.</param>
/// <param name="FalsePositiveRate">FP / (number of non-members), in [0, 1].</param>
/// <param name="TruePositiveRate">TP / (number of members), in [0, 1].</param>
/// <param name="FalsePositives">Non-members with score ≥ threshold.</param>
/// <param name="TruePositives">Members with score ≥ threshold.</param>
public readonly record struct RocPoint(double Threshold, double FalsePositiveRate, double TruePositiveRate, int FalsePositives, int TruePositives);
