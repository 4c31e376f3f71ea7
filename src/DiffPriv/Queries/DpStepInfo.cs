namespace DiffPriv.Queries;

/// <summary>One step as a query sees it.</summary>
/// <param name="Step">The 0-based index of the step.</param>
/// <param name="SamplingProbability">q of the Poisson sample that forms the step's batch (for fixed-size batches, the batch fraction B/N).</param>
/// <param name="ExpectedBatchSize">q·N, a public constant (for fixed-size batches, B).</param>
public sealed record DpStepInfo(long Step, double SamplingProbability, double ExpectedBatchSize)
{
    /// <summary>
    /// The 0-based pass over the data (epoch) that the step's batch belongs to, when batches are fixed-size slices of one
    /// shuffled order per pass (<see cref="Data.ShuffledDataLoader"/>): every example is in at most one batch of a pass.
    /// Null for Poisson-sampled batches, which belong to no pass.
    /// </summary>
    public long? Pass { get; init; }
}
