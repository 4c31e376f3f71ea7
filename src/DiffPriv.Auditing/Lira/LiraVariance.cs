namespace DiffPriv.Auditing.Lira;

/// <summary>How a LiRA test estimates the spread of an example's confidences over shadow models.</summary>
public enum LiraVariance
{
    /// <summary>
    /// One variance for all examples (the paper's "fixed variance", recommended with fewer than about 64 shadow models):
    /// the pooled within-example variance Σ_i Σ_j (φ_ij − μ_i)² / Σ_i (n_i − 1), separately for the in and out sets.
    /// </summary>
    Global,

    /// <summary>Each example's own sample variance (n − 1 in the denominator); the global one where an example has fewer
    /// than two confidences.</summary>
    PerExample,
}
