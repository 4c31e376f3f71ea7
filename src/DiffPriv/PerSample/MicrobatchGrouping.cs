namespace DiffPriv.PerSample;

/// <summary>
/// How an <see cref="IGradSampler"/> handles microbatches: consecutive groups of k examples whose summed (mean) gradient
/// is one record, clipped as a whole. In every case the hooks has already scaled the output gradients by 1/k.
/// </summary>
public enum MicrobatchGrouping
{
    /// <summary>The sampler cannot group examples; microbatch sizes k &gt; 1 are refused.</summary>
    Unsupported,

    /// <summary>
    /// The hooks groups: every record tensor [B, …] is reshaped to [B/k, k, …] (the k examples of a microbatch become k
    /// positions of one example) and the sampler sees <see cref="GradSampleContext.BatchSize"/> = B/k with
    /// <see cref="GradSampleContext.MicrobatchSize"/> = 1. Exact for layers that act position by position (every axis
    /// before the feature axes indexes positions) and whose per-example gradient is a sum over positions: Linear,
    /// Embedding.
    /// </summary>
    ByPositions,

    /// <summary>
    /// The sampler groups: records keep their batch axis of B = <see cref="GradSampleContext.BatchSize"/> examples and the
    /// sampler must return one value per microbatch of <see cref="GradSampleContext.MicrobatchSize"/> consecutive examples.
    /// </summary>
    InSampler,
}
