namespace DiffPriv.Auditing.MembershipInference;

/// <summary>One attack on one slice: its scores, ROC curve, metrics and empirical ε lower bound.</summary>
public sealed class AttackResult
{
    internal AttackResult(
        AttackKind attack,
        SliceSpec slice,
        int[] memberIndices,
        int[] nonMemberIndices,
        double[] memberScores,
        double[] nonMemberScores,
        EpsilonLowerBound epsilonLowerBound)
    {
        Attack = attack;
        Slice = slice;
        MemberIndices = memberIndices;
        NonMemberIndices = nonMemberIndices;
        MemberScores = memberScores;
        NonMemberScores = nonMemberScores;
        Roc = RocCurve.Compute(memberScores, nonMemberScores);
        EpsilonLowerBound = epsilonLowerBound;
    }

    /// <summary>The attack.</summary>
    public AttackKind Attack { get; }

    /// <summary>The slice attacked.</summary>
    public SliceSpec Slice { get; }

    /// <summary>Members in the slice.</summary>
    public int MemberCount => MemberScores.Count;

    /// <summary>Non-members in the slice.</summary>
    public int NonMemberCount => NonMemberScores.Count;

    /// <summary>Positions in <see cref="AttackInput.MemberLosses"/> of the slice's members, aligned with <see cref="MemberScores"/>.</summary>
    public IReadOnlyList<int> MemberIndices { get; }

    /// <summary>Positions in <see cref="AttackInput.NonMemberLosses"/> of the slice's non-members, aligned with <see cref="NonMemberScores"/>.</summary>
    public IReadOnlyList<int> NonMemberIndices { get; }

    /// <summary>Membership score of each member (higher = more likely a member; trained attacks: out-of-fold logits, each fold
    /// model's centred and scaled by the median and IQR of its scores on its own training fold).</summary>
    public IReadOnlyList<double> MemberScores { get; }

    /// <summary>Membership score of each non-member.</summary>
    public IReadOnlyList<double> NonMemberScores { get; }

    /// <summary>The ROC curve of the scores (scikit-learn semantics).</summary>
    public RocCurve Roc { get; }

    /// <summary>Area under the ROC curve, in [0, 1]; 0.5 = the attack does no better than chance.</summary>
    public double Auc => Roc.Auc;

    /// <summary>Attacker advantage max |TPR − FPR|, in [0, 1].</summary>
    public double AttackerAdvantage => Roc.AttackerAdvantage;

    /// <summary>TPR at FPR ≤ 0.1% (<see cref="RocCurve.TprAtFpr"/>).</summary>
    public double TprAtTenthPercentFpr => Roc.TprAtFpr(0.001);

    /// <summary>TPR at FPR ≤ 1% (<see cref="RocCurve.TprAtFpr"/>).</summary>
    public double TprAtOnePercentFpr => Roc.TprAtFpr(0.01);

    /// <summary>Positive predictive value (<see cref="RocCurve.Ppv"/>).</summary>
    public double Ppv => Roc.Ppv;

    /// <summary>The empirical ε lower bound of this attack on this slice (threshold chosen and bound computed on disjoint halves).</summary>
    public EpsilonLowerBound EpsilonLowerBound { get; }
}
