namespace DiffPriv.Experiments.Auditing;

/// <summary>The canaries of a one-run audit.</summary>
public enum CanaryKind
{
    /// <summary>White-box gradient canaries: Dirac records C·e_j added to the clipped sum when Poisson-sampled, scored by
    /// the summed releases at their coordinate (<see cref="Queries.CanaryGradientQuery"/>).</summary>
    Gradient,

    /// <summary>Black-box input canaries: held-out examples with a wrong label, trained on when included, scored by minus
    /// their loss (on the wrong label) in the final model.</summary>
    Input,
}
