using System.Runtime.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// Per-example gradients of <c>nn.Embedding</c>: row v of example i's gradient is Σ_{t: x_it = v} g_it, so repeated
/// ids within an example are summed before squaring. Ghost: ‖·‖² = Σ_{t,s} [x_t = x_s] g_t·g_s (mask-Gram); clipped sum
/// by <c>index_add_</c> of c_i·g_it. Materialise: index_add_ into [B·V, E]. Microbatches: the engine turns the k
/// examples of a group into k·T positions of one example (<see cref="MicrobatchGrouping.ByPositions"/>), so ids repeated
/// across the examples of a group are summed like ids repeated within an example.
/// </summary>
/// <remarks>
/// TorchSharp's Embedding is a native module whose options cannot be read, so <c>Validate</c> probes the layer
/// once (a forward and backward over every id, with the weight and its gradient restored afterwards) to find
/// <c>padding_idx</c> (its row gets no gradient) and to refuse <c>scale_grad_by_freq</c>, which scales by counts over
/// the whole batch and so mixes examples.
/// </remarks>
internal sealed class EmbeddingGradSampler : IGradSampler
{
    private readonly ConditionalWeakTable<nn.Module, StrongBox<long?>> _paddingIndex = [];

    public MicrobatchGrouping MicrobatchGrouping => MicrobatchGrouping.ByPositions;

    public void Validate(string path, nn.Module layer)
    {
        var emb = (Embedding)layer;
        using var scope = torch.NewDisposeScope();
        var weight = (Tensor)emb.weight!;
        var vocabulary = weight.shape[0];
        var saved = weight.detach().clone();
        var previousGrad = weight.grad;
        weight.grad = null;
        Tensor counts;
        try
        {
            using (torch.enable_grad())
            {
                var ids = torch.arange(vocabulary, dtype: ScalarType.Int64).repeat(2);
                var output = emb.forward(ids);
                output.backward(grad_tensors: [torch.ones_like(output)], inputs: [weight]);
            }

            var grad = weight.grad ?? throw new UnsupportedLayerException(path, layer, "the probe found no gradient for the embedding weight");
            if (grad.is_sparse)
            {
                grad = grad.to_dense();
            }

            counts = grad.to(ScalarType.Float64).mean([1L]); // 2 per row; 0 for padding_idx; 1 with scale_grad_by_freq
        }
        finally
        {
            weight.grad = previousGrad;
            using (torch.no_grad())
            {
                weight.copy_(saved); // max_norm renormalises rows in place during forward
            }
        }

        var values = counts.data<double>().ToArray();
        long? padding = null;
        for (var v = 0L; v < values.Length; v++)
        {
            var count = values[v];
            if (count == 0 && padding is null)
            {
                padding = v;
            }
            else if (Math.Abs(count - 1) < 1e-3)
            {
                throw new UnsupportedLayerException(
                    path,
                    layer,
                    "it uses scale_grad_by_freq, which scales each row by its frequency in the whole batch and so mixes examples");
            }
            else if (Math.Abs(count - 2) > 1e-3)
            {
                throw new UnsupportedLayerException(path, layer, $"the probe found an unexpected gradient {count} for row {v}");
            }
        }

        _paddingIndex.AddOrUpdate(layer, new StrongBox<long?>(padding));
    }

    public ILayerGradSample Compute(GradSampleContext context)
    {
        var b = context.BatchSize;
        var weight = context.TrainableParameters["weight"];
        var vocabulary = weight.shape[0];
        var dim = weight.shape[1];
        var ids = torch.cat(context.Records.Select(r => r.Input.reshape(b, -1).to(ScalarType.Int64)).ToList(), 1); // [B, T]
        var g = torch.cat(context.Records.Select(r => r.OutputGradient.reshape(b, -1, dim)).ToList(), 1); // [B, T, E]
        if (_paddingIndex.TryGetValue(context.Module, out var box) && box.Value is { } padding)
        {
            g = g.mul(ids.ne(padding).unsqueeze(-1).to(g.dtype));
        }

        var t = ids.shape[1];
        var p = vocabulary * dim;
        var sample = new CompositeLayerGradSample();
        if (context.Resolve(t, p, 2 * t * t, g.ElementSize) == GradSampleMethod.Ghost)
        {
            Tensor squared;
            if (t == 1)
            {
                squared = g.square().sum([1L, 2L]);
            }
            else
            {
                var same = ids.unsqueeze(2).eq(ids.unsqueeze(1)).to(g.dtype);
                squared = g.bmm(g.transpose(1, 2)).mul_(same).sum([1L, 2L]);
            }

            sample.Add("weight", squared, c =>
                torch.zeros(vocabulary, dim, dtype: g.dtype, device: g.device)
                    .index_add_(0, ids.flatten(), g.mul(c.reshape(b, 1, 1)).reshape(-1, dim), 1.0));
        }
        else
        {
            var offsets = torch.arange(b, dtype: ScalarType.Int64, device: ids.device).mul(vocabulary).unsqueeze(1);
            var psg = torch.zeros(b * vocabulary, dim, dtype: g.dtype, device: g.device)
                .index_add_(0, ids.add(offsets).flatten(), g.reshape(-1, dim), 1.0)
                .reshape(b, p);
            sample.Add("weight", PerSampleMath.RowSquaredNorms(psg), c => PerSampleMath.WeightedSum(psg, c).reshape(vocabulary, dim));
        }

        return sample;
    }
}
