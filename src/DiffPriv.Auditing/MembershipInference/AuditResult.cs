namespace DiffPriv.Auditing.MembershipInference;

/// <summary>Everything a membership-inference audit found.</summary>
public sealed class AuditResult
{
    internal AuditResult(AttackInput input, AuditOptions options, IReadOnlyList<AttackResult> results, IReadOnlyList<string> notes)
    {
        MemberCount = input.MemberCount;
        NonMemberCount = input.NonMemberCount;
        Options = options;
        Results = results;
        Notes = notes;
    }

    /// <summary>Members audited.</summary>
    public int MemberCount { get; }

    /// <summary>Non-members audited.</summary>
    public int NonMemberCount { get; }

    /// <summary>The options the audit ran with.</summary>
    public AuditOptions Options { get; }

    /// <summary>One result per attack and slice, slice by slice ("all" first), attacks in <see cref="AttackKinds.All"/> order.</summary>
    public IReadOnlyList<AttackResult> Results { get; }

    /// <summary>What was skipped and why (missing logits or labels, slices too small), in plain words.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>The result with the largest AUC.</summary>
    public AttackResult StrongestByAuc => Results.MaxBy(r => r.Auc)!;

    /// <summary>The result with the largest ε lower bound (the first one on ties).</summary>
    public AttackResult StrongestByEpsilon => Results.MaxBy(r => r.EpsilonLowerBound.Epsilon)!;

    /// <summary>
    /// The confidence with which the largest of all <see cref="Results"/>' ε bounds holds: 1 − m·(1 − Confidence) for m
    /// results (union bound), floored at 0. Each single result's bound holds at <see cref="AuditOptions.Confidence"/>.
    /// </summary>
    public double FamilyConfidence => Math.Max(0, 1 - (Results.Count * (1 - Options.Confidence)));

    /// <summary>The result of one attack on one slice, or null when it did not run.</summary>
    /// <param name="attack">The attack.</param>
    /// <param name="slice">The slice.</param>
    /// <returns>The result or null.</returns>
    public AttackResult? Find(AttackKind attack, SliceSpec slice) =>
        Results.FirstOrDefault(r => r.Attack == attack && r.Slice == slice);
}
