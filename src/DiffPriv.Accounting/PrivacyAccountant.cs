using DiffPriv.Accounting.Events;

namespace DiffPriv.Accounting;

/// <summary>
/// Tracks the privacy spent by a sequence of mechanisms, described as <see cref="DpEvent"/>s, and converts it
/// into an (ε, δ)-DP guarantee.
/// </summary>
/// <remarks>
/// Implementations only read events. <see cref="Compose"/> rejects events the accountant cannot analyse
/// (<see cref="Supports"/> is false) rather than ignoring them, so no mechanism can skip the accountant.
/// </remarks>
public abstract class PrivacyAccountant
{
    private readonly List<DpEvent> _ledger = [];

    /// <summary>Creates an accountant for the given neighbouring relation.</summary>
    /// <param name="neighboringRelation">The adjacency under which the guarantee holds.</param>
    protected PrivacyAccountant(NeighboringRelation neighboringRelation)
    {
        NeighboringRelation = neighboringRelation;
    }

    /// <summary>The adjacency under which the guarantee holds.</summary>
    public NeighboringRelation NeighboringRelation { get; }

    /// <summary>Everything composed so far, as one event (what a checkpoint stores).</summary>
    public ComposedDpEvent LedgerEvent => new(_ledger);

    /// <summary>Whether this accountant can analyse <paramref name="dpEvent"/> (and every event nested in it).</summary>
    /// <param name="dpEvent">The event.</param>
    /// <returns>True when <see cref="Compose"/> accepts it.</returns>
    public abstract bool Supports(DpEvent dpEvent);

    /// <summary>Adds <paramref name="count"/> adaptive runs of <paramref name="event"/> to the privacy spent.</summary>
    /// <param name="event">The mechanism that ran.</param>
    /// <param name="count">How many times it ran; ≥ 1.</param>
    /// <returns>This accountant, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> &lt; 1.</exception>
    /// <exception cref="UnsupportedDpEventException">The accountant cannot analyse the event.</exception>
    public PrivacyAccountant Compose(DpEvent @event, long count = 1)
    {
        ArgumentNullException.ThrowIfNull(@event);
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "Count must be ≥ 1.");
        }

        if (!Supports(@event))
        {
            throw new UnsupportedDpEventException(@event, GetType().Name);
        }

        ComposeCore(@event, count);
        _ledger.Add(count == 1 ? @event : new SelfComposedDpEvent(@event, count));
        return this;
    }

    /// <summary>Adds a supported event to the internal state.</summary>
    /// <param name="dpEvent">A supported event.</param>
    /// <param name="count">≥ 1.</param>
    protected abstract void ComposeCore(DpEvent dpEvent, long count);

    /// <summary>The smallest ε this accountant can prove for the composed events at the given δ.</summary>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <returns>ε ≥ 0, or +∞ when no finite ε holds.</returns>
    /// <exception cref="ArgumentOutOfRangeException">δ is outside [0, 1].</exception>
    public abstract double GetEpsilon(double delta);

    /// <summary>The smallest δ this accountant can prove for the composed events at the given ε.</summary>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <returns>δ ∈ [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException">ε is negative or NaN.</exception>
    public abstract double GetDelta(double epsilon);

    /// <summary>Checks δ ∈ [0, 1].</summary>
    /// <param name="delta">δ.</param>
    protected static void ValidateDelta(double delta)
    {
        if (!(delta >= 0 && delta <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "Delta must be in [0, 1].");
        }
    }

    /// <summary>Checks ε ≥ 0.</summary>
    /// <param name="epsilon">ε.</param>
    protected static void ValidateEpsilon(double epsilon)
    {
        if (!(epsilon >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be ≥ 0.");
        }
    }
}
