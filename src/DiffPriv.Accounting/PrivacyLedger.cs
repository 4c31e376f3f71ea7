using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Accounting.Events;

namespace DiffPriv.Accounting;

/// <summary>
/// The record of every private release a training run made, kept as runs of identical events (so 14 000 identical
/// DP-SGD steps are one entry). Training code records here after each step; ε is computed on demand by a fresh
/// accountant over the whole ledger, which is much cheaper than composing step by step and keeps a checkpoint small.
/// </summary>
public sealed class PrivacyLedger
{
    private readonly List<(DpEvent Event, long Count)> _entries = [];
    private readonly PrivacyAccountant _probe;

    /// <summary>Creates an empty add-or-remove-one ledger whose events must be supported by <paramref name="accountant"/>.</summary>
    /// <param name="accountant">The accountant used by <see cref="GetEpsilon"/>.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The shipped constructor keeps its optional accountant; the relation overload has no optional parameter, so no call can become ambiguous.")]
    public PrivacyLedger(AccountantKind accountant = AccountantKind.Pld)
        : this(accountant, NeighboringRelation.AddOrRemoveOne)
    {
    }

    /// <summary>
    /// Creates an empty ledger of releases whose guarantee holds under <paramref name="neighboringRelation"/> (DP-FTRL's
    /// tree aggregation: replace-special); its events must be supported by <paramref name="accountant"/> under that relation.
    /// </summary>
    /// <param name="accountant">The accountant used by <see cref="GetEpsilon"/>.</param>
    /// <param name="neighboringRelation">The adjacency every accountant made by <see cref="CreateAccountant"/> analyses.</param>
    /// <exception cref="ArgumentException">The accountant does not work under the relation.</exception>
    public PrivacyLedger(AccountantKind accountant, NeighboringRelation neighboringRelation)
    {
        Accountant = accountant;
        NeighboringRelation = neighboringRelation;
        _probe = Create(accountant, neighboringRelation);
    }

    /// <summary>The accountant kind that answers for this ledger.</summary>
    public AccountantKind Accountant { get; }

    /// <summary>The adjacency of the ledger's guarantee; ε under different relations are different units.</summary>
    public NeighboringRelation NeighboringRelation { get; }

    /// <summary>The recorded runs (event, consecutive count), in order.</summary>
    public IReadOnlyList<(DpEvent Event, long Count)> Entries => _entries;

    /// <summary>Total number of recorded releases.</summary>
    public long TotalCount => _entries.Sum(e => e.Count);

    /// <summary>Records <paramref name="count"/> consecutive releases of <paramref name="dpEvent"/>.</summary>
    /// <param name="dpEvent">What ran.</param>
    /// <param name="count">≥ 1.</param>
    /// <exception cref="UnsupportedDpEventException">The accountant cannot analyse the event (nothing is recorded).</exception>
    /// <exception cref="ArgumentOutOfRangeException">count &lt; 1.</exception>
    public void Record(DpEvent dpEvent, long count = 1)
    {
        ArgumentNullException.ThrowIfNull(dpEvent);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (!_probe.Supports(dpEvent))
        {
            throw new UnsupportedDpEventException(
                dpEvent, NeighboringRelation == NeighboringRelation.AddOrRemoveOne ? Accountant.ToString() : $"{Accountant} under {RelationId(NeighboringRelation)}");
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
    /// <returns>A <see cref="ComposedDpEvent"/> of <see cref="SelfComposedDpEvent"/> runs.</returns>
    public ComposedDpEvent ToEvent() =>
        new(_entries.Select(e => e.Count == 1 ? e.Event : new SelfComposedDpEvent(e.Event, e.Count)).ToList());

    /// <summary>A fresh accountant of <paramref name="kind"/>, under <see cref="NeighboringRelation"/>, with the whole ledger composed.</summary>
    /// <param name="kind">Which accountant; defaults to <see cref="Accountant"/>.</param>
    /// <returns>The accountant.</returns>
    /// <exception cref="ArgumentException">The accountant does not work under the ledger's relation.</exception>
    /// <exception cref="UnsupportedDpEventException">The accountant cannot analyse a recorded event (only when <paramref name="kind"/> is not <see cref="Accountant"/>).</exception>
    public PrivacyAccountant CreateAccountant(AccountantKind? kind = null)
    {
        var accountant = Create(kind ?? Accountant, NeighboringRelation);
        foreach (var (dpEvent, count) in _entries)
        {
            accountant.Compose(dpEvent, count);
        }

        return accountant;
    }

    /// <summary>ε spent so far at <paramref name="delta"/>, by <see cref="Accountant"/> (0 before the first release).</summary>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <returns>ε ≥ 0.</returns>
    public double GetEpsilon(double delta) => CreateAccountant().GetEpsilon(delta);

    /// <summary>The ledger as JSON (for checkpoints and reports).</summary>
    /// <returns>JSON text.</returns>
    public string ToJson()
    {
        var entries = new JsonArray();
        foreach (var (dpEvent, count) in _entries)
        {
            entries.Add(new JsonObject
            {
                ["count"] = count,
                ["event"] = JsonNode.Parse(DpEventJson.Serialize(dpEvent)),
            });
        }

        return new JsonObject
        {
            ["accountant"] = Accountant.ToString().ToLowerInvariant(),
            ["relation"] = RelationId(NeighboringRelation),
            ["entries"] = entries,
        }.ToJsonString();
    }

    /// <summary>Reads a ledger written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The ledger.</returns>
    /// <exception cref="JsonException">The text is not a ledger.</exception>
    public static PrivacyLedger FromJson(string json)
    {
        var root = JsonNode.Parse(json) as JsonObject ?? throw new JsonException("A privacy ledger must be a JSON object.");
        var kindText = root["accountant"]?.GetValue<string>() ?? throw new JsonException("The ledger has no 'accountant'.");
        if (!Enum.TryParse<AccountantKind>(kindText, ignoreCase: true, out var kind))
        {
            throw new JsonException($"Unknown accountant '{kindText}' in the ledger.");
        }

        // Ledgers written before relations existed hold add-or-remove-one releases.
        var relationText = root["relation"]?.GetValue<string>();
        var relation = relationText is null
            ? NeighboringRelation.AddOrRemoveOne
            : Enum.GetValues<NeighboringRelation>().Cast<NeighboringRelation?>().FirstOrDefault(r => RelationId(r!.Value) == relationText)
              ?? throw new JsonException($"Unknown neighbouring relation '{relationText}' in the ledger.");
        var ledger = new PrivacyLedger(kind, relation);
        foreach (var entry in root["entries"]?.AsArray() ?? throw new JsonException("The ledger has no 'entries'."))
        {
            var count = entry?["count"]?.GetValue<long>() ?? throw new JsonException("A ledger entry has no 'count'.");
            var dpEvent = DpEventJson.Deserialize(entry["event"]?.ToJsonString() ?? throw new JsonException("A ledger entry has no 'event'."));
            ledger.Record(dpEvent, count);
        }

        return ledger;
    }

    private static PrivacyAccountant Create(AccountantKind kind, NeighboringRelation relation) =>
        PrivacyAccountants.TryCreate(kind, relation, out var accountant)
            ? accountant
            : throw new ArgumentException($"The {kind} accountant does not work under {RelationId(relation)}.", nameof(kind));

    // dp_accounting's names, as reports print them.
    private static string RelationId(NeighboringRelation relation) => relation switch
    {
        NeighboringRelation.AddOrRemoveOne => "add-or-remove-one",
        NeighboringRelation.ReplaceOne => "replace-one",
        NeighboringRelation.ReplaceSpecial => "replace-special",
        _ => relation.ToString(),
    };
}
