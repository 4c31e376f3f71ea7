using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv;

/// <summary>
/// The record of an engine's releases when its guarantee is under a relation other than add-or-remove-one (DP-FTRL's
/// replace-special), composed by the RDP accountant of that relation. <see cref="PrivacyLedger"/> builds its accountants
/// for add-or-remove-one only, which refuse tree-aggregation events; this keeps the same runs of identical events.
/// </summary>
internal sealed class RelationLedger(NeighboringRelation relation)
{
    private readonly List<(DpEvent Event, long Count)> _entries = [];

    /// <summary>The relation of the guarantee.</summary>
    public NeighboringRelation Relation { get; } = relation;

    /// <summary>The recorded runs (event, consecutive count), in order.</summary>
    public IReadOnlyList<(DpEvent Event, long Count)> Entries => _entries;

    /// <summary>Total number of recorded events.</summary>
    public long TotalCount => _entries.Sum(e => e.Count);

    /// <summary>Records <paramref name="count"/> consecutive releases of <paramref name="dpEvent"/>.</summary>
    /// <exception cref="UnsupportedDpEventException">The RDP accountant of this relation cannot analyse the event (nothing is recorded).</exception>
    public void Record(DpEvent dpEvent, long count = 1)
    {
        ArgumentNullException.ThrowIfNull(dpEvent);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (!new RdpAccountant(neighboringRelation: Relation).Supports(dpEvent))
        {
            throw new UnsupportedDpEventException(dpEvent, $"The RDP accountant under {Relation}");
        }

        if (_entries.Count > 0 && _entries[^1].Event.Equals(dpEvent))
        {
            _entries[^1] = (dpEvent, _entries[^1].Count + count);
        }
        else
        {
            _entries.Add((dpEvent, count));
        }
    }

    /// <summary>Everything recorded as one event.</summary>
    public ComposedDpEvent ToEvent() =>
        new(_entries.Select(e => e.Count == 1 ? e.Event : new SelfComposedDpEvent(e.Event, e.Count)).ToList());

    /// <summary>A fresh RDP accountant of this relation with everything composed.</summary>
    public RdpAccountant CreateAccountant()
    {
        var accountant = new RdpAccountant(neighboringRelation: Relation);
        foreach (var (dpEvent, count) in _entries)
        {
            accountant.Compose(dpEvent, count);
        }

        return accountant;
    }
}
