using TorchSharp;

namespace DiffPriv.PerSample;

/// <summary>
/// Per-example gradients of <c>nn.Linear</c> with any leading axes ([B, …, in]) and any number of calls per forward
/// (records are concatenated along a position axis T): ∂ℓ_i/∂W = Σ_t g_t a_tᵀ, ∂ℓ_i/∂b = Σ_t g_t. Microbatches: the
/// hooks turn the k examples of a group into k·T positions of one example (<see cref="MicrobatchGrouping.ByPositions"/>).
/// </summary>
internal sealed class LinearGradSampler : IGradSampler
{
    public MicrobatchGrouping MicrobatchGrouping => MicrobatchGrouping.ByPositions;

    public ILayerGradSample Compute(GradSampleContext context)
    {
        var b = context.BatchSize;
        var a = torch.cat(context.Records.Select(r => r.Input.reshape(b, -1, r.Input.shape[^1])).ToList(), 1);
        var g = torch.cat(context.Records.Select(r => r.OutputGradient.reshape(b, -1, r.OutputGradient.shape[^1])).ToList(), 1);
        var sample = new CompositeLayerGradSample();
        if (context.TrainableParameters.TryGetValue("weight", out var weight))
        {
            var a4 = a.unsqueeze(1);
            var g4 = g.unsqueeze(1);
            var t = a.shape[1];
            var p = a.shape[2] * g.shape[2];
            var shape = weight.shape;
            if (context.Resolve(t, p, 2 * t * t, a.ElementSize) == GradSampleMethod.Ghost)
            {
                sample.Add("weight", PerSampleMath.GhostSquaredNorms(a4, g4), c => PerSampleMath.GhostClippedSum(a4, g4, c).reshape(shape));
            }
            else
            {
                var psg = PerSampleMath.Materialize(a4, g4);
                sample.Add("weight", PerSampleMath.RowSquaredNorms(psg), c => PerSampleMath.WeightedSum(psg, c).reshape(shape));
            }
        }

        if (context.TrainableParameters.ContainsKey("bias"))
        {
            var gb = g.sum(1);
            sample.Add("bias", PerSampleMath.RowSquaredNorms(gb), c => PerSampleMath.WeightedSum(gb, c));
        }

        return sample;
    }
}
