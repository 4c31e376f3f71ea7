using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// Shared part of the elementwise-affine normalisation layers: with x̂ the normalised input recomputed from the kept input,
/// ∂ℓ_i/∂γ = Σ_positions g ⊙ x̂ and ∂ℓ_i/∂β = Σ_positions g. These per-example gradients are never larger than the
/// layer input, so they are always materialised (the requested method does not change the result). Microbatches: x̂ is
/// computed per example (GroupNorm statistics span all positions of an example), then the materialised per-example
/// gradients of each group of k consecutive examples are summed (<see cref="MicrobatchGrouping.InSampler"/>).
/// </summary>
internal abstract class AffineNormGradSampler : IGradSampler
{
    public MicrobatchGrouping MicrobatchGrouping => MicrobatchGrouping.InSampler;

    public virtual void Validate(string path, nn.Module layer)
    {
    }

    public ILayerGradSample Compute(GradSampleContext context)
    {
        var b = context.BatchSize;
        Tensor? weightGrad = null;
        Tensor? biasGrad = null;
        var trainsWeight = context.TrainableParameters.ContainsKey("weight");
        var trainsBias = context.TrainableParameters.ContainsKey("bias");
        foreach (var record in context.Records)
        {
            // Both as [B, positions, P] with P the parameter size.
            var (normalized, grad) = NormalizedAndGrad(context.Module, record, b);
            if (trainsWeight)
            {
                var w = grad.mul(normalized).sum(1);
                weightGrad = weightGrad is null ? w : weightGrad.add_(w);
            }

            if (trainsBias)
            {
                var bg = grad.sum(1);
                biasGrad = biasGrad is null ? bg : biasGrad.add_(bg);
            }
        }

        var parts = new Dictionary<string, (Tensor PerExample, long[] Shape)>();
        Tensor? squared = null;
        foreach (var (name, perExample) in new[] { ("weight", weightGrad), ("bias", biasGrad) })
        {
            if (perExample is null)
            {
                continue;
            }

            var perRecord = context.MicrobatchSize == 1
                ? perExample
                : perExample.reshape(context.RecordCount, context.MicrobatchSize, -1).sum(1L); // [M, P]
            parts[name] = (perRecord, context.TrainableParameters[name].shape);
            var s = PerSampleMath.RowSquaredNorms(perRecord);
            squared = squared is null ? s : squared.add_(s);
        }

        return new MaterializedLayerGradSample(parts, squared ?? throw new InvalidOperationException("No trainable parameter."));
    }

    /// <summary>x̂ and ∂ℓ/∂y, both reshaped to [B, positions, P].</summary>
    protected abstract (Tensor Normalized, Tensor Grad) NormalizedAndGrad(nn.Module module, LayerRecord record, long batchSize);

    /// <summary>(x − mean) / sqrt(var + eps) over the last axis, with the biased variance as in the forward.</summary>
    protected static Tensor Normalize(Tensor x, double eps)
    {
        var centered = x.sub(x.mean([-1L], keepdim: true));
        var variance = centered.square().mean([-1L], keepdim: true);
        return centered.mul(variance.add(eps).rsqrt());
    }
}

/// <summary>Per-example gradients of <c>nn.LayerNorm</c> (normalised over the trailing <c>normalized_shape</c> axes).</summary>
internal sealed class LayerNormGradSampler : AffineNormGradSampler
{
    protected override (Tensor Normalized, Tensor Grad) NormalizedAndGrad(nn.Module module, LayerRecord record, long batchSize)
    {
        var norm = (LayerNorm)module;
        var p = norm.normalized_shape.Aggregate(1L, (x, y) => x * y);
        var normalized = Normalize(record.Input.reshape(batchSize, -1, p), norm.eps);
        return (normalized, record.OutputGradient.reshape(batchSize, -1, p));
    }
}

/// <summary>Per-example gradients of <c>nn.GroupNorm</c> ([B, C, …], statistics per example and group).</summary>
internal sealed class GroupNormGradSampler : AffineNormGradSampler
{
    protected override (Tensor Normalized, Tensor Grad) NormalizedAndGrad(nn.Module module, LayerRecord record, long batchSize)
    {
        var norm = (GroupNorm)module;
        var x = record.Input;
        var channels = x.shape[1];
        var normalized = Normalize(x.reshape(batchSize, norm.num_groups, -1), norm.eps)
            .reshape(batchSize, channels, -1)
            .transpose(1, 2); // [B, positions, C]
        var grad = record.OutputGradient.reshape(batchSize, channels, -1).transpose(1, 2);
        return (normalized, grad);
    }
}

/// <summary>
/// Per-example gradients of <c>nn.InstanceNorm1d/2d/3d</c> with <c>affine</c> = true ([B, C, …], statistics per example
/// and channel over its spatial positions, so no example sees another). Refused in <see cref="Validate"/>: layers with
/// <c>track_running_stats</c> = true. TorchSharp's forward (like PyTorch's) then normalises with the instance's own
/// statistics in training mode but also folds the batch mean of those statistics into <c>running_mean</c> and
/// <c>running_var</c>, buffers that are released with the model without noise; in evaluation mode it normalises with those
/// buffers, so each output depends on the examples of earlier batches.
/// </summary>
internal sealed class InstanceNormGradSampler : AffineNormGradSampler
{
    public override void Validate(string path, nn.Module layer)
    {
        var norm = (InstanceNorm)layer;
        if (norm.track_running_stats)
        {
            throw new UnsupportedLayerException(
                path,
                layer,
                "it tracks running statistics (track_running_stats = true): in training mode each forward adds the batch mean of " +
                "the instance statistics to running_mean and running_var, buffers that leave the model without noise, and in " +
                "evaluation mode it normalises with them, so an output depends on other examples. Build the layer with " +
                "track_running_stats = false (it then always normalises each example by its own statistics)");
        }
    }

    protected override (Tensor Normalized, Tensor Grad) NormalizedAndGrad(nn.Module module, LayerRecord record, long batchSize)
    {
        var norm = (InstanceNorm)module;
        var x = record.Input;
        var spatial = norm switch
        {
            InstanceNorm1d => 1,
            InstanceNorm2d => 2,
            _ => 3,
        };
        if (x.dim() != spatial + 2)
        {
            throw new ArgumentException(
                $"Per-example gradients need a batched {spatial + 2}-d input to {module.GetType().Name}, got shape [{string.Join(", ", x.shape)}] " +
                "(an unbatched input has no batch axis for the hooks).");
        }

        var channels = x.shape[1];
        var normalized = Normalize(x.reshape(batchSize, channels, -1), norm.eps).transpose(1, 2); // [B, positions, C]
        var grad = record.OutputGradient.reshape(batchSize, channels, -1).transpose(1, 2);
        return (normalized, grad);
    }
}
