namespace DiffPriv.Accounting.Events;

/// <summary>
/// k-ary randomized response: the input is one of <see cref="NumBuckets"/> buckets; with probability 1 − p the
/// mechanism outputs it, with probability p = <see cref="NoiseParameter"/> a bucket drawn uniformly from all k.
/// Its analysis needs a replace relation (<see cref="NeighboringRelation.ReplaceOne"/> or
/// <see cref="NeighboringRelation.ReplaceSpecial"/>).
/// </summary>
public sealed record RandomizedResponseDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="noiseParameter">p ∈ [0, 1]: 0 always tells the truth (no privacy), 1 ignores the input.</param>
    /// <param name="numBuckets">k ≥ 1, the number of buckets.</param>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1] or NaN, or k &lt; 1.</exception>
    public RandomizedResponseDpEvent(double noiseParameter, long numBuckets)
    {
        RequireProbability(noiseParameter, nameof(noiseParameter));
        if (numBuckets < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(numBuckets), numBuckets, "The number of buckets must be ≥ 1.");
        }

        NoiseParameter = noiseParameter;
        NumBuckets = numBuckets;
    }

    /// <summary>p: the probability of answering with a uniformly random bucket.</summary>
    public double NoiseParameter { get; }

    /// <summary>k: the number of buckets.</summary>
    public long NumBuckets { get; }
}
