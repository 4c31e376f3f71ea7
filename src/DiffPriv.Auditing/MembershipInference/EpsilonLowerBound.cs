namespace DiffPriv.Auditing.MembershipInference;

/// <summary>
/// An empirical lower bound on ε from one membership test (a threshold on an attack score), at a stated confidence. It is
/// computed from Clopper–Pearson bounds on this test's error rates on the given examples; when it may be read as a bound
/// on the training algorithm's ε is stated in the remarks of <see cref="EmpiricalEpsilon"/>.
/// </summary>
/// <param name="Epsilon">The bound, ≥ 0 (0 = no evidence against any ε).</param>
/// <param name="Delta">The δ the bound is for.</param>
/// <param name="Confidence">The nominal confidence: over the draw of the evaluation examples, the bound exceeds the ε of
/// the member and non-member score distributions with probability at most 1 − Confidence (Clopper–Pearson is
/// conservative, so the actual coverage is at least this, not exactly this).</param>
/// <param name="Threshold">The score threshold chosen on the selection examples (member ⇔ score ≥ threshold); NaN when
/// no threshold could be evaluated.</param>
/// <param name="TruePositives">Evaluation members with score ≥ threshold.</param>
/// <param name="FalseNegatives">Evaluation members with score &lt; threshold.</param>
/// <param name="FalsePositives">Evaluation non-members with score ≥ threshold.</param>
/// <param name="TrueNegatives">Evaluation non-members with score &lt; threshold.</param>
/// <param name="FalsePositiveRateUpper">Clopper–Pearson upper end of the FPR (two-sided interval at <paramref name="Confidence"/>).</param>
/// <param name="FalseNegativeRateUpper">Clopper–Pearson upper end of the FNR (two-sided interval at <paramref name="Confidence"/>).</param>
public sealed record EpsilonLowerBound(
    double Epsilon,
    double Delta,
    double Confidence,
    double Threshold,
    long TruePositives,
    long FalseNegatives,
    long FalsePositives,
    long TrueNegatives,
    double FalsePositiveRateUpper,
    double FalseNegativeRateUpper);
