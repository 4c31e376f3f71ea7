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
