using DiffPriv.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// Per-example gradients of <see cref="DpEmbeddingBag"/>: the gradient g_i of example i's bag output reaches row x_it
/// scaled by the position's factor (0 for padding, 1 for a sum, 1/n_i for a mean), so the bag is an embedding lookup of
/// L positions whose output gradients are factor_it·g_i, and <see cref="EmbeddingGradSampler.AddWeightRows"/> does the
/// rest (touched rows or dense, both exact). Several calls per step are concatenated along the positions. Microbatches of
/// k examples: their positions are concatenated after the scaling (<see cref="MicrobatchGrouping.InSampler"/>), so ids
/// shared across a group's bags are summed like ids repeated within a bag.
/// </summary>
internal sealed class EmbeddingBagGradSampler : IGradSampler
{
    // Pairs (example, id) per block of the clipped sum: 4096 rows of E values at a time.
    private const long PairsPerBlock = 4096;

    public MicrobatchGrouping MicrobatchGrouping => MicrobatchGrouping.InSampler;

    public ILayerGradSample Compute(GradSampleContext context)
    {
        var bag = (DpEmbeddingBag)context.Module;
        var b = context.BatchSize;
        // The touched rows (as AddWeightRows chooses them) of one call without microbatches: the shared-gradient form.
        if (context.Records.Count == 1 && context.RecordCount == b &&
            (context.Method == GradSampleMethod.Ghost || (context.Method == GradSampleMethod.Auto && context.Records[0].Input.shape[1] < bag.NumEmbeddings)))
        {
            return SharedGradient(bag, context.Records[0]);
        }

        var ids = new List<Tensor>(context.Records.Count);
        var grads = new List<Tensor>(context.Records.Count);
        foreach (var record in context.Records)
        {
            var g = record.OutputGradient; // [B, E]
            ids.Add(record.Input.to(ScalarType.Int64)); // [B, L]
            grads.Add(g.unsqueeze(1).mul(bag.PositionFactors(record.Input, g.dtype).unsqueeze(-1))); // [B, L, E]
        }

        var allIds = ids.Count == 1 ? ids[0] : torch.cat(ids, 1);
        var allGrads = grads.Count == 1 ? grads[0] : torch.cat(grads, 1);
        var records = context.RecordCount;
        var sample = new CompositeLayerGradSample();
        EmbeddingGradSampler.AddWeightRows(
            sample,
            "weight",
            allIds.reshape(records, -1),
            allGrads.reshape(records, -1, bag.EmbeddingDim),
            bag.NumEmbeddings,
            context.Method);
        return sample;
    }

    /// <summary>
    /// One call, one example per record: every position of bag i receives the same output gradient g_i, scaled by its
    /// factor f_it. Example i's gradient is then g_i placed on each distinct id v of the bag with weight
    /// w_iv = Σ_{t: x_it = v} f_it, so ‖∇_i‖² = ‖g_i‖²·Σ_v w_iv² — the norms come from B·L scalars, never from the
    /// [B·L, E] rows. The clipped sum adds c_i·w_iv·g_i to row v, one row per distinct (example, id) pair.
    /// </summary>
    private static CompositeLayerGradSample SharedGradient(DpEmbeddingBag bag, LayerRecord record)
    {
        var g = record.OutputGradient; // [B, E]
        var b = g.shape[0];
        var vocabulary = bag.NumEmbeddings;
        var ids = record.Input.to(ScalarType.Int64); // [B, L]
        var factors = bag.PositionFactors(record.Input, g.dtype).flatten(); // [B·L]
        var (pairs, inverse, example) = EmbeddingGradSampler.DistinctPairs(ids, vocabulary);
        var weights = torch.zeros(pairs.shape[0], dtype: g.dtype, device: g.device).index_add_(0, inverse, factors, 1.0); // w per pair
        var squaredWeights = torch.zeros(b, dtype: g.dtype, device: g.device).index_add_(0, example, weights.square(), 1.0);
        var squared = g.square().sum(1).mul_(squaredWeights);
        var sample = new CompositeLayerGradSample();
        sample.Add("weight", squared, c =>
        {
            // Row v of the sum gets c_i·w_iv·g_i for each pair (i, v), added in blocks of pairs so that the [pairs, E]
            // rows never exist whole (they can be as large as B·L·E).
            var scaled = g.mul(c.reshape(b, 1));
            var rows = pairs.remainder(vocabulary);
            var sum = torch.zeros(vocabulary, g.shape[1], dtype: g.dtype, device: g.device);
            for (long start = 0, n = pairs.shape[0]; start < n; start += PairsPerBlock)
            {
                using var block = torch.NewDisposeScope();
                var length = Math.Min(PairsPerBlock, n - start);
                sum.index_add_(0, rows.narrow(0, start, length), scaled.index_select(0, example.narrow(0, start, length)).mul_(weights.narrow(0, start, length).unsqueeze(1)), 1.0);
            }

            return sum;
        });
        return sample;
    }
}
