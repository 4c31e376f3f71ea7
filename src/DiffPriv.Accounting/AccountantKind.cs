using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting;

/// <summary>The privacy accountants DiffPriv offers.</summary>
public enum AccountantKind
{
    /// <summary>Privacy-loss distributions (<see cref="PldAccountant"/>): the tightest; ε comes with a bracketing interval.</summary>
    Pld,

    /// <summary>Rényi DP (<see cref="RdpAccountant"/>): fast, a few percent looser.</summary>
    Rdp,
}

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
