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
    public MicrobatchGrouping MicrobatchGrouping => MicrobatchGrouping.InSampler;

    public ILayerGradSample Compute(GradSampleContext context)
    {
        var bag = (DpEmbeddingBag)context.Module;
        var b = context.BatchSize;
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
}
