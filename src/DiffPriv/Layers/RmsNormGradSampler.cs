using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// Per-example gradients of <see cref="DpRmsNorm"/>: with x̂ = x / sqrt(mean(x²) + eps) recomputed from the kept input,
/// ∂ℓ_i/∂weight = Σ_positions g ⊙ x̂ (materialised; it is never larger than the layer input). Microbatches as every
/// elementwise-affine norm layer (<see cref="AffineNormGradSampler"/>).
/// </summary>
internal sealed class RmsNormGradSampler : AffineNormGradSampler
{
    protected override (Tensor Normalized, Tensor Grad) NormalizedAndGrad(nn.Module module, LayerRecord record, long batchSize)
    {
        var norm = (DpRmsNorm)module;
        var p = norm.NormalizedShape.Aggregate(1L, (x, y) => x * y);
        var x = record.Input;
        var grad = record.OutputGradient.reshape(batchSize, -1, p);
        var normalized = DpRmsNorm.Normalize(x.reshape(batchSize, -1, p), 1, norm.Epsilon(x.dtype)).to(grad.dtype);
        return (normalized, grad);
    }
}
