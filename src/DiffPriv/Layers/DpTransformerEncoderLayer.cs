using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// A transformer encoder layer with exact per-example gradients: what TorchSharp's fused <c>nn.TransformerEncoderLayer</c>
/// computes (post-norm, as PyTorch's default <c>norm_first = false</c>), sequence-first [S, N, E], built from
/// <see cref="DpMultiheadAttention"/>, two <c>nn.Linear</c> and two <c>nn.LayerNorm</c> (ε = 1e-5) layers:
/// <c>x = norm1(x + dropout(self_attn(x))); x = norm2(x + dropout(linear2(dropout(activation(linear1(x))))))</c>.
/// Parameter names match the fused layer's, with the attention's input projection split into <c>q_proj</c>,
/// <c>k_proj</c>, <c>v_proj</c>.
/// </summary>
public sealed class DpTransformerEncoderLayer : nn.Module<Tensor, Tensor>
{
    // Registered under PyTorch's names by RegisterComponents (see DpMultiheadAttention: fields registered only by
    // register_module would be registered a second time, under their field names, when a parent registers this layer).
    [ComponentName(Name = "self_attn")]
    private readonly DpMultiheadAttention _selfAttention;
    [ComponentName(Name = "linear1")]
    private readonly nn.Module<Tensor, Tensor> _linear1;
    [ComponentName(Name = "linear2")]
    private readonly nn.Module<Tensor, Tensor> _linear2;
    [ComponentName(Name = "norm1")]
    private readonly LayerNorm _norm1;
    [ComponentName(Name = "norm2")]
    private readonly LayerNorm _norm2;

    /// <summary>Creates the layer.</summary>
    /// <param name="dModel">E, the model dimension; divisible by <paramref name="nhead"/>.</param>
    /// <param name="nhead">H ≥ 1, attention heads.</param>
    /// <param name="dimFeedforward">Width of the feed-forward block, ≥ 1 (TorchSharp's default is 2048).</param>
    /// <param name="dropout">Dropout probability in [0, 1) (attention weights, both residual branches and the feed-forward block).</param>
    /// <param name="activation">The feed-forward activation: ReLU (default) or GELU.</param>
    /// <param name="device">Device of the parameters.</param>
    /// <param name="dtype">Element type of the parameters.</param>
    public DpTransformerEncoderLayer(
        long dModel,
        long nhead,
        long dimFeedforward = 2048,
        double dropout = 0.1,
        nn.Activations activation = nn.Activations.ReLU,
        Device? device = null,
        ScalarType? dtype = null)
        : base(nameof(DpTransformerEncoderLayer))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimFeedforward, 1);
        if (activation is not (nn.Activations.ReLU or nn.Activations.GELU))
        {
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "The activation must be ReLU or GELU.");
        }

        _selfAttention = new DpMultiheadAttention(dModel, nhead, dropout, bias: true, device: device, dtype: dtype);
        _linear1 = nn.Linear(dModel, dimFeedforward, device: device, dtype: dtype);
        _linear2 = nn.Linear(dimFeedforward, dModel, device: device, dtype: dtype);
        _norm1 = nn.LayerNorm(dModel, eps: 1e-5, device: device, dtype: dtype);
        _norm2 = nn.LayerNorm(dModel, eps: 1e-5, device: device, dtype: dtype);
        DimFeedforward = dimFeedforward;
        Dropout = dropout;
        Activation = activation;
        RegisterComponents();
    }

    /// <summary>The self-attention block.</summary>
    public DpMultiheadAttention SelfAttention => _selfAttention;

    /// <summary>Width of the feed-forward block.</summary>
    public long DimFeedforward { get; }

    /// <summary>Dropout probability (training mode only).</summary>
    public double Dropout { get; }

    /// <summary>The feed-forward activation.</summary>
    public nn.Activations Activation { get; }

    /// <summary>
    /// Creates the layer with the configuration and a copy of the weights of a fused <c>nn.TransformerEncoderLayer</c> (same
    /// device, dtype, mode and requires_grad flags). TorchSharp does not expose the fused layer's heads, activation or
    /// dropout: heads and activation are found by running both layers on a probe input in evaluation mode (every divisor
    /// of E with ReLU and GELU; exactly one must reproduce the fused output), and the dropout is <paramref name="dropout"/>.
    /// </summary>
    /// <param name="layer">The fused layer; it is not changed.</param>
    /// <param name="dropout">The fused layer's dropout, in [0, 1) (TorchSharp's default is 0.1).</param>
    /// <returns>A layer that computes the same function (with the mask semantics of <see cref="DpMultiheadAttention"/>).</returns>
    /// <exception cref="NotSupportedException">Not exactly one configuration reproduces the fused layer (e.g. it is pre-norm).</exception>
    public static DpTransformerEncoderLayer FromTorch(TransformerEncoderLayer layer, double dropout = 0.1)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return Probe(
            layer,
            string.Empty,
            (dModel, heads, feedforward, activation, weight) => new DpTransformerEncoderLayer(dModel, heads, feedforward, dropout, activation, weight.device, weight.dtype),
            candidate => [(candidate, string.Empty)],
            (candidate, x) => candidate.call(x),
            x => layer.call(x));
    }

    /// <summary>Runs the layer over <paramref name="src"/> [S, N, E].</summary>
    /// <param name="src">[S, N, E].</param>
    /// <returns>[S, N, E].</returns>
    public override Tensor forward(Tensor src) => call(src, null, null);

    /// <summary>Runs the layer with masks, as the fused layer's <c>call(src, src_mask, src_key_padding_mask)</c>.</summary>
    /// <param name="src">[S, N, E].</param>
    /// <param name="srcMask">Null or [S, S] / [N·H, S, S]: boolean (true = not allowed) or float (added to the scores).</param>
    /// <param name="srcKeyPaddingMask">Null or [N, S]: boolean (true = padding) or float.</param>
    /// <returns>[S, N, E].</returns>
    public Tensor call(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask)
    {
        ArgumentNullException.ThrowIfNull(src);
        return EncodeBatchFirst(src.transpose(0, 1), srcMask, srcKeyPaddingMask).transpose(0, 1);
    }

    /// <summary>The layer with the example axis first: [N, S, E] → [N, S, E].</summary>
    /// <param name="x">[N, S, E].</param>
    /// <param name="srcMask">Null or [S, S] / [N·H, S, S].</param>
    /// <param name="srcKeyPaddingMask">Null or [N, S].</param>
    /// <returns>[N, S, E].</returns>
    public Tensor EncodeBatchFirst(Tensor x, Tensor? srcMask, Tensor? srcKeyPaddingMask)
    {
        ArgumentNullException.ThrowIfNull(x);
        var attended = _selfAttention.AttendBatchFirst(x, x, x, srcKeyPaddingMask, needWeights: false, srcMask).Output;
        x = _norm1.call(x + Drop(attended));
        var hidden = _linear1.call(x);
        hidden = Activation == nn.Activations.GELU ? nn.functional.gelu(hidden) : nn.functional.relu(hidden);
        return _norm2.call(x + Drop(_linear2.call(Drop(hidden))));
    }

    /// <summary>
    /// Finds the configuration (heads, activation) of a fused encoder or encoder layer by probing: for every head count
    /// (divisor of E) and activation, a candidate is built by <paramref name="create"/>, given the fused weights, and run
    /// on a probe input beside the fused module in evaluation mode. Exactly one configuration must reproduce the output.
    /// </summary>
    /// <typeparam name="TModule">The DP module built.</typeparam>
    /// <param name="fused">The fused module; it is not changed (its mode is restored).</param>
    /// <param name="firstLayerPrefix">The prefix of the first layer's parameters in <paramref name="fused"/> ("" for a layer).</param>
    /// <param name="create">(E, heads, feed-forward width, activation, a reference weight for device and dtype) → candidate.</param>
    /// <param name="layers">The candidate's layers, each with the prefix of its parameters in <paramref name="fused"/>.</param>
    /// <param name="call">Runs the candidate on [S, N, E].</param>
    /// <param name="fusedCall">Runs the fused module on [S, N, E].</param>
    /// <returns>The one candidate that reproduces the fused module, in the fused module's mode.</returns>
    internal static TModule Probe<TModule>(
        nn.Module fused,
        string firstLayerPrefix,
        Func<long, long, long, nn.Activations, Tensor, TModule> create,
        Func<TModule, IReadOnlyList<(DpTransformerEncoderLayer Layer, string Prefix)>> layers,
        Func<TModule, Tensor, Tensor> call,
        Func<Tensor, Tensor> fusedCall)
        where TModule : nn.Module
    {
        using var scope = torch.NewDisposeScope();
        var parameters = fused.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var linear1 = parameters[firstLayerPrefix + "linear1.weight"];
        var (feedforward, dModel) = (linear1.shape[0], linear1.shape[1]);
        (TModule Module, long Heads, nn.Activations Activation)? found = null;
        foreach (var heads in DpMultiheadAttention.Divisors(dModel))
        {
            foreach (var activation in new[] { nn.Activations.ReLU, nn.Activations.GELU })
            {
                var candidate = create(dModel, heads, feedforward, activation, linear1);
                foreach (var (layer, prefix) in layers(candidate))
                {
                    layer.CopyFrom(parameters, prefix);
                }

                if (!Reproduces(candidate, x => call(candidate, x), fused, fusedCall, dModel, linear1))
                {
                    candidate.Dispose();
                    continue;
                }

                if (found is { } first)
                {
                    var message = $"Both ({first.Heads} heads, {first.Activation}) and ({heads} heads, {activation}) reproduce this " +
                        $"{fused.GetType().Name} (degenerate weights), so its configuration cannot be found; build the model with " +
                        "DpTransformerEncoderLayer instead.";
                    first.Module.Dispose();
                    candidate.Dispose();
                    throw new NotSupportedException(message);
                }

                found = (candidate, heads, activation);
            }
        }

        if (found is not { } result)
        {
            throw new NotSupportedException(
                $"No head count and activation reproduce this {fused.GetType().Name} (only post-norm layers with ReLU or GELU are " +
                "supported); build the model with DpTransformerEncoderLayer instead.");
        }

        result.Module.train(fused.training);
        return result.Module;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _selfAttention.Dispose();
            _linear1.Dispose();
            _linear2.Dispose();
            _norm1.Dispose();
            _norm2.Dispose();
        }

        base.Dispose(disposing);
    }

    private static bool Reproduces(nn.Module candidate, Func<Tensor, Tensor> call, nn.Module fused, Func<Tensor, Tensor> fusedCall, long dModel, Tensor reference)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var wasTraining = fused.training;
        fused.eval();
        candidate.eval();
        try
        {
            var generator = new Generator(2024, reference.device);
            var src = torch.randn([5, 2, dModel], dtype: reference.dtype, device: reference.device, generator: generator);
            return call(src).allclose(fusedCall(src), rtol: 1e-4, atol: 1e-5);
        }
        finally
        {
            fused.train(wasTraining);
        }
    }

    private void CopyFrom(Dictionary<string, Tensor> source, string prefix)
    {
        _selfAttention.CopyFrom(source, prefix + "self_attn.");
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in named_parameters().Where(np => !np.name.StartsWith("self_attn.", StringComparison.Ordinal)))
        {
            var from = source[prefix + name];
            p.copy_(from);
            p.requires_grad = from.requires_grad;
        }
    }

    private Tensor Drop(Tensor x) => training && Dropout > 0 ? nn.functional.dropout(x, Dropout, training: true) : x;
}
