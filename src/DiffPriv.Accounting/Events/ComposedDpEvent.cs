namespace DiffPriv.Accounting.Events;

/// <summary>Several mechanisms run one after the other, adaptively composed.</summary>
public sealed record ComposedDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="events">The mechanisms, in order; none null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of its items is null.</exception>
    public ComposedDpEvent(IReadOnlyList<DpEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var list = events.ToArray();
        if (list.Any(e => e is null))
        {
            throw new ArgumentNullException(nameof(events), "Composed events must not contain null.");
        }

        Events = list;
    }

    /// <summary>The mechanisms, in order.</summary>
    public IReadOnlyList<DpEvent> Events { get; }

    /// <summary>Lists the composed events (records print collections as their type name otherwise).</summary>
    /// <param name="builder">The builder to append to.</param>
    /// <returns>True: members were printed.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Events = [").AppendJoin(", ", Events).Append(']');
        return true;
    }

    /// <inheritdoc />
    public bool Equals(ComposedDpEvent? other) =>
        other is not null && Events.SequenceEqual(other.Events);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var e in Events)
        {
            hash.Add(e);
        }

        return hash.ToHashCode();
    }
}
