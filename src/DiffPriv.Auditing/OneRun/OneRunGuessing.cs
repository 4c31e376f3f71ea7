namespace DiffPriv.Auditing.OneRun;

/// <summary>Which canaries a one-run audit guesses when it makes k guesses.</summary>
public enum OneRunGuessing
{
    /// <summary>The paper's two-sided scheme with k₊ = ⌈k/2⌉ and k₋ = ⌊k/2⌋: the highest-scoring k₊ guessed included, the
    /// lowest-scoring k₋ guessed excluded.</summary>
    TwoSided,

    /// <summary>k₊ = k, k₋ = 0: only the k highest-scoring canaries are guessed (included). Better when an included canary
    /// can score like an excluded one (a Poisson-sampled canary that was never drawn), so low scores say little.</summary>
    IncludedOnly,
}
