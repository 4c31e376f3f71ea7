namespace DiffPriv.Queries;

/// <summary>One step as a query sees it.</summary>
/// <param name="Step">The 0-based index of the step.</param>
/// <param name="SamplingProbability">q of the Poisson sample that forms the step's batch.</param>
/// <param name="ExpectedBatchSize">q·N, a public constant.</param>
public sealed record DpStepInfo(long Step, double SamplingProbability, double ExpectedBatchSize);
