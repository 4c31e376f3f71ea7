using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Experiments.Reports;

/// <summary>
/// ε of any event tree (dp_accounting's events, read from JSON by <c>diffpriv epsilon --event</c>) from each
/// accountant that can analyse it under a given neighbouring relation. An accountant that cannot is listed, never
/// skipped silently.
/// </summary>
public static class EventAccounting
{
    /// <summary>The accountants, in the order they are tried and reported: PLD first (the tighter), then RDP.</summary>
    public static IReadOnlyList<AccountantKind> AllAccountants { get; } = [AccountantKind.Pld, AccountantKind.Rdp];

    /// <summary>The name reports and the command line use for an accountant: <c>pld</c> or <c>rdp</c>.</summary>
    /// <param name="kind">The accountant.</param>
    /// <returns>Its name.</returns>
    public static string Name(AccountantKind kind) => kind switch
    {
        AccountantKind.Pld => "pld",
        AccountantKind.Rdp => "rdp",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown accountant kind."),
    };

    /// <summary>Whether an accountant of the given kind can analyse the event under the relation.</summary>
    /// <param name="kind">The accountant.</param>
    /// <param name="relation">The neighbouring relation.</param>
    /// <param name="dpEvent">The event tree.</param>
    /// <returns>True when it offers the relation and supports the event there.</returns>
    public static bool CanAnalyse(AccountantKind kind, NeighboringRelation relation, DpEvent dpEvent)
    {
        ArgumentNullException.ThrowIfNull(dpEvent);
        return PrivacyAccountants.TryCreate(kind, relation, out var accountant) && accountant.Supports(dpEvent);
    }

    /// <summary>Composes the event once in each requested accountant that can analyse it and reads ε at δ.</summary>
    /// <param name="dpEvent">The event tree: everything that ran.</param>
    /// <param name="relation">The neighbouring relation of the guarantee.</param>
    /// <param name="accountants">The accountants to try.</param>
    /// <param name="delta">δ ∈ (0, 1).</param>
    /// <returns>ε from each accountant that can analyse the event (PLD with its interval, RDP with its optimal
    /// order), and the ones that cannot.</returns>
    /// <exception cref="ArgumentOutOfRangeException">δ is outside [0, 1].</exception>
    public static EventAccountingResult Evaluate(DpEvent dpEvent, NeighboringRelation relation, IReadOnlyList<AccountantKind> accountants, double delta)
    {
        ArgumentNullException.ThrowIfNull(dpEvent);
        ArgumentNullException.ThrowIfNull(accountants);
        var results = new List<AccountantEstimate>();
        var unsupported = new List<AccountantKind>();
        foreach (var kind in accountants)
        {
            if (!PrivacyAccountants.TryCreate(kind, relation, out var accountant) || !accountant.Supports(dpEvent))
            {
                unsupported.Add(kind);
                continue;
            }

            accountant.Compose(dpEvent);
            results.Add(accountant switch
            {
                PldAccountant pld => Estimate(kind, pld.GetEpsilonInterval(delta)),
                RdpAccountant rdp => Estimate(kind, rdp.GetEpsilonAndOrder(delta)),
                _ => new AccountantEstimate(Name(kind), accountant.GetEpsilon(delta), null, null),
            });
        }

        return new EventAccountingResult(results, unsupported);
    }

    private static AccountantEstimate Estimate(AccountantKind kind, EpsilonInterval interval) =>
        new(Name(kind), interval.Upper, interval.Lower, null);

    // The order only means something when some privacy was spent and a finite ε was proven.
    private static AccountantEstimate Estimate(AccountantKind kind, RdpEpsilonResult result) =>
        new(Name(kind), result.Epsilon, null, double.IsFinite(result.Epsilon) && result.Epsilon > 0 ? result.OptimalOrder : null);
}
