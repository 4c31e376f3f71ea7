namespace DiffPriv.Experiments.Training;

/// <summary>The private training algorithm of a run; its ε is under a different neighbouring relation for each.</summary>
public enum MechanismKind
{
    /// <summary>DP-SGD (Abadi et al. 2016): Poisson-sampled batches, Gaussian noise per step; ε under add-or-remove-one.</summary>
    DpSgd,

    /// <summary>DP-FTRL (Kairouz et al. 2021): fixed shuffled batches, tree-aggregated noise, a tree per pass; ε under replace-special.</summary>
    DpFtrl,
}
