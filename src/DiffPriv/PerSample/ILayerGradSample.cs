using static TorchSharp.torch;

namespace DiffPriv.PerSample;

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
