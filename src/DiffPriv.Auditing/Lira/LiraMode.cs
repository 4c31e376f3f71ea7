namespace DiffPriv.Auditing.Lira;

/// <summary>Which shadow models a LiRA test uses (Carlini et al. 2022, Sections IV-C and IV-D).</summary>
public enum LiraMode
{
    /// <summary>
    /// Shadow models trained with and without the example: the likelihood ratio of two Gaussians,
    /// log N(φ; μ_in, σ_in²) − log N(φ; μ_out, σ_out²) (the paper's Algorithm 1).
    /// </summary>
    Online,

    /// <summary>
    /// Only shadow models trained without the example: a one-sided test of whether φ is unusually high for
    /// N(μ_out, σ_out²), scored by z = (φ − μ_out)/σ_out (the p-value Pr[Z ≥ φ] falls as z grows, so both rank alike).
    /// </summary>
    Offline,
}
