using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Lira;

/// <summary>
/// One LiRA test (online or offline, global or per-example variance) over every (target model, example) pair: the
/// pooled scores, the ROC curve and the low-FPR metrics of Carlini et al. (2022).
/// </summary>
public sealed class LiraAttackResult
{
    internal LiraAttackResult(LiraMode mode, LiraVariance variance, double[] memberScores, double[] nonMemberScores, double confidence)
    {
        Mode = mode;
        Variance = variance;
        MemberScores = memberScores;
        NonMemberScores = nonMemberScores;
        Roc = RocCurve.Compute(memberScores, nonMemberScores);
        Confidence = confidence;
        TruePositivesAtTenthPercentFpr = TruePositivesAt(Roc, 0.001);
        TprAtTenthPercentFprInterval = ClopperPearson.Interval(TruePositivesAtTenthPercentFpr, memberScores.Length, confidence);
    }

    /// <summary>Online (in and out Gaussians) or offline (out Gaussian only).</summary>
    public LiraMode Mode { get; }

    /// <summary>Global (fixed) or per-example variance.</summary>
    public LiraVariance Variance { get; }

    /// <summary>Scores of the (target, example) pairs where the target trained on the example; higher = "member".</summary>
    public IReadOnlyList<double> MemberScores { get; }

    /// <summary>Scores of the pairs where it did not.</summary>
    public IReadOnlyList<double> NonMemberScores { get; }

    /// <summary>The ROC curve of member against non-member scores.</summary>
    public RocCurve Roc { get; }

    /// <summary>Area under the ROC curve, in [0, 1] (0.5 = chance).</summary>
    public double Auc => Roc.Auc;

    /// <summary>TPR at FPR ≤ 0.1% (<see cref="RocCurve.TprAtFpr"/>, every threshold, no interpolation).</summary>
    public double TprAtTenthPercentFpr => Roc.TprAtFpr(0.001);

    /// <summary>TPR at FPR ≤ 1%.</summary>
    public double TprAtOnePercentFpr => Roc.TprAtFpr(0.01);

    /// <summary>Members found at the threshold of <see cref="TprAtTenthPercentFpr"/> (its numerator).</summary>
    public int TruePositivesAtTenthPercentFpr { get; }

    /// <summary>Two-sided level of <see cref="TprAtTenthPercentFprInterval"/>, e.g. 0.95.</summary>
    public double Confidence { get; }

    /// <summary>
    /// The Clopper–Pearson interval of the TPR at 0.1% FPR: <see cref="TruePositivesAtTenthPercentFpr"/> successes in
    /// <see cref="RocCurve.MemberCount"/> trials, at <see cref="Confidence"/>. It treats the threshold as fixed and the
    /// pairs as independent trials, although the threshold is read off the same non-members and pairs share models.
    /// </summary>
    public (double Lower, double Upper) TprAtTenthPercentFprInterval { get; }

    /// <summary>A short name: online, offline, online-per-example or offline-per-example.</summary>
    public string Name => (Mode == LiraMode.Online ? "online" : "offline") + (Variance == LiraVariance.PerExample ? "-per-example" : "");

    private static int TruePositivesAt(RocCurve roc, double maxFalsePositiveRate)
    {
        var best = 0;
        foreach (var p in roc.AllPoints)
        {
            if (p.FalsePositiveRate <= maxFalsePositiveRate)
            {
                best = Math.Max(best, p.TruePositives);
            }
        }

        return best;
    }
}
