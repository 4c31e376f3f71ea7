using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Training;

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
            throw new ArgumentException($"--audit needs at least 4 training examples to hold some out (got {n})", nameof(inputs));
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
