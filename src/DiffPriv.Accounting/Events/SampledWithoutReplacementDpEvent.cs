namespace DiffPriv.Accounting.Events;

/// <summary>
/// Sampling without replacement: a uniformly random subset of exactly <see cref="SampleSize"/> records out of
/// <see cref="SourceDatasetSize"/> is drawn, then <see cref="Event"/> runs on it. Its privacy analysis assumes
/// the replace-one neighbouring relation.
/// </summary>
public sealed record SampledWithoutReplacementDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="sourceDatasetSize">n ≥ 0, the number of records sampled from.</param>
    /// <param name="sampleSize">k with 0 ≤ k ≤ n.</param>
    /// <param name="event">The mechanism run on the sample.</param>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 0, k &lt; 0 or k &gt; n.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is null.</exception>
    public SampledWithoutReplacementDpEvent(long sourceDatasetSize, long sampleSize, DpEvent @event)
    {
        if (sourceDatasetSize < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sourceDatasetSize), sourceDatasetSize, "Source dataset size must be ≥ 0.");
        }

        if (sampleSize < 0 || sampleSize > sourceDatasetSize)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleSize), sampleSize, "Sample size must be in [0, source dataset size].");
        }

        ArgumentNullException.ThrowIfNull(@event);
        SourceDatasetSize = sourceDatasetSize;
        SampleSize = sampleSize;
        Event = @event;
    }

    /// <summary>n: the number of records sampled from.</summary>
    public long SourceDatasetSize { get; }

    /// <summary>k: the number of records in each sample.</summary>
    public long SampleSize { get; }

    /// <summary>The mechanism applied to the sample.</summary>
    public DpEvent Event { get; }
}
