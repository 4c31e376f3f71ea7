using System.Text.Json.Serialization;

namespace DiffPriv.Accounting.Events;

/// <summary>
/// Tree aggregation of a stream of clipped sums over one epoch (DP-FTRL; Kairouz et al. 2021, "Practical and Private
/// (Deep) Learning without Sampling or Shuffling", appendix D): every tree node gets Gaussian noise with standard
/// deviation σ times the L2 sensitivity, a tree of s steps has ⌈log₂(s + 1)⌉ levels, and the tree restarts after
/// each entry of <see cref="StepCounts"/>. Each record occurs at most once across all the trees of this event.
/// </summary>
/// <remarks>
/// The analysis holds under <see cref="NeighboringRelation.ReplaceSpecial"/>. When the same record occurs in
/// several trees (several epochs), wrap the event in <see cref="SelfComposedDpEvent"/> or
/// <see cref="ComposedDpEvent"/>, one event per epoch. In JSON, <c>step_counts</c> is an array of integers; a single
/// integer (dp_accounting's scalar form) is read as a one-tree list.
/// </remarks>
public sealed record SingleEpochTreeAggregationDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="noiseMultiplier">σ, the per-node noise standard deviation divided by the L2 sensitivity; finite, ≥ 0 (0 means no privacy).</param>
    /// <param name="stepCounts">The number of steps in each tree, in order; at least one entry, each ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">σ is negative, infinite or NaN, or a step count is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="stepCounts"/> is empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="stepCounts"/> is null.</exception>
    public SingleEpochTreeAggregationDpEvent(double noiseMultiplier, IReadOnlyList<long> stepCounts)
    {
        RequireFiniteNonNegative(noiseMultiplier, nameof(noiseMultiplier));
        ArgumentNullException.ThrowIfNull(stepCounts);
        var list = stepCounts.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("At least one tree (step count) is required.", nameof(stepCounts));
        }

        foreach (var steps in list)
        {
            RequireNonNegative(steps, nameof(stepCounts));
        }

        NoiseMultiplier = noiseMultiplier;
        StepCounts = Array.AsReadOnly(list);
    }

    /// <summary>σ: the per-node noise standard deviation divided by the L2 sensitivity.</summary>
    public double NoiseMultiplier { get; }

    /// <summary>The number of steps in each tree (between two restarts), in order.</summary>
    [JsonConverter(typeof(StepCountsJsonConverter))]
    public IReadOnlyList<long> StepCounts { get; }

    /// <summary>Lists the step counts (records print collections as their type name otherwise).</summary>
    /// <param name="builder">The builder to append to.</param>
    /// <returns>True: members were printed.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("NoiseMultiplier = ").Append(NoiseMultiplier)
            .Append(", StepCounts = [").AppendJoin(", ", StepCounts).Append(']');
        return true;
    }

    /// <inheritdoc />
    public bool Equals(SingleEpochTreeAggregationDpEvent? other) =>
        other is not null && NoiseMultiplier.Equals(other.NoiseMultiplier) && StepCounts.SequenceEqual(other.StepCounts);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(NoiseMultiplier);
        foreach (var s in StepCounts)
        {
            hash.Add(s);
        }

        return hash.ToHashCode();
    }
}
