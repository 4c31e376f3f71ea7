namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// The Secret Sharer measurement of one model (Carlini et al. 2019): every canary's exposure by rank and by skew-normal
/// extrapolation (<see cref="Exposure"/>), and their means per repetition count. A model that has not memorised the
/// canaries gives exposures near chance — the expected exposure by rank of a score exchangeable with the references is
/// log2 |R| − E[log2 rank] ≈ log2 e ≈ 1.44 bits — while a memorised canary approaches <see cref="MaxExposureByRank"/>.
/// </summary>
public sealed record SecretSharerResult
{
    /// <summary>Every canary, in the plan's order.</summary>
    public required IReadOnlyList<CanaryExposure> Canaries { get; init; }

    /// <summary>Per repetition count, in the plan's order.</summary>
    public required IReadOnlyList<RepetitionExposure> ByRepetition { get; init; }

    /// <summary>|R|: the number of reference candidates scored.</summary>
    public required int ReferenceCount { get; init; }

    /// <summary>log2 |R|: the largest exposure by rank (bits).</summary>
    public required double MaxExposureByRank { get; init; }

    /// <summary>log2 of the format's space size: the largest exposure against every possible secret (bits).</summary>
    public required double FormatSpaceBits { get; init; }

    /// <summary>The skew-normal fitted to the reference scores (the extrapolation's model of "never seen").</summary>
    public required SkewNormalDistribution ReferenceFit { get; init; }

    /// <summary>Mean log-perplexity of the references.</summary>
    public required double MeanReferenceScore { get; init; }

    /// <summary>Computes every exposure from the model's scores of the plan's canaries and references.</summary>
    /// <param name="plan">The plan whose canaries were inserted into the model's training data.</param>
    /// <param name="canaryScores">Log-perplexity of each canary of <see cref="CanaryPlan.Canaries"/>, same order; finite.</param>
    /// <param name="referenceScores">Log-perplexity of each reference of <see cref="CanaryPlan.References"/>, same order; finite, not all equal.</param>
    /// <returns>The result.</returns>
    /// <exception cref="ArgumentException">A count differs from the plan's, or a score is not finite.</exception>
    public static SecretSharerResult Compute(CanaryPlan plan, IReadOnlyList<double> canaryScores, IReadOnlyList<double> referenceScores)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(canaryScores);
        ArgumentNullException.ThrowIfNull(referenceScores);
        if (canaryScores.Count != plan.Canaries.Count)
        {
            throw new ArgumentException($"Expected {plan.Canaries.Count} canary scores (one per canary of the plan), got {canaryScores.Count}.", nameof(canaryScores));
        }

        if (referenceScores.Count != plan.References.Count)
        {
            throw new ArgumentException($"Expected {plan.References.Count} reference scores (one per reference of the plan), got {referenceScores.Count}.", nameof(referenceScores));
        }

        var ranks = Exposure.Ranks(canaryScores, referenceScores);
        var byRank = Exposure.ByRank(canaryScores, referenceScores);
        var fit = SkewNormalDistribution.Fit(referenceScores);
        var canaries = new CanaryExposure[plan.Canaries.Count];
        for (var i = 0; i < canaries.Length; i++)
        {
            var c = plan.Canaries[i];
            canaries[i] = new CanaryExposure(c.Secret, c.Repetitions, canaryScores[i], ranks[i], byRank[i], Exposure.ByExtrapolation(canaryScores[i], fit));
        }

        var byRepetition = canaries
            .GroupBy(c => c.Repetitions)
            .Select(g => new RepetitionExposure(
                g.Key,
                g.Count(),
                g.Average(c => c.ExposureByRank),
                g.Average(c => c.ExposureByExtrapolation),
                g.Average(c => c.Score)))
            .ToArray();
        return new SecretSharerResult
        {
            Canaries = canaries,
            ByRepetition = byRepetition,
            ReferenceCount = referenceScores.Count,
            MaxExposureByRank = Exposure.MaxByRank(referenceScores.Count),
            FormatSpaceBits = plan.Format.Log2SpaceSize,
            ReferenceFit = fit,
            MeanReferenceScore = referenceScores.Average(),
        };
    }
}
