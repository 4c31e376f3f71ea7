using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// The result of one clip-and-sum: Σ_i c_i·g_i per trainable parameter, the per-example norms before clipping and the
/// clip factors.
/// </summary>
/// <remarks>
/// <para><b>Records.</b> Norms and clip factors are per record: a record is one example, or with microbatches
/// (<see cref="GradSampleHooks.ClipAndSum(Tensor, ClippingOptions, long)"/>, k &gt; 1) one microbatch of k consecutive
/// examples whose gradient g_m is that of the group's mean loss. Their length is then M = B/k, and i below ranges over
/// records.</para>
/// <para><b>Ownership.</b> Like any TorchSharp operation result, every tensor here belongs to the dispose scope that was
/// current when the result was produced (all intermediates are freed before returning). The tensors stay valid until that
/// scope is disposed, or until <see cref="Dispose"/> is called. To keep them beyond the scope, call
/// <see cref="DetachFromDisposeScope"/>; then you own them and must <see cref="Dispose"/> the result. When no scope was
/// current, the result owns its tensors and must be disposed.</para>
/// <para>Gradients are in each parameter's dtype; norms and clip factors are float64.</para>
/// </remarks>
public sealed class ClippedSumResult : IDisposable
{
    internal ClippedSumResult(
        IReadOnlyDictionary<string, Tensor> gradients,
        Tensor perExampleNorms,
        Tensor? clipFactors,
        IReadOnlyDictionary<string, Tensor> layerNorms,
        IReadOnlyDictionary<string, Tensor> layerClipFactors)
    {
        Gradients = gradients;
        PerExampleNorms = perExampleNorms;
        ClipFactors = clipFactors;
        LayerNorms = layerNorms;
        LayerClipFactors = layerClipFactors;
    }

    /// <summary>
    /// Full parameter name (as in <c>named_parameters()</c>, e.g. <c>features.0.weight</c>) → Σ_i c_i·∂ℓ_i/∂θ, shaped like
    /// the parameter. Every trainable parameter is present (zeros for an empty batch); frozen ones are absent.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Gradients { get; }

    /// <summary>‖g_i‖ before clipping, over all trainable parameters, shape [B] (per record: [M] with microbatches), float64.</summary>
    public Tensor PerExampleNorms { get; }

    /// <summary>
    /// Flat clipping: c_i = min(1, C / (‖g_i‖ + 1e-6)), shape [B], float64. Null for per-layer clipping (see
    /// <see cref="LayerClipFactors"/>).
    /// </summary>
    public Tensor? ClipFactors { get; }

    /// <summary>Layer path → the norm of the layer's part of each per-example gradient before clipping, [B], float64.</summary>
    public IReadOnlyDictionary<string, Tensor> LayerNorms { get; }

    /// <summary>
    /// Layer path → the factor applied to that layer's part of each per-example gradient, [B], float64 (in flat mode the
    /// same tensor as <see cref="ClipFactors"/> for every layer).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> LayerClipFactors { get; }

    /// <summary>Number of records: the examples B, or the microbatches M = B/k.</summary>
    public long BatchSize => PerExampleNorms.shape[0];

    /// <summary>Removes every tensor of the result from its dispose scope: the caller then owns them and must dispose the result.</summary>
    /// <returns>This result.</returns>
    public ClippedSumResult DetachFromDisposeScope()
    {
        foreach (var t in AllTensors())
        {
            t.DetachFromDisposeScope();
        }

        return this;
    }

    /// <summary>Disposes every tensor of the result.</summary>
    public void Dispose()
    {
        foreach (var t in AllTensors())
        {
            t.Dispose();
        }
    }

    internal IEnumerable<Tensor> AllTensors()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var all = Gradients.Values.Append(PerExampleNorms).Concat(LayerNorms.Values).Concat(LayerClipFactors.Values);
        if (ClipFactors is not null)
        {
            all = all.Append(ClipFactors);
        }

        return all.Where(seen.Add).ToList();
    }
}
