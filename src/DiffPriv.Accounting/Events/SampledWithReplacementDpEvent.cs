namespace DiffPriv.Accounting.Events;

/// <summary>
/// Sampling with replacement: <see cref="SampleSize"/> records, possibly repeated, are drawn uniformly from
/// <see cref="SourceDatasetSize"/>, then <see cref="Event"/> runs on the sample.
/// </summary>
public sealed record SampledWithReplacementDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="sourceDatasetSize">n ≥ 0, the number of records sampled from; ≥ 1 when k &gt; 0.</param>
    /// <param name="sampleSize">k ≥ 0; may exceed n.</param>
    /// <param name="event">The mechanism run on the sample.</param>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 0, k &lt; 0, or k &gt; 0 from an empty dataset.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is null.</exception>
    public SampledWithReplacementDpEvent(long sourceDatasetSize, long sampleSize, DpEvent @event)
    {
        RequireNonNegative(sourceDatasetSize, nameof(sourceDatasetSize));
        RequireNonNegative(sampleSize, nameof(sampleSize));
        if (sampleSize > 0 && sourceDatasetSize == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleSize), sampleSize, "Cannot draw records from an empty dataset.");
        }

        ArgumentNullException.ThrowIfNull(@event);
        SourceDatasetSize = sourceDatasetSize;
        SampleSize = sampleSize;
        Event = @event;
    }

    /// <summary>n: the number of records sampled from.</summary>
    public long SourceDatasetSize { get; }

    /// <summary>k: the number of draws.</summary>
    public long SampleSize { get; }

    /// <summary>The mechanism applied to the sample.</summary>
    public DpEvent Event { get; }
}
