using DiffPriv.Accounting.Events;
using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>A released, noised aggregate and the privacy event it caused.</summary>
/// <param name="NoisedSum">Parameter name → Σ clipped records + noise; tensors belong to the dispose scope current at release.</param>
/// <param name="Event">The mechanism that ran, e.g. <c>GaussianDpEvent(σ)</c>.</param>
/// <param name="RecordCount">How many records were in the sum (private: do not publish it).</param>
public sealed record DpQueryResult(IReadOnlyDictionary<string, Tensor> NoisedSum, DpEvent Event, long RecordCount);
