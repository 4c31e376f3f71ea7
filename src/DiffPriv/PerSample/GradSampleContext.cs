using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>What an <see cref="IGradSampler"/> gets for one layer and one step.</summary>
public sealed class GradSampleContext
{
    internal GradSampleContext(
        string path,
        nn.Module module,
        IReadOnlyList<LayerRecord> records,
        IReadOnlyDictionary<string, Tensor> trainableParameters,
        long batchSize,
        long microbatchSize,
        GradSampleMethod method,
        long materializeBudgetBytes)
    {
        Path = path;
        Module = module;
        Records = records;
        TrainableParameters = trainableParameters;
        BatchSize = batchSize;
        MicrobatchSize = microbatchSize;
        Method = method;
        MaterializeBudgetBytes = materializeBudgetBytes;
    }

    /// <summary>The module's path in the wrapped model, e.g. <c>features.0</c> (empty for the root).</summary>
    public string Path { get; }

    /// <summary>The layer.</summary>
    public nn.Module Module { get; }

    /// <summary>One record per forward call of the layer in this step, in call order (at least one).</summary>
    public IReadOnlyList<LayerRecord> Records { get; }

    /// <summary>
    /// The parameters of the layer that require gradients, by name relative to the layer (e.g. <c>weight</c>).
    /// Frozen parameters are absent and need no gradient.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> TrainableParameters { get; }

    /// <summary>
    /// Length of the records' batch axis: the number of examples B, or the number of microbatches when the hooks grouped
    /// the records (<see cref="MicrobatchGrouping.ByPositions"/>).
    /// </summary>
    public long BatchSize { get; }

    /// <summary>
    /// Number k of consecutive batch rows that form one record (their gradients are summed before the norm); 1 except for
    /// samplers with <see cref="MicrobatchGrouping.InSampler"/> in a microbatched step. Divides <see cref="BatchSize"/>.
    /// </summary>
    public long MicrobatchSize { get; }

    /// <summary>Number of records (rows of <see cref="ILayerGradSample.SquaredNorms"/>): <see cref="BatchSize"/> / <see cref="MicrobatchSize"/>.</summary>
    public long RecordCount => BatchSize / MicrobatchSize;

    /// <summary>The method requested for this layer.</summary>
    public GradSampleMethod Method { get; }

    /// <summary>Memory budget in bytes for materialised per-example gradients of one layer (used by <see cref="GradSampleMethod.Auto"/>).</summary>
    public long MaterializeBudgetBytes { get; }

    /// <summary>
    /// The rule of <see cref="GradSampleMethod.Auto"/>, for a weight with <paramref name="perExampleSize"/> elements per
    /// example whose Gram matrices hold <paramref name="gramSize"/> elements per example (2·groups·T²).
    /// </summary>
    /// <param name="positions">Positions T per record (all calls together).</param>
    /// <param name="perExampleSize">Elements of one per-record gradient (p).</param>
    /// <param name="gramSize">Elements of the per-example Gram matrices of the ghost method.</param>
    /// <param name="elementSize">Bytes per element.</param>
    /// <returns><see cref="GradSampleMethod.Ghost"/> or <see cref="GradSampleMethod.Materialize"/>.</returns>
    public GradSampleMethod Resolve(long positions, long perExampleSize, long gramSize, long elementSize)
    {
        if (Method != GradSampleMethod.Auto)
        {
            return Method;
        }

        if (positions <= 1)
        {
            return GradSampleMethod.Ghost;
        }

        var materializeBytes = (double)RecordCount * perExampleSize * elementSize;
        if (materializeBytes <= MaterializeBudgetBytes)
        {
            return GradSampleMethod.Materialize;
        }

        return gramSize < perExampleSize ? GradSampleMethod.Ghost : GradSampleMethod.Materialize;
    }
}
