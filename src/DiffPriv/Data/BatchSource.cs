using static TorchSharp.torch;

namespace DiffPriv.Data;

/// <summary>Where a loader's examples come from: loads the rows at given indices as one dictionary batch.</summary>
internal abstract class BatchSource
{
    /// <summary>N, the number of examples.</summary>
    public abstract long Count { get; }

    /// <summary>
    /// The examples at <paramref name="indices"/> (in that order) as one batch, its tensors in the current dispose scope.
    /// An empty index list gives zero-row tensors with the batch's keys, shapes and dtypes.
    /// </summary>
    /// <param name="indices">Example indices in [0, N).</param>
    /// <returns>Key → tensor with first dimension indices.Length.</returns>
    public abstract Dictionary<string, Tensor> Load(IReadOnlyList<long> indices);
}
