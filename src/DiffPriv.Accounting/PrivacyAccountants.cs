using System.Diagnostics.CodeAnalysis;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting;

/// <summary>Creates accountants by kind.</summary>
public static class PrivacyAccountants
{
    /// <summary>A fresh accountant of the given kind with default settings (add/remove-one adjacency).</summary>
    /// <param name="kind">Which accountant.</param>
    /// <returns>The accountant.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Unknown kind.</exception>
    public static PrivacyAccountant Create(AccountantKind kind) => kind switch
    {
        AccountantKind.Pld => new PldAccountant(),
        AccountantKind.Rdp => new RdpAccountant(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown accountant kind."),
    };

    /// <summary>
    /// A fresh accountant of the given kind, with default settings, under the given neighbouring relation, if that
    /// accountant offers the relation: <see cref="RdpAccountant"/> takes every relation (each event says which it
    /// can analyse under which), <see cref="PldAccountant"/> add/remove-one only.
    /// </summary>
    /// <param name="kind">Which accountant.</param>
    /// <param name="relation">The neighbouring relation.</param>
    /// <param name="accountant">The accountant, or null when false is returned.</param>
    /// <returns>Whether the accountant works under <paramref name="relation"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Unknown kind.</exception>
    public static bool TryCreate(AccountantKind kind, NeighboringRelation relation, [NotNullWhen(true)] out PrivacyAccountant? accountant)
    {
        accountant = kind switch
        {
            AccountantKind.Pld => relation == NeighboringRelation.AddOrRemoveOne ? new PldAccountant() : null,
            AccountantKind.Rdp => new RdpAccountant(neighboringRelation: relation),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown accountant kind."),
        };
        return accountant is not null;
    }
}
