namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// Exposure of a canary (Carlini et al. 2019, "The Secret Sharer", Definition 3 and §4.3): how much more likely the
/// trained model finds the inserted secret than the other secrets of its format, in bits. Scores are log-perplexities
/// (lower = more likely; see DiffPriv.Experiments' SequenceScorer), of the canary and of reference candidates of the same
/// format that were never inserted. The two estimators reproduce TF Privacy's
/// <c>privacy_tests/secret_sharer/exposures.py</c>:
/// <list type="bullet">
/// <item><b>By rank</b> (<c>compute_exposure_interpolation</c>): rank = 1 + the number of references whose score is ≤
/// the canary's (ties count against the canary: TF Privacy sorts (score, −1) reference pairs before (score, i) secret
/// pairs; its first version used an unstable <c>np.argsort</c>, which left ties to chance); exposure = log2 |R| − log2 rank. A canary better than every reference gets log2 |R|, one worse than every
/// reference log2 |R| − log2(|R| + 1) &lt; 0.</item>
/// <item><b>By extrapolation</b> (<c>compute_exposure_extrapolation</c>): fit a skew-normal distribution to the
/// references' scores by maximum likelihood (<c>scipy.stats.skewnorm.fit</c>) and take −log2 F(canary score), F the
/// fitted CDF. Not capped at log2 |R|: it estimates the exposure against the whole format space.</item>
/// </list>
/// Both are invariant under increasing affine maps of the scores (nats or bits, per-character mean or total over a
/// sequence of fixed length), since the skew-normal family and its maximum-likelihood fit are equivariant under them.
/// Extrapolation is not invariant under non-linear maps: TF Privacy's notebook feeds it the per-character mean cross
/// entropy (natural log), as here, though its argument is named "perplexities".
/// </summary>
public static class Exposure
{
    /// <summary>log2 |R|: the largest exposure by rank against <paramref name="referenceCount"/> references.</summary>
    /// <param name="referenceCount">|R| ≥ 1.</param>
    public static double MaxByRank(int referenceCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(referenceCount, 1);
        return Math.Log2(referenceCount);
    }

    /// <summary>The rank of each score among the references: 1 + #{references with score ≤ it} (ties against the canary).</summary>
    /// <param name="scores">Canary scores (log-perplexity), finite.</param>
    /// <param name="referenceScores">Reference scores, at least one, finite.</param>
    /// <returns>Ranks in [1, |R| + 1], parallel to <paramref name="scores"/>.</returns>
    /// <exception cref="ArgumentException">A non-finite score or no references.</exception>
    public static int[] Ranks(IReadOnlyList<double> scores, IReadOnlyList<double> referenceScores)
    {
        var sorted = SortedReferences(referenceScores);
        CheckFinite(scores, nameof(scores));
        var ranks = new int[scores.Count];
        for (var i = 0; i < ranks.Length; i++)
        {
            ranks[i] = 1 + CountAtMost(sorted, scores[i]);
        }

        return ranks;
    }

    /// <summary>Exposure by rank, log2 |R| − log2 rank (bits), of each canary score; see the class remarks.</summary>
    /// <param name="scores">Canary scores (log-perplexity), finite.</param>
    /// <param name="referenceScores">Reference scores, at least one, finite.</param>
    /// <returns>Exposures in [log2 |R| − log2(|R| + 1), log2 |R|], parallel to <paramref name="scores"/>.</returns>
    /// <exception cref="ArgumentException">A non-finite score or no references.</exception>
    public static double[] ByRank(IReadOnlyList<double> scores, IReadOnlyList<double> referenceScores)
    {
        var ranks = Ranks(scores, referenceScores);
        var max = MaxByRank(referenceScores.Count);
        return [.. ranks.Select(rank => max - Math.Log2(rank))];
    }

    /// <summary>Exposure by skew-normal extrapolation, −log2 F(score) (bits), against an already fitted reference distribution.</summary>
    /// <param name="score">A canary score (log-perplexity), finite.</param>
    /// <param name="referenceFit">The skew-normal fitted to the reference scores (<see cref="SkewNormalDistribution.Fit"/>).</param>
    /// <returns>An exposure ≥ 0; finite unless the score lies absurdly far (≳ 10¹⁵⁴ scale units) below the fit.</returns>
    public static double ByExtrapolation(double score, SkewNormalDistribution referenceFit)
    {
        ArgumentNullException.ThrowIfNull(referenceFit);
        if (!double.IsFinite(score))
        {
            throw new ArgumentException($"The canary score must be finite (got {score}).", nameof(score));
        }

        return -referenceFit.LogCdf(score) / Math.Log(2.0);
    }

    /// <summary>
    /// Exposure by skew-normal extrapolation of each canary score: fits the references once
    /// (<see cref="SkewNormalDistribution.Fit"/>), then −log2 F(score); see the class remarks.
    /// </summary>
    /// <param name="scores">Canary scores (log-perplexity), finite.</param>
    /// <param name="referenceScores">At least 3 finite reference scores, not all equal.</param>
    /// <returns>Exposures ≥ 0, parallel to <paramref name="scores"/>.</returns>
    public static double[] ByExtrapolation(IReadOnlyList<double> scores, IReadOnlyList<double> referenceScores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        var fit = SkewNormalDistribution.Fit(referenceScores);
        return [.. scores.Select(s => ByExtrapolation(s, fit))];
    }

    private static double[] SortedReferences(IReadOnlyList<double> referenceScores)
    {
        ArgumentNullException.ThrowIfNull(referenceScores);
        if (referenceScores.Count == 0)
        {
            throw new ArgumentException("Exposure needs at least one reference score.", nameof(referenceScores));
        }

        CheckFinite(referenceScores, nameof(referenceScores));
        var sorted = referenceScores.ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    /// <summary>#{i : sorted[i] ≤ x} by binary search.</summary>
    private static int CountAtMost(double[] sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (sorted[mid] <= x)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static void CheckFinite(IReadOnlyList<double> values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        for (var i = 0; i < values.Count; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new ArgumentException($"Score {i} is not finite ({values[i]}).", name);
            }
        }
    }
}
