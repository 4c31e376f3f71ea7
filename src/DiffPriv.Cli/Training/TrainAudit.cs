using DiffPriv.Auditing.MembershipInference;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Cli.Training;

/// <summary>What <c>train --audit</c> measured: the attacks' results and the examples they used.</summary>
/// <param name="Result">Every attack on every slice.</param>
/// <param name="Members">Training examples attacked.</param>
/// <param name="NonMembers">Held-out examples attacked.</param>
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
/// The split <c>train --audit</c> makes before training: k = min(10 000, ⌊N/2⌋) examples of the training pool, drawn
/// uniformly at random with a seeded generator, are held out as non-members; the model trains on the other N − k.
/// Members and non-members thus come from the same distribution and are assigned at random, which is what a
/// membership-inference bound on ε assumes (a fixed test split, e.g. other writers, would not be).
/// </summary>
internal sealed class AuditSplit : IDisposable
{
    /// <summary>Most examples held out.</summary>
    public const int MaxHoldout = 10_000;

    private AuditSplit(Tensor trainInputs, Tensor trainTargets, Tensor holdoutInputs, Tensor holdoutTargets)
    {
        TrainInputs = trainInputs;
        TrainTargets = trainTargets;
        HoldoutInputs = holdoutInputs;
        HoldoutTargets = holdoutTargets;
    }

    /// <summary>The examples trained on.</summary>
    public Tensor TrainInputs { get; }

    /// <summary>Their labels.</summary>
    public Tensor TrainTargets { get; }

    /// <summary>The held-out examples (non-members).</summary>
    public Tensor HoldoutInputs { get; }

    /// <summary>Their labels.</summary>
    public Tensor HoldoutTargets { get; }

    /// <summary>Splits the pool with a generator seeded by <paramref name="seed"/> (the choice does not depend on the data).</summary>
    public static AuditSplit Create(Tensor inputs, Tensor targets, int seed)
    {
        var n = inputs.shape[0];
        if (n < 4)
        {
            throw new UsageException($"--audit needs at least 4 training examples to hold some out (got {n})");
        }

        var k = Math.Min(MaxHoldout, n / 2);
        var order = ModelScores.SampleIndices(n, n, seed, shuffle: true);
        using var holdout = torch.tensor(order[..(int)k].Order().ToArray());
        using var train = torch.tensor(order[(int)k..].Order().ToArray());
        return new AuditSplit(inputs.index_select(0, train), targets.index_select(0, train), inputs.index_select(0, holdout), targets.index_select(0, holdout));
    }

    public void Dispose()
    {
        TrainInputs.Dispose();
        TrainTargets.Dispose();
        HoldoutInputs.Dispose();
        HoldoutTargets.Dispose();
    }
}

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
