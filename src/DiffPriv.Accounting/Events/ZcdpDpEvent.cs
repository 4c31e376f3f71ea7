namespace DiffPriv.Accounting.Events;

/// <summary>
/// A mechanism that satisfies (ξ, ρ)-zero-concentrated DP (Bun &amp; Steinke 2016, "Concentrated Differential Privacy"):
/// its Rényi DP at every order α &gt; 1 is at most ξ + ρα. ξ = 0 is ρ-zCDP; the Gaussian mechanism with σ is
/// 1/(2σ²)-zCDP.
/// </summary>
public sealed record ZcdpDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="rho">ρ ≥ 0, the multiplicative constant (+∞ means no guarantee).</param>
    /// <param name="xi">ξ ≥ 0, the additive constant (+∞ means no guarantee); default 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">ρ or ξ is negative or NaN.</exception>
    public ZcdpDpEvent(double rho, double xi = 0)
    {
        RequireNonNegativeOrInfinity(rho, nameof(rho));
        RequireNonNegativeOrInfinity(xi, nameof(xi));
        Rho = rho;
        Xi = xi;
    }

    /// <summary>ρ: the multiplicative constant of the RDP bound ξ + ρα.</summary>
    public double Rho { get; }

    /// <summary>ξ: the additive constant of the RDP bound ξ + ρα.</summary>
    public double Xi { get; }
}
