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
}
