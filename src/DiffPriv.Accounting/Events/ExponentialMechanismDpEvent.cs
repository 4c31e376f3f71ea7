namespace DiffPriv.Accounting.Events;

/// <summary>
/// The ε-DP exponential mechanism (McSherry &amp; Talwar 2007). It is ε-bounded range (Durfee &amp; Rogers 2019), which
/// Rényi accounting uses (Cesar &amp; Rogers 2021); other accountants may treat it as any ε-DP mechanism.
/// </summary>
public sealed record ExponentialMechanismDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="epsilon">ε ≥ 0; +∞ (JSON <c>"Infinity"</c>) means no guarantee.</param>
    /// <exception cref="ArgumentOutOfRangeException">ε is negative or NaN.</exception>
    public ExponentialMechanismDpEvent(double epsilon)
    {
        RequireNonNegativeOrInfinity(epsilon, nameof(epsilon));
        Epsilon = epsilon;
    }

    /// <summary>ε of the mechanism.</summary>
    public double Epsilon { get; }
}
