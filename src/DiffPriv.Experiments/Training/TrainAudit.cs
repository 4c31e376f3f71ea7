using DiffPriv.Auditing.MembershipInference;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Training;

/// <summary>
/// <c>train --audit</c>: membership-inference attacks on the trained model, k training examples (members, drawn at
/// random) against the k held-out examples of the <see cref="AuditSplit"/> (non-members).
/// </summary>
internal static class TrainAudit
{
    /// <summary>Scores members and non-members and runs every attack.</summary>
    public static TrainAuditResult Run(nn.Module<Tensor, Tensor> model, AuditSplit split, double delta, int seed)
    {
        var k = split.HoldoutInputs.shape[0];
        var members = ModelScores.Compute(model, split.TrainInputs, split.TrainTargets, ModelScores.SampleIndices(split.TrainInputs.shape[0], k, seed + 1));
        var nonMembers = ModelScores.Compute(model, split.HoldoutInputs, split.HoldoutTargets);
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
