using System.Collections;
using static TorchSharp.torch;

namespace DiffPriv.Data;

/// <summary>
/// One step's batch (Poisson-sampled, or a fixed-size slice of a shuffled pass). It reads like the dictionary batch of a TorchSharp <c>DataLoader</c>
/// (<c>batch["image"]</c>), loading the sampled examples on first access; <see cref="PhysicalBatches"/> gives the same
/// examples in chunks of bounded size instead.
/// </summary>
/// <remarks>
/// Tensors loaded through the indexer belong to the dispose scope current at the first access (typically the loop
/// body's), like a <c>DataLoader</c> batch. The number of examples is private: use it for local diagnostics only.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "A batch reads like TorchSharp's dictionary batches; 'LogicalBatch' names what it is.")]
public sealed class LogicalBatch : IReadOnlyDictionary<string, Tensor>
{
    private readonly BatchSource _source;
    private readonly long[] _indices;
    private Dictionary<string, Tensor>? _loaded;

    internal LogicalBatch(BatchSource source, long[] indices, long maxPhysicalBatchSize, IPrivateLoader loader, long drawIndex, int[]? unitSizes = null)
    {
        _source = source;
        _indices = indices;
        UnitSizes = unitSizes;
        MaxPhysicalBatchSize = maxPhysicalBatchSize;
        Loader = loader;
        DrawIndex = drawIndex;
    }

    /// <summary>The loader that drew this batch.</summary>
    internal IPrivateLoader Loader { get; }

    /// <summary>Which draw of its loader this batch is (1 for the first).</summary>
    internal long DrawIndex { get; }

    /// <summary>
    /// The sampled example indices, in increasing order; with privacy units, the sampled units' examples unit after unit
    /// (units in increasing order, each unit's examples in increasing order).
    /// </summary>
    public IReadOnlyList<long> Indices => _indices;

    /// <summary>k, the number of sampled examples (may be 0; private: do not publish it).</summary>
    public long Count => _indices.Length;

    /// <summary>With privacy units: the number of examples of each sampled unit, in the order of <see cref="Indices"/>; else null.</summary>
    internal int[]? UnitSizes { get; }

    /// <summary>With privacy units: each sampled unit's example indices (consecutive runs of <see cref="Indices"/>); else null.</summary>
    internal List<long[]>? UnitGroups()
    {
        if (UnitSizes is not { } sizes)
        {
            return null;
        }

        var groups = new List<long[]>(sizes.Length);
        var at = 0;
        foreach (var size in sizes)
        {
            groups.Add(_indices[at..(at + size)]);
            at += size;
        }

        return groups;
    }

    /// <summary>The largest chunk <see cref="PhysicalBatches"/> yields.</summary>
    public long MaxPhysicalBatchSize { get; }

    /// <summary>The keys of the batch (the dataset's keys, or the collate function's).</summary>
    public IEnumerable<string> Keys => Loaded().Keys;

    /// <summary>The batch tensors, one per key.</summary>
    public IEnumerable<Tensor> Values => Loaded().Values;

    int IReadOnlyCollection<KeyValuePair<string, Tensor>>.Count => Loaded().Count;

    /// <summary>The whole logical batch's tensor for <paramref name="key"/>, first dimension <see cref="Count"/>.</summary>
    /// <param name="key">A key of the dataset, e.g. "data".</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="KeyNotFoundException">The batch has no such key; the message lists the keys it has.</exception>
    public Tensor this[string key] => Loaded().TryGetValue(key, out var value)
        ? value
        : throw new KeyNotFoundException($"The batch has no key '{key}'; its keys are [{string.Join(", ", Loaded().Keys)}].");

    /// <inheritdoc />
    public bool ContainsKey(string key) => Loaded().ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value) => Loaded().TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => Loaded().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// The batch in chunks of at most <see cref="MaxPhysicalBatchSize"/> examples (none when the batch is empty), each
    /// loaded when reached, so memory stays bounded whatever the draw. With privacy units a chunk may cut a unit in two:
    /// train with <c>DpOptimizer.Step(batch, lossFunction)</c>, which keeps every unit whole.
    /// </summary>
    /// <returns>Key → chunk tensor, created in the dispose scope current when the chunk is reached.</returns>
    public IEnumerable<IReadOnlyDictionary<string, Tensor>> PhysicalBatches()
    {
        for (long start = 0; start < Count; start += MaxPhysicalBatchSize)
        {
            var length = (int)Math.Min(MaxPhysicalBatchSize, Count - start);
            yield return Rows(new ArraySegment<long>(_indices, (int)start, length));
        }
    }

    /// <summary>The examples at <paramref name="indices"/> (dataset indices), loaded from the source.</summary>
    internal Dictionary<string, Tensor> Rows(IReadOnlyList<long> indices) => _source.Load(indices);

    private Dictionary<string, Tensor> Loaded() => _loaded ??= _source.Load(_indices);
}
