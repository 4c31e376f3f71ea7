using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>
/// A differentially private aggregation of records (here: per-example gradients), with TF Privacy's life cycle:
/// an empty sample state, records accumulated after clipping, then one noised result together with the
/// <see cref="DpEvent"/> that the release caused.
/// </summary>
public interface IDpQuery
{
    /// <summary>How each record must be clipped before it is accumulated (the query's sensitivity depends on it).</summary>
    ClippingOptions RecordClipping { get; }

    /// <summary>An empty sample state.</summary>
    /// <returns>A state that owns its tensors; dispose it.</returns>
    DpQueryState InitialSampleState();

    /// <summary>Adds a batch of records, already clipped to <see cref="RecordClipping"/> by the per-example gradient hooks.</summary>
    /// <param name="state">The sample state.</param>
    /// <param name="clipped">Σ of clipped records per parameter.</param>
    void Accumulate(DpQueryState state, ClippedSumResult clipped);

    /// <summary>
    /// Releases the accumulated sum with noise, through <paramref name="gate"/>, for every entry of
    /// <paramref name="shapes"/> — also those that received no record (an empty Poisson batch is released as pure noise).
    /// </summary>
    /// <param name="state">The sample state (left unchanged).</param>
    /// <param name="gate">The only source of noise.</param>
    /// <param name="shapes">Parameter name → (shape, dtype, device) of everything that must be released.</param>
    /// <returns>The noised sum and the event it caused.</returns>
    DpQueryResult GetNoisedResult(DpQueryState state, NoiseGate gate, IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes);
}
