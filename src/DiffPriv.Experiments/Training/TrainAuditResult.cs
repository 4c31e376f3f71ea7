using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Experiments.Training;

/// <summary>What <c>train --audit</c> measured: the attacks' results and the examples they used.</summary>
/// <param name="Result">Every attack on every slice.</param>
/// <param name="Members">Training examples attacked.</param>
/// <param name="NonMembers">Held-out examples attacked.</param>
public sealed record TrainAuditResult(AuditResult Result, int Members, int NonMembers)
{
    /// <summary>The number of headline bounds (one per attack, all examples) that share the 5% error budget.</summary>
    public int HeadlineCount => Result.Results.Count(r => r.Slice.Kind == SliceKind.All);

    /// <summary>
    /// The headline: the largest ε lower bound among the attacks on all examples. Each is computed at confidence
    /// 1 − 0.05/k for k attacks, so their maximum holds with confidence ≥ 95% (union bound). Per-slice bounds are
    /// exploratory: the largest of many bounds is not a 95% bound.
    /// </summary>
    public AttackResult Headline => Result.Results.Where(r => r.Slice.Kind == SliceKind.All).MaxBy(r => r.EpsilonLowerBound.Epsilon)!;
}
