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

    /// <summary>Adds a batch of records, already clipped to <see cref="RecordClipping"/> by the per-example engine.</summary>
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

/// <summary>The running sum of clipped records. Owns its tensors.</summary>
public sealed class DpQueryState : IDisposable
{
    private readonly Dictionary<string, Tensor> _sums = [];

    /// <summary>Parameter name → Σ of clipped records so far (absent until the first record arrives).</summary>
    public IReadOnlyDictionary<string, Tensor> Sums => _sums;

    /// <summary>How many records were accumulated.</summary>
    public long RecordCount { get; private set; }

    internal void Add(IReadOnlyDictionary<string, Tensor> sums, long records)
    {
        foreach (var (name, value) in sums)
        {
            if (_sums.TryGetValue(name, out var current))
            {
                current.add_(value);
            }
            else
            {
                var copy = value.detach().clone();
                copy.DetachFromDisposeScope();
                _sums[name] = copy;
            }
        }

        RecordCount += records;
    }

    /// <summary>Frees the sums.</summary>
    public void Dispose()
    {
        foreach (var t in _sums.Values)
        {
            t.Dispose();
        }

        _sums.Clear();
    }
}

/// <summary>A released, noised aggregate and the privacy event it caused.</summary>
/// <param name="NoisedSum">Parameter name → Σ clipped records + noise; tensors belong to the dispose scope current at release.</param>
/// <param name="Event">The mechanism that ran, e.g. <c>GaussianDpEvent(σ)</c>.</param>
/// <param name="RecordCount">How many records were in the sum (private: do not publish it).</param>
public sealed record DpQueryResult(IReadOnlyDictionary<string, Tensor> NoisedSum, DpEvent Event, long RecordCount);
