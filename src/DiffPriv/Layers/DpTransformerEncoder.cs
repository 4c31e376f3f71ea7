using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// A stack of <see cref="DpTransformerEncoderLayer"/>s with exact per-example gradients: what TorchSharp's fused
/// <c>nn.TransformerEncoder</c> computes, with the same call signature (<c>src</c> [S, N, E], optional mask and key
/// padding mask). The stack runs with the example axis first inside, so the sequence is transposed once, not per layer.
/// </summary>
public sealed class DpTransformerEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    // Registered as "layers" by RegisterComponents (see DpMultiheadAttention for why not by register_module).
    [ComponentName(Name = "layers")]
    private readonly ModuleList<DpTransformerEncoderLayer> _layers;

    /// <summary>Creates <paramref name="numLayers"/> independent layers with the configuration of <paramref name="layer"/> (which becomes the first).</summary>
    /// <param name="layer">The first layer; the others are copies of it.</param>
    /// <param name="numLayers">≥ 1.</param>
    /// <remarks>PyTorch's encoder deep-copies its layer, so all layers start with the same weights; so does this one.</remarks>
    public DpTransformerEncoder(DpTransformerEncoderLayer layer, long numLayers)
        : base(nameof(DpTransformerEncoder))
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLayers, 1);
        var first = layer;
        var attention = first.SelfAttention;
        var reference = first.parameters().First();
        var layers = new List<DpTransformerEncoderLayer> { first };
        for (var i = 1; i < numLayers; i++)
        {
            var copy = new DpTransformerEncoderLayer(
                attention.EmbedDim, attention.NumHeads, first.DimFeedforward, first.Dropout, first.Activation, reference.device, reference.dtype);
            using (torch.no_grad())
            {
                foreach (var ((_, to), (_, from)) in copy.named_parameters().Zip(first.named_parameters()))
                {
                    to.copy_(from);
                    to.requires_grad = from.requires_grad;
                }
            }

            layers.Add(copy);
        }

        _layers = nn.ModuleList(layers.ToArray());
        RegisterComponents();
    }

    /// <summary>The layers, in order.</summary>
    public IReadOnlyList<DpTransformerEncoderLayer> Layers => [.. _layers];

    /// <summary>
    /// Creates the stack with the configuration and a copy of the weights of a fused <c>nn.TransformerEncoder</c>; heads and
    /// activation are found by probing (see <see cref="DpTransformerEncoderLayer.FromTorch"/>).
    /// </summary>
    /// <param name="encoder">The fused encoder; it is not changed.</param>
    /// <param name="dropout">The fused layers' dropout (TorchSharp's default is 0.1).</param>
    /// <returns>An encoder that computes the same function (with the mask semantics of <see cref="DpMultiheadAttention"/>).</returns>
    /// <exception cref="NotSupportedException">Not exactly one configuration reproduces the fused encoder (e.g. it has a final
    /// norm, or its layers are pre-norm).</exception>
    public static DpTransformerEncoder FromTorch(TransformerEncoder encoder, double dropout = 0.1)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        using var scope = torch.NewDisposeScope();
        var count = encoder.named_parameters()
            .Select(p => p.name.Split('.'))
            .Where(parts => parts.Length > 2 && parts[0] == "layers")
            .Select(parts => long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture))
            .Max() + 1;
        return DpTransformerEncoderLayer.Probe(
            encoder,
            "layers.0.",
            (dModel, heads, feedforward, activation, weight) =>
                new DpTransformerEncoder(new DpTransformerEncoderLayer(dModel, heads, feedforward, dropout, activation, weight.device, weight.dtype), count),
            candidate => candidate.Layers.Select((layer, i) => (layer, $"layers.{i}.")).ToList(),
            (candidate, x) => candidate.call(x),
            x => encoder.call(x));
    }

    /// <summary>Runs every layer over <paramref name="src"/>.</summary>
    /// <param name="src">[S, N, E].</param>
    /// <param name="mask">Null or [S, S] / [N·H, S, S] (see <see cref="DpMultiheadAttention"/>).</param>
    /// <param name="srcKeyPaddingMask">Null or [N, S].</param>
    /// <returns>[S, N, E].</returns>
    public override Tensor forward(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask)
    {
        ArgumentNullException.ThrowIfNull(src);
        var x = src.transpose(0, 1);
        foreach (var layer in _layers)
        {
            x = layer.EncodeBatchFirst(x, mask, srcKeyPaddingMask);
        }

        return x.transpose(0, 1);
    }

    /// <summary>Runs the encoder without masks.</summary>
    /// <param name="src">[S, N, E].</param>
    /// <returns>[S, N, E].</returns>
    public Tensor call(Tensor src) => call(src, null!, null!);

    /// <summary>Runs the encoder with an attention mask.</summary>
    /// <param name="src">[S, N, E].</param>
    /// <param name="mask">[S, S] / [N·H, S, S].</param>
    /// <returns>[S, N, E].</returns>
    public Tensor call(Tensor src, Tensor mask) => call(src, mask, null!);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _layers.Dispose();
        }

        base.Dispose(disposing);
    }
}
