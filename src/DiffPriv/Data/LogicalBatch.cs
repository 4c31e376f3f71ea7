using static TorchSharp.torch;

namespace DiffPriv.Data;

/// <summary>One step's Poisson-sampled batch.</summary>
public sealed class LogicalBatch
{
    private readonly PoissonDataLoader _loader;

    internal LogicalBatch(PoissonDataLoader loader, Tensor indices)
    {
        _loader = loader;
        Indices = indices;
    }

    /// <summary>The loader that drew this batch.</summary>
    internal PoissonDataLoader Loader => _loader;

    /// <summary>The sampled example indices, int64 [k].</summary>
    public Tensor Indices { get; }

    /// <summary>k, the number of sampled examples (private: do not publish it).</summary>
    public long Count => Indices.shape[0];

    /// <summary>The batch in chunks of at most <see cref="PoissonDataLoader.MaxPhysicalBatchSize"/> examples (none when empty).</summary>
    /// <returns>(inputs, targets) per physical batch, created lazily in the current dispose scope.</returns>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> PhysicalBatches()
    {
        var max = _loader.MaxPhysicalBatchSize;
        for (long start = 0; start < Count; start += max)
        {
            var length = Math.Min(max, Count - start);
            using var idx = Indices.narrow(0, start, length);
            yield return (_loader.Inputs.index_select(0, idx), _loader.Targets.index_select(0, idx));
        }
    }
}
