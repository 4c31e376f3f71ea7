using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// Multi-head attention with exact per-example gradients: what TorchSharp's fused <c>nn.MultiheadAttention</c> computes
/// (Vaswani et al. 2017, PyTorch's <c>multi_head_attention_forward</c>), in the same sequence-first layout and with the
/// same call signature, built from four <c>nn.Linear</c> projections (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>,
/// <c>out_proj</c>) whose per-example gradients the engine computes like any other Linear layer's.
/// </summary>
/// <remarks>
/// <para>Shapes: query [L, N, E], key [S, N, kdim], value [S, N, vdim]; output [L, N, E]; attention weights, when asked
/// for, [N, L, S] averaged over the heads. Internally everything runs batch-first, so every projection sees the example
/// axis first and examples never mix.</para>
/// <para>Masks, as in PyTorch's <c>nn.MultiheadAttention</c>: <c>keyPaddingMask</c> [N, S], boolean (true = ignore that
/// key) or float (added to the scores); <c>attnMask</c> [L, S] or [N·H, L, S] (row n·H + h for example n, head h),
/// boolean (true = not allowed) or float (added). A query whose keys are all masked gets NaN, as in PyTorch. Dropout
/// applies to the attention weights in training mode.</para>
/// <para>Differences from TorchSharp 0.107's fused layer (libtorch's C++ <c>multi_head_attention_forward</c>), measured:
/// the fused layer <em>adds</em> a boolean <c>attnMask</c> to the scores as 0/1 instead of masking (pass it the float mask
/// 0/−∞ to get what this layer computes for the boolean one), and it refuses 3-D attention masks, float key padding masks
/// and keys and values of different sizes, all of which this layer supports. With float [L, S] masks, boolean key padding
/// masks or none, both compute the same function.</para>
/// <para><see cref="Validation.ModuleValidator.Fix(nn.Module)"/> puts it where an <c>nn.MultiheadAttention</c> was (with its
/// weights), in a field declared as <c>nn.Module&lt;Tensor, Tensor, Tensor, Tensor, bool, Tensor, Tuple&lt;Tensor, Tensor&gt;&gt;</c>.
/// <c>add_bias_kv</c> and <c>add_zero_attn</c> are not supported.</para>
/// </remarks>
public sealed class DpMultiheadAttention : nn.Module<Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, Tuple<Tensor, Tensor>>
{
    // Registered under PyTorch's names by RegisterComponents: TorchSharp registers a module's fields again (under the
    // field names, so every Linear twice, with two hooks) when a parent registers it, unless they carry these names.
    [ComponentName(Name = "q_proj")]
    private readonly nn.Module<Tensor, Tensor> _qProj;
    [ComponentName(Name = "k_proj")]
    private readonly nn.Module<Tensor, Tensor> _kProj;
    [ComponentName(Name = "v_proj")]
    private readonly nn.Module<Tensor, Tensor> _vProj;
    [ComponentName(Name = "out_proj")]
    private readonly nn.Module<Tensor, Tensor> _outProj;

    /// <summary>Creates the layer (weights initialised like TorchSharp's Linear layers).</summary>
    /// <param name="embedDim">E, the model dimension; divisible by <paramref name="numHeads"/>.</param>
    /// <param name="numHeads">H ≥ 1.</param>
    /// <param name="dropout">Dropout probability on the attention weights, in [0, 1).</param>
    /// <param name="bias">Whether the four projections have biases.</param>
    /// <param name="kdim">Features of the keys (default E).</param>
    /// <param name="vdim">Features of the values (default E).</param>
    /// <param name="device">Device of the parameters.</param>
    /// <param name="dtype">Element type of the parameters.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or the dropout is out of range.</exception>
    public DpMultiheadAttention(
        long embedDim,
        long numHeads,
        double dropout = 0.0,
        bool bias = true,
        long? kdim = null,
        long? vdim = null,
        Device? device = null,
        ScalarType? dtype = null)
        : base(nameof(DpMultiheadAttention))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(embedDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numHeads, 1);
        if (embedDim % numHeads != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numHeads), numHeads, $"The embedding dimension {embedDim} must be divisible by the number of heads.");
        }

        if (!(dropout >= 0 && dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout must be in [0, 1).");
        }

        EmbedDim = embedDim;
        NumHeads = numHeads;
        Dropout = dropout;
        KeyDim = kdim ?? embedDim;
        ValueDim = vdim ?? embedDim;
        _qProj = nn.Linear(embedDim, embedDim, hasBias: bias, device: device, dtype: dtype);
        _kProj = nn.Linear(KeyDim, embedDim, hasBias: bias, device: device, dtype: dtype);
        _vProj = nn.Linear(ValueDim, embedDim, hasBias: bias, device: device, dtype: dtype);
        _outProj = nn.Linear(embedDim, embedDim, hasBias: bias, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>E, the model dimension.</summary>
    public long EmbedDim { get; }

    /// <summary>H, the number of heads.</summary>
    public long NumHeads { get; }

    /// <summary>Dropout probability on the attention weights (training mode only).</summary>
    public double Dropout { get; }

    /// <summary>Features of the keys.</summary>
    public long KeyDim { get; }

    /// <summary>Features of the values.</summary>
    public long ValueDim { get; }

    /// <summary>The query projection (E → E): an <c>nn.Linear</c>, or what replaced it (e.g. a LoRA adapter).</summary>
    public nn.Module<Tensor, Tensor> QueryProjection => _qProj;

    /// <summary>The key projection (kdim → E).</summary>
    public nn.Module<Tensor, Tensor> KeyProjection => _kProj;

    /// <summary>The value projection (vdim → E).</summary>
    public nn.Module<Tensor, Tensor> ValueProjection => _vProj;

    /// <summary>The output projection (E → E).</summary>
    public nn.Module<Tensor, Tensor> OutputProjection => _outProj;

    /// <summary>
    /// Creates the layer with the configuration and a copy of the weights of a fused <c>nn.MultiheadAttention</c> (same
    /// device, dtype, mode and requires_grad flags). TorchSharp does not expose the number of heads or the dropout of the
    /// fused module: the heads are found by running both layers on a probe input in evaluation mode (every divisor of E
    /// is tried; exactly one must reproduce the fused output to 1e-4 relative / 1e-5 absolute), and the dropout is
    /// <paramref name="dropout"/>.
    /// </summary>
    /// <param name="attention">The fused layer; it is not changed.</param>
    /// <param name="dropout">The fused layer's attention dropout, in [0, 1) (TorchSharp's default is 0).</param>
    /// <returns>A layer that computes the same function (with the mask semantics described on the type).</returns>
    /// <exception cref="NotSupportedException">The layer uses <c>add_bias_kv</c> or <c>add_zero_attn</c>, its keys and values
    /// have different sizes (TorchSharp's fused layer cannot run then, so it cannot be probed), or not exactly one head
    /// count reproduces it.</exception>
    public static DpMultiheadAttention FromTorch(MultiheadAttention attention, double dropout = 0.0)
    {
        ArgumentNullException.ThrowIfNull(attention);
        using var scope = torch.NewDisposeScope();
        var parameters = attention.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        if (parameters.ContainsKey("bias_k") || parameters.ContainsKey("bias_v"))
        {
            throw new NotSupportedException("nn.MultiheadAttention with add_bias_kv has no DP equivalent here; build the model without it.");
        }

        var outWeight = parameters["out_proj.weight"];
        var e = outWeight.shape[0];
        var kdim = parameters.TryGetValue("k_proj_weight", out var kw) ? kw.shape[1] : e;
        var vdim = parameters.TryGetValue("v_proj_weight", out var vw) ? vw.shape[1] : e;
        if (kdim != vdim)
        {
            throw new NotSupportedException(
                $"This nn.MultiheadAttention has keys of {kdim} and values of {vdim} features: TorchSharp's fused layer requires keys and " +
                "values of the same shape, so it cannot run, and its head count cannot be found. Build the model with " +
                "DpMultiheadAttention(embedDim, numHeads, kdim: …, vdim: …) instead.");
        }

        var bias = parameters.ContainsKey("in_proj_bias");
        DpMultiheadAttention? found = null;
        foreach (var heads in Divisors(e))
        {
            var candidate = new DpMultiheadAttention(e, heads, dropout, bias, kdim, vdim, outWeight.device, outWeight.dtype);
            candidate.CopyFrom(parameters);
            if (!Reproduces(candidate, attention))
            {
                candidate.Dispose();
                continue;
            }

            if (found is not null)
            {
                var message = $"Both {found.NumHeads} and {heads} heads reproduce this nn.MultiheadAttention (its query or key projection is " +
                    "degenerate, e.g. zero), so its head count cannot be found; build the model with DpMultiheadAttention instead.";
                found.Dispose();
                candidate.Dispose();
                throw new NotSupportedException(message);
            }

            found = candidate;
        }

        if (found is null)
        {
            throw new NotSupportedException(
                "No head count reproduces this nn.MultiheadAttention (add_zero_attn is not supported); build the model with DpMultiheadAttention instead.");
        }

        found.train(attention.training);
        return found;
    }

    /// <summary>Attention of <paramref name="query"/> over (<paramref name="key"/>, <paramref name="value"/>), sequence-first as <c>nn.MultiheadAttention</c>.</summary>
    /// <param name="query">[L, N, E].</param>
    /// <param name="key">[S, N, kdim].</param>
    /// <param name="value">[S, N, vdim].</param>
    /// <param name="keyPaddingMask">Null, or [N, S]: boolean (true = ignore the key) or float (added to the scores).</param>
    /// <param name="needWeights">Whether to return the attention weights averaged over heads.</param>
    /// <param name="attnMask">Null, or [L, S] / [N·H, L, S]: boolean (true = not allowed) or float (added).</param>
    /// <returns>(output [L, N, E], weights [N, L, S], or null when <paramref name="needWeights"/> is false).</returns>
    /// <exception cref="ArgumentException">A shape or mask does not fit (the message names it).</exception>
    public override Tuple<Tensor, Tensor> forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, bool needWeights, Tensor? attnMask)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        CheckRank(query, 3, nameof(query));
        CheckRank(key, 3, nameof(key));
        CheckRank(value, 3, nameof(value));
        var (output, weights) = AttendBatchFirst(query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1), keyPaddingMask, needWeights, attnMask);
        return Tuple.Create(output.transpose(0, 1), weights!);
    }

    /// <summary>
    /// The same attention with the example axis first: query [N, L, E], key [N, S, kdim], value [N, S, vdim] → [N, L, E].
    /// Every projection sees [N, T, features], so the per-example gradient hooks see the examples on the first axis.
    /// </summary>
    /// <param name="query">[N, L, E].</param>
    /// <param name="key">[N, S, kdim].</param>
    /// <param name="value">[N, S, vdim].</param>
    /// <param name="keyPaddingMask">Null or [N, S] (see <see cref="forward"/>).</param>
    /// <param name="needWeights">Whether to return the head-averaged weights [N, L, S].</param>
    /// <param name="attnMask">Null, [L, S] or [N·H, L, S] (see <see cref="forward"/>).</param>
    /// <returns>(output [N, L, E], weights [N, L, S], or null when <paramref name="needWeights"/> is false).</returns>
    /// <exception cref="ArgumentException">A shape or mask does not fit (the message names it).</exception>
    public (Tensor Output, Tensor? Weights) AttendBatchFirst(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, bool needWeights, Tensor? attnMask)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        CheckRank(query, 3, nameof(query));
        CheckRank(key, 3, nameof(key));
        CheckRank(value, 3, nameof(value));
        var n = query.shape[0];
        var l = query.shape[1];
        var s = key.shape[1];
        var h = NumHeads;
        var d = EmbedDim / h;
        if (key.shape[0] != n || value.shape[0] != n || value.shape[1] != s)
        {
            throw new ArgumentException(
                $"query [{string.Join(", ", query.shape)}], key [{string.Join(", ", key.shape)}] and value [{string.Join(", ", value.shape)}] " +
                "must have the same number of examples, and key and value the same length.",
                nameof(key));
        }

        // [N, T, E] → [N, H, T, d]; reshape, not view: a replaced projection may return a non-contiguous tensor.
        Tensor Heads(Tensor x, long t) => x.reshape(n, t, h, d).transpose(1, 2);
        var q = Heads(_qProj.call(query), l);
        var k = Heads(_kProj.call(key), s);
        var v = Heads(_vProj.call(value), s);

        var scores = torch.matmul(q, k.transpose(-2, -1)).div(Math.Sqrt(d)); // [N, H, L, S]
        if (attnMask is not null)
        {
            var mask = attnMask.dim() switch
            {
                2 when attnMask.shape[0] == l && attnMask.shape[1] == s => attnMask,
                3 when attnMask.shape[0] == n * h && attnMask.shape[1] == l && attnMask.shape[2] == s => attnMask.reshape(n, h, l, s),
                _ => throw new ArgumentException(
                    $"attnMask must be [L, S] = [{l}, {s}] or [N·H, L, S] = [{n * h}, {l}, {s}], got [{string.Join(", ", attnMask.shape)}].",
                    nameof(attnMask)),
            };
            scores = ApplyMask(scores, mask, nameof(attnMask));
        }

        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.dim() != 2 || keyPaddingMask.shape[0] != n || keyPaddingMask.shape[1] != s)
            {
                throw new ArgumentException(
                    $"keyPaddingMask must be [N, S] = [{n}, {s}], got [{string.Join(", ", keyPaddingMask.shape)}].", nameof(keyPaddingMask));
            }

            scores = ApplyMask(scores, keyPaddingMask.reshape(n, 1, 1, s), nameof(keyPaddingMask));
        }

        var attention = scores.softmax(-1);
        if (training && Dropout > 0)
        {
            attention = nn.functional.dropout(attention, Dropout, training: true);
        }

        var context = torch.matmul(attention, v).transpose(1, 2).reshape(n, l, EmbedDim);
        var output = _outProj.call(context);
        return (output, needWeights ? attention.mean([1L]) : null);
    }

    internal static IEnumerable<long> Divisors(long e)
    {
        for (long heads = 1; heads <= e; heads++)
        {
            if (e % heads == 0)
            {
                yield return heads;
            }
        }
    }

    /// <summary>A boolean mask sets the scores where it is true to −∞; a floating-point mask is added.</summary>
    private static Tensor ApplyMask(Tensor scores, Tensor mask, string name)
    {
        if (mask.dtype == ScalarType.Bool)
        {
            return scores.masked_fill(mask, double.NegativeInfinity);
        }

        if (!torch.is_floating_point(mask))
        {
            throw new ArgumentException($"{name} must be boolean (true = masked) or floating-point (added to the scores), got {mask.dtype}.", name);
        }

        return scores + mask;
    }

    private static void CheckRank(Tensor x, long rank, string name)
    {
        if (x.dim() != rank)
        {
            throw new ArgumentException($"{name} must have {rank} dimensions, got [{string.Join(", ", x.shape)}].", name);
        }
    }

    private static bool SourceRequiresGrad(Dictionary<string, Tensor> source, string name) => name switch
    {
        "q_proj.weight" => (source.GetValueOrDefault("in_proj_weight") ?? source["q_proj_weight"]).requires_grad,
        "k_proj.weight" => (source.GetValueOrDefault("in_proj_weight") ?? source["k_proj_weight"]).requires_grad,
        "v_proj.weight" => (source.GetValueOrDefault("in_proj_weight") ?? source["v_proj_weight"]).requires_grad,
        "q_proj.bias" or "k_proj.bias" or "v_proj.bias" => source["in_proj_bias"].requires_grad,
        _ => source[name].requires_grad,
    };

    private static bool Reproduces(DpMultiheadAttention candidate, MultiheadAttention fused)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var wasTraining = fused.training;
        fused.eval();
        candidate.eval();
        try
        {
            var reference = ((Linear)candidate._qProj).weight!;
            var generator = new Generator(2024, reference.device);
            var query = torch.randn([3, 2, candidate.EmbedDim], dtype: reference.dtype, device: reference.device, generator: generator);
            var key = torch.randn([4, 2, candidate.KeyDim], dtype: reference.dtype, device: reference.device, generator: generator);
            var value = torch.randn([4, 2, candidate.ValueDim], dtype: reference.dtype, device: reference.device, generator: generator);
            var expected = fused.call(query, key, value, null!, false, null!).Item1;
            var actual = candidate.call(query, key, value, null!, false, null!).Item1;
            return actual.allclose(expected, rtol: 1e-4, atol: 1e-5);
        }
        finally
        {
            fused.train(wasTraining);
        }
    }

    /// <summary>Copies the weights of a fused layer whose parameters are <paramref name="all"/>[prefix + name], and their requires_grad flags.</summary>
    internal void CopyFrom(IReadOnlyDictionary<string, Tensor> all, string prefix = "")
    {
        var source = all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        using var noGrad = torch.no_grad();
        var e = EmbedDim;
        if (source.TryGetValue("in_proj_weight", out var inProj))
        {
            ((Linear)_qProj).weight!.copy_(inProj.narrow(0, 0, e));
            ((Linear)_kProj).weight!.copy_(inProj.narrow(0, e, e));
            ((Linear)_vProj).weight!.copy_(inProj.narrow(0, 2 * e, e));
        }
        else
        {
            ((Linear)_qProj).weight!.copy_(source["q_proj_weight"]);
            ((Linear)_kProj).weight!.copy_(source["k_proj_weight"]);
            ((Linear)_vProj).weight!.copy_(source["v_proj_weight"]);
        }

        if (source.TryGetValue("in_proj_bias", out var inBias))
        {
            ((Linear)_qProj).bias!.copy_(inBias.narrow(0, 0, e));
            ((Linear)_kProj).bias!.copy_(inBias.narrow(0, e, e));
            ((Linear)_vProj).bias!.copy_(inBias.narrow(0, 2 * e, e));
            ((Linear)_outProj).bias!.copy_(source["out_proj.bias"]);
        }

        ((Linear)_outProj).weight!.copy_(source["out_proj.weight"]);
        foreach (var (name, p) in named_parameters())
        {
            p.requires_grad = SourceRequiresGrad(source, name);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _qProj.Dispose();
            _kProj.Dispose();
            _vProj.Dispose();
            _outProj.Dispose();
        }

        base.Dispose(disposing);
    }
}
