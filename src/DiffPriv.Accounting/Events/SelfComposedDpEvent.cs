namespace DiffPriv.Accounting.Events;

/// <summary><see cref="Event"/> run <see cref="Count"/> times, adaptively composed.</summary>
public sealed record SelfComposedDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="event">The repeated mechanism.</param>
    /// <param name="count">How many times it runs; ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">count &lt; 0.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is null.</exception>
    public SelfComposedDpEvent(DpEvent @event, long count)
    {
        ArgumentNullException.ThrowIfNull(@event);
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "Count must be ≥ 0.");
        }

        Event = @event;
        Count = count;
    }

    /// <summary>The repeated mechanism.</summary>
    public DpEvent Event { get; }

    /// <summary>How many times it runs.</summary>
    public long Count { get; }
}
