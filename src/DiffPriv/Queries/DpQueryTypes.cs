using DiffPriv.Accounting.Events;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>One step as a query sees it.</summary>
/// <param name="Step">The 0-based index of the step.</param>
/// <param name="SamplingProbability">q of the Poisson sample that forms the step's batch.</param>
/// <param name="ExpectedBatchSize">q·N, a public constant.</param>
public sealed record DpStepInfo(long Step, double SamplingProbability, double ExpectedBatchSize);

/// <summary>
/// A step's sample parameters (TF Privacy's sample_params): at least how records are clipped. Derive a record from it to
/// carry more.
/// </summary>
/// <param name="RecordClipping">The clipping the per-example gradient hooks apply to every record of the step.</param>
public record DpSampleParameters(ClippingOptions RecordClipping);

/// <summary>What a query releases at the end of a step.</summary>
/// <param name="NoisedSum">Parameter name → Σ clipped records + noise; tensors belong to the dispose scope current at release.</param>
/// <param name="GlobalState">The global state for the next step.</param>
/// <param name="Event">The event to record now, or null when an earlier event already covers this release.</param>
public sealed record DpQueryRelease(IReadOnlyDictionary<string, Tensor> NoisedSum, object? GlobalState, DpEvent? Event);
