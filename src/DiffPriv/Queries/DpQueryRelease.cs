using DiffPriv.Accounting.Events;
using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>What a query releases at the end of a step.</summary>
/// <param name="NoisedSum">Parameter name → Σ clipped records + noise; tensors belong to the dispose scope current at release.</param>
/// <param name="GlobalState">The global state for the next step.</param>
/// <param name="Event">The event to record now, or null when an earlier event already covers this release.</param>
public sealed record DpQueryRelease(IReadOnlyDictionary<string, Tensor> NoisedSum, object? GlobalState, DpEvent? Event);
