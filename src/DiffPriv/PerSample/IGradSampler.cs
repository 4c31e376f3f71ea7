using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// Computes exact per-example gradient norms and clipped gradient sums for one layer type from what the forward hook
/// kept (the layer inputs) and what the single backward pass gave (the gradients of the layer outputs).
/// Register an implementation with <see cref="GradSamplerRegistry.Register{TModule}(IGradSampler)"/> to support a layer type.
/// </summary>
/// <remarks>
/// A registered module type is treated as a leaf: its sampler is responsible for <em>all</em> trainable parameters of the
/// module and of its children (parameter names are relative to the module, e.g. <c>weight</c>), and children are not
/// hooked separately. The module must be a <c>nn.Module&lt;Tensor, Tensor&gt;</c>, because only that shape has a
/// forward hook in TorchSharp. One sampler instance is shared by every module of its type, so keep per-module state
/// out of fields (or key it by module).
/// </remarks>
public interface IGradSampler
{
    /// <summary>
    /// Called once when a <see cref="GradSampleModule"/> wraps <paramref name="layer"/>. Throw
    /// <see cref="UnsupportedLayerException"/> when this instance of the layer cannot be handled exactly (for example an
    /// option that mixes examples). The default accepts every module.
    /// </summary>
    /// <param name="path">The module's path in the wrapped model (empty for the root), e.g. <c>features.0</c>.</param>
    /// <param name="layer">The module instance.</param>
    void Validate(string path, nn.Module layer)
    {
    }

    /// <summary>
    /// How the sampler supports microbatches (<see cref="GradSampleModule.ClipAndSum(Tensor, ClippingOptions, long)"/> with
    /// k &gt; 1). The default, <see cref="MicrobatchGrouping.Unsupported"/>, makes such calls fail for models with this layer.
    /// </summary>
    MicrobatchGrouping MicrobatchGrouping => MicrobatchGrouping.Unsupported;

    /// <summary>
    /// Computes the per-example squared gradient norms of the layer for the current step, and prepares the clipped sum.
    /// Runs inside a dispose scope owned by the engine: tensors created here may be left to it.
    /// </summary>
    /// <param name="context">The layer, its records for this step and the method to use.</param>
    /// <returns>The per-step gradient sample of the layer.</returns>
    ILayerGradSample Compute(GradSampleContext context);
}

/// <summary>The per-step result of an <see cref="IGradSampler"/> for one layer.</summary>
public interface ILayerGradSample
{
    /// <summary>
    /// Per-record squared L2 norm of the gradient of the layer's trainable parameters (all of them together),
    /// shape [<see cref="GradSampleContext.RecordCount"/>] (a record is an example, or a microbatch), in the layer's dtype.
    /// Must be exact: Σ_params ‖∂ℓ_r/∂θ‖².
    /// </summary>
    Tensor SquaredNorms { get; }

    /// <summary>
    /// The weighted sum Σ_r c_r · ∂ℓ_r/∂θ over records r for every trainable parameter θ of the layer.
    /// </summary>
    /// <param name="clipFactors">The weights c, shape [<see cref="GradSampleContext.RecordCount"/>], same dtype as <see cref="SquaredNorms"/>.</param>
    /// <returns>Parameter name relative to the module (e.g. <c>weight</c>) → tensor shaped like the parameter.</returns>
    IReadOnlyDictionary<string, Tensor> ClippedSum(Tensor clipFactors);
}

/// <summary>
/// How an <see cref="IGradSampler"/> handles microbatches: consecutive groups of k examples whose summed (mean) gradient
/// is one record, clipped as a whole. In every case the engine has already scaled the output gradients by 1/k.
/// </summary>
public enum MicrobatchGrouping
{
    /// <summary>The sampler cannot group examples; microbatch sizes k &gt; 1 are refused.</summary>
    Unsupported,

    /// <summary>
    /// The engine groups: every record tensor [B, …] is reshaped to [B/k, k, …] (the k examples of a microbatch become k
    /// positions of one example) and the sampler sees <see cref="GradSampleContext.BatchSize"/> = B/k with
    /// <see cref="GradSampleContext.MicrobatchSize"/> = 1. Exact for layers that act position by position (every axis
    /// before the feature axes indexes positions) and whose per-example gradient is a sum over positions: Linear,
    /// Embedding.
    /// </summary>
    ByPositions,

    /// <summary>
    /// The sampler groups: records keep their batch axis of B = <see cref="GradSampleContext.BatchSize"/> examples and the
    /// sampler must return one value per microbatch of <see cref="GradSampleContext.MicrobatchSize"/> consecutive examples.
    /// </summary>
    InSampler,
}

/// <summary>How a layer's per-example gradient norms are computed. Both methods are exact.</summary>
public enum GradSampleMethod
{
    /// <summary>
    /// Pick per layer: ghost norm when the layer sees one position per example (T = 1); otherwise materialise when
    /// B·p·(element size) fits the memory budget; otherwise ghost (Gram) when 2·T² &lt; p, else materialise
    /// (p = per-example parameter count of the weight). An embedding takes the ghost path whenever T is below its number
    /// of rows.
    /// </summary>
    Auto,

    /// <summary>
    /// Ghost norm: ‖a‖²‖g‖² without a sequence axis, ⟨A Aᵀ, G Gᵀ⟩ with one; the clipped sum is (G·c)ᵀA.
    /// Never forms per-example gradients (elementwise-affine norm layers always materialise: theirs are smaller than
    /// their input; an embedding forms only the rows each example touches, at most its T positions).
    /// </summary>
    Ghost,

    /// <summary>Materialise per-example gradients with bmm, take their norms and reuse them for the clipped sum as c·psg.</summary>
    Materialize,
}

/// <summary>One forward call of a hooked layer during a step.</summary>
/// <param name="Input">The layer input (detached, shares storage with the original), batch axis first.</param>
/// <param name="OutputGradient">∂(Σ_i ℓ_i)/∂output, shaped like the output; zeros when the output did not reach the loss.</param>
public sealed record LayerRecord(Tensor Input, Tensor OutputGradient);

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
    /// Length of the records' batch axis: the number of examples B, or the number of microbatches when the engine grouped
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
