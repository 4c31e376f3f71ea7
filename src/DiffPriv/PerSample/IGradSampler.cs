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
    /// Called once when a <see cref="GradSampleHooks"/> wraps <paramref name="layer"/>. Throw
    /// <see cref="UnsupportedLayerException"/> when this instance of the layer cannot be handled exactly (for example an
    /// option that mixes examples). The default accepts every module.
    /// </summary>
    /// <param name="path">The module's path in the wrapped model (empty for the root), e.g. <c>features.0</c>.</param>
    /// <param name="layer">The module instance.</param>
    void Validate(string path, nn.Module layer)
    {
    }

    /// <summary>
    /// How the sampler supports microbatches (<see cref="GradSampleHooks.ClipAndSum(Tensor, ClippingOptions, long)"/> with
    /// k &gt; 1). The default, <see cref="MicrobatchGrouping.Unsupported"/>, makes such calls fail for models with this layer.
    /// </summary>
    MicrobatchGrouping MicrobatchGrouping => MicrobatchGrouping.Unsupported;

    /// <summary>
    /// Computes the per-example squared gradient norms of the layer for the current step, and prepares the clipped sum.
    /// Runs inside a dispose scope owned by the hooks: tensors created here may be left to it.
    /// </summary>
    /// <param name="context">The layer, its records for this step and the method to use.</param>
    /// <returns>The per-step gradient sample of the layer.</returns>
    ILayerGradSample Compute(GradSampleContext context);
}
