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

    /// <summary>Creates an empty ledger whose events must be supported by <paramref name="accountant"/>.</summary>
    /// <param name="accountant">The accountant used by <see cref="GetEpsilon"/>.</param>
    public PrivacyLedger(AccountantKind accountant = AccountantKind.Pld)
    {
        Accountant = accountant;
        _probe = PrivacyAccountants.Create(accountant);
    }

    /// <summary>The accountant kind that answers for this ledger.</summary>
    public AccountantKind Accountant { get; }

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
            throw new UnsupportedDpEventException(dpEvent, Accountant.ToString());
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

    /// <summary>A fresh accountant of <paramref name="kind"/> with the whole ledger composed.</summary>
    /// <param name="kind">Which accountant; defaults to <see cref="Accountant"/>.</param>
    /// <returns>The accountant.</returns>
    public PrivacyAccountant CreateAccountant(AccountantKind? kind = null)
    {
        var accountant = PrivacyAccountants.Create(kind ?? Accountant);
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

        return new JsonObject { ["accountant"] = Accountant.ToString().ToLowerInvariant(), ["entries"] = entries }.ToJsonString();
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

        var ledger = new PrivacyLedger(kind);
        foreach (var entry in root["entries"]?.AsArray() ?? throw new JsonException("The ledger has no 'entries'."))
        {
            var count = entry?["count"]?.GetValue<long>() ?? throw new JsonException("A ledger entry has no 'count'.");
            var dpEvent = DpEventJson.Deserialize(entry["event"]?.ToJsonString() ?? throw new JsonException("A ledger entry has no 'event'."));
            ledger.Record(dpEvent, count);
        }

        return ledger;
    }
}
