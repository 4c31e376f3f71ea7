using System.Runtime.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// Per-example gradients of <c>nn.Embedding</c>: row v of example i's gradient is Σ_{t: x_it = v} g_it, so repeated
/// ids within an example are summed before squaring. Ghost: only the rows example i touches, one per distinct (i, id)
/// pair (<c>unique</c> over i·V + id, then <c>index_add_</c>), never the V − T rows it leaves at zero; clipped sum by
/// <c>index_add_</c> of c_i times those rows. Materialise: index_add_ into [B·V, E]. Microbatches: the hooks turns the k
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

        var sample = new CompositeLayerGradSample();
        AddWeightRows(sample, "weight", ids, g, vocabulary, context.Method);
        return sample;
    }

    /// <summary>
    /// The distinct (example, id) pairs of <paramref name="ids"/> [B, T], as keys i·V + v in ascending order; for each
    /// position, the index of its pair ([B·T]); and each pair's example i.
    /// </summary>
    internal static (Tensor Pairs, Tensor Inverse, Tensor Example) DistinctPairs(Tensor ids, long vocabulary)
    {
        var b = ids.shape[0];
        var keys = ids.add(torch.arange(b, dtype: ScalarType.Int64, device: ids.device).mul(vocabulary).unsqueeze(1)).flatten();
        var (pairs, inverse, _) = torch.unique(keys, sorted: true, return_inverse: true);
        return (pairs, inverse!, pairs.div(vocabulary, rounding_mode: RoundingMode.floor));
    }

    /// <summary>
    /// Adds the part of a lookup-table weight [V, E] to <paramref name="sample"/>: example i's gradient row v is
    /// Σ_{t: ids_it = v} g_it (see the class summary for the two methods). Shared with the embedding-bag sampler.
    /// </summary>
    /// <param name="sample">The layer sample to add to.</param>
    /// <param name="name">The parameter's name, e.g. <c>weight</c>.</param>
    /// <param name="ids">Row ids [B, T], int64, each in [0, V).</param>
    /// <param name="g">The gradient reaching each looked-up row, [B, T, E] (zero where a row gets none, e.g. padding).</param>
    /// <param name="vocabulary">V, the number of rows.</param>
    /// <param name="requested">The method asked for; Auto takes the touched rows when T &lt; V.</param>
    internal static void AddWeightRows(CompositeLayerGradSample sample, string name, Tensor ids, Tensor g, long vocabulary, GradSampleMethod requested)
    {
        var b = ids.shape[0];
        var dim = g.shape[^1];
        var t = ids.shape[1];
        var p = vocabulary * dim;
        // Auto: the touched rows whenever an example has fewer positions than the table has rows; they never take more
        // memory than g, while the dense [B·V, E] can take far more (and Resolve would pick it whenever it fits).
        var method = requested == GradSampleMethod.Auto
            ? (t < vocabulary ? GradSampleMethod.Ghost : GradSampleMethod.Materialize)
            : requested;
        if (method == GradSampleMethod.Ghost)
        {
            // Only the rows an example touches: one row per distinct (example, id) pair, at most B·T of them (the memory
            // of g), summed over the positions that share the pair. This is exact, like the T×T mask-Gram it replaces, and
            // costs B·T·E additions and a sort instead of B·T²·E multiply-adds.
            var (pairs, inverse, example) = DistinctPairs(ids, vocabulary);
            var rows = torch.zeros(pairs.shape[0], dim, dtype: g.dtype, device: g.device).index_add_(0, inverse, g.reshape(-1, dim), 1.0);
            var squared = torch.zeros(b, dtype: g.dtype, device: g.device).index_add_(0, example, rows.square().sum(1), 1.0);
            sample.Add(name, squared, c =>
                torch.zeros(vocabulary, dim, dtype: g.dtype, device: g.device)
                    .index_add_(0, pairs.remainder(vocabulary), rows.mul(c.reshape(b).index_select(0, example).unsqueeze(1)), 1.0));
        }
        else
        {
            var offsets = torch.arange(b, dtype: ScalarType.Int64, device: ids.device).mul(vocabulary).unsqueeze(1);
            var psg = torch.zeros(b * vocabulary, dim, dtype: g.dtype, device: g.device)
                .index_add_(0, ids.add(offsets).flatten(), g.reshape(-1, dim), 1.0)
                .reshape(b, p);
            sample.Add(name, PerSampleMath.RowSquaredNorms(psg), c => PerSampleMath.WeightedSum(psg, c).reshape(vocabulary, dim));
        }
    }
}
