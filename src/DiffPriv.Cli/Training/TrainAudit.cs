using DiffPriv.Auditing.MembershipInference;
using DiffPriv.Data;
using static TorchSharp.torch;

namespace DiffPriv.Cli.Training;

/// <summary>What <c>train --audit</c> measured: the attacks' results and the examples they used.</summary>
/// <param name="Result">Every attack on every slice.</param>
/// <param name="Members">Training examples attacked.</param>
/// <param name="NonMembers">Test examples attacked.</param>
internal sealed record TrainAuditResult(AuditResult Result, int Members, int NonMembers)
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

/// <summary>
/// <c>train --audit</c>: membership-inference attacks on the trained model, training examples (members) against
/// test examples (non-members), equally many of each.
/// </summary>
internal static class TrainAudit
{
    /// <summary>
    /// Scores k = min(N_train, N_test) training examples and k test examples (seeded uniform choices; which
    /// examples are audited does not depend on their values) and runs every attack.
    /// </summary>
    public static TrainAuditResult Run(nn.Module<Tensor, Tensor> model, ImageDataset data, double delta, int seed)
    {
        var nTrain = data.TrainInputs.shape[0];
        var nTest = data.TestInputs.shape[0];
        var k = Math.Min(nTrain, nTest);
        var members = ModelScores.Compute(model, data.TrainInputs, data.TrainTargets, ModelScores.SampleIndices(nTrain, k, seed));
        var nonMembers = ModelScores.Compute(model, data.TestInputs, data.TestTargets, ModelScores.SampleIndices(nTest, k, seed + 1));
        var input = new AttackInput
        {
            MemberLosses = members.Losses,
            NonMemberLosses = nonMembers.Losses,
            MemberLogits = members.Logits,
            NonMemberLogits = nonMembers.Logits,
            MemberLabels = members.Labels,
            NonMemberLabels = nonMembers.Labels,
        };
        // Bonferroni over the attacks on all examples: the maximum of their bounds holds with confidence ≥ 95%.
        var confidence = 1 - (0.05 / AttackKinds.All.Count);
        var result = MembershipInferenceAudit.Run(input, new AuditOptions { Delta = delta, Seed = seed, Confidence = confidence });
        return new TrainAuditResult(result, members.Losses.Length, nonMembers.Losses.Length);
    }
}
