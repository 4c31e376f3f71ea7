namespace DiffPriv.Accounting.Events;

/// <summary>
/// The Gaussian mechanism on a truncated Poisson sample: every record of a dataset of <see cref="DatasetSize"/>
/// joins the sample with probability <see cref="SamplingProbability"/>, a sample larger than
/// <see cref="TruncatedBatchSize"/> is cut to that size by a uniformly random subset, and the clipped sum of the
/// sample gets Gaussian noise with σ = <see cref="NoiseMultiplier"/> (arXiv 2508.15089; dp_accounting's
/// <c>TruncatedSubsampledGaussianDpEvent</c>). This is DP-SGD with a fixed maximum batch size.
/// </summary>
public sealed record TruncatedSubsampledGaussianDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="datasetSize">n ≥ 0, the number of records sampled from.</param>
    /// <param name="samplingProbability">q ∈ [0, 1].</param>
    /// <param name="truncatedBatchSize">B ≥ 0, the largest batch kept.</param>
    /// <param name="noiseMultiplier">σ, the noise standard deviation divided by the L2 sensitivity; finite, ≥ 0 (0 means no privacy).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative, q is outside [0, 1], or σ is negative, infinite or NaN.</exception>
    public TruncatedSubsampledGaussianDpEvent(long datasetSize, double samplingProbability, long truncatedBatchSize, double noiseMultiplier)
    {
        RequireNonNegative(datasetSize, nameof(datasetSize));
        RequireProbability(samplingProbability, nameof(samplingProbability));
        RequireNonNegative(truncatedBatchSize, nameof(truncatedBatchSize));
        RequireFiniteNonNegative(noiseMultiplier, nameof(noiseMultiplier));
        DatasetSize = datasetSize;
        SamplingProbability = samplingProbability;
        TruncatedBatchSize = truncatedBatchSize;
        NoiseMultiplier = noiseMultiplier;
    }

    /// <summary>n: the number of records sampled from.</summary>
    public long DatasetSize { get; }

    /// <summary>q: the probability that a record is in the Poisson sample.</summary>
    public double SamplingProbability { get; }

    /// <summary>B: the largest batch kept; larger samples are cut to B records.</summary>
    public long TruncatedBatchSize { get; }

    /// <summary>σ: noise standard deviation divided by the L2 sensitivity.</summary>
    public double NoiseMultiplier { get; }
}
