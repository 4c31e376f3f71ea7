using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// A low-rank adapter around a frozen <c>nn.Linear</c> (LoRA: Hu et al., "LoRA: Low-Rank Adaptation of Large Language
/// Models", ICLR 2022, eq. 3): y = W₀x + b₀ + (α/r)·B·A·dropout(x), shapes x [*, in] → y [*, out], with the base W₀ [out, in]
/// and b₀ [out] frozen (requires_grad false), A [r, in] and B [out, r] trainable. A starts Kaiming-uniform (a = √5) and B at
/// zero, as in PEFT and loralib, so the layer starts out computing exactly what the base computes.
/// </summary>
/// <remarks>
/// <para>Children (state-dict names follow PEFT without its adapter-name level): <c>base_layer</c> (the original layer),
/// <c>lora_A</c> = <c>nn.Linear(in, r, hasBias: false)</c>, <c>lora_B</c> = <c>nn.Linear(r, out, hasBias: false)</c> and,
/// when p &gt; 0, <c>lora_dropout</c>. The layer has no parameters of its own and is not a registered layer type: the
/// per-example gradient hooks (<c>GradSampleHooks</c>) hook <c>lora_A</c> and <c>lora_B</c> as the ordinary
/// <c>nn.Linear</c> layers they are, and skip the frozen base. All children are run with <c>call</c>.</para>
/// <para>Usually made by <see cref="Lora.Apply"/>; <see cref="Merge"/> (or <see cref="Lora.Merge"/>) folds the adapter
/// back into a plain <c>nn.Linear</c> for deployment.</para>
/// </remarks>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    // The component names keep TorchSharp's RegisterComponents (run when a parent registers this layer) from registering
    // the fields a second time under their C# names.
    [ComponentName(Name = "base_layer")]
    private readonly Linear _baseLayer;
    [ComponentName(Name = "lora_A")]
    private readonly Linear _loraA;
    [ComponentName(Name = "lora_B")]
    private readonly Linear _loraB;
    [ComponentName(Name = "lora_dropout")]
    private readonly nn.Module<Tensor, Tensor>? _dropout;

    /// <summary>
    /// Wraps <paramref name="baseLayer"/> and freezes it: its weight and bias get requires_grad = false. The adapters are
    /// created on the base's device, with its dtype and training mode.
    /// </summary>
    /// <param name="baseLayer">The layer to adapt; it becomes the child <c>base_layer</c> (not copied).</param>
    /// <param name="rank">r, 1 ≤ r ≤ min(in, out).</param>
    /// <param name="alpha">α &gt; 0; null means α = r (scale 1, see <see cref="LoraOptions.Alpha"/>).</param>
    /// <param name="dropout">p ∈ [0, 1), dropout on the adapter's input in training mode.</param>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public LoraLinear(Linear baseLayer, int rank, double? alpha = null, double dropout = 0.0)
        : base(nameof(LoraLinear))
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        var options = new LoraOptions { Rank = rank, Alpha = alpha ?? rank, Dropout = dropout };
        options.Validate();
        var weight = baseLayer.weight ?? throw new ArgumentException("The base layer has no weight.", nameof(baseLayer));
        var (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1]);
        CheckRank(rank, inFeatures, outFeatures, "the base layer");

        Rank = rank;
        Alpha = options.Alpha;
        Dropout = dropout;
        _baseLayer = baseLayer;
        _loraA = nn.Linear(inFeatures, rank, hasBias: false, device: weight.device, dtype: weight.dtype);
        _loraB = nn.Linear(rank, outFeatures, hasBias: false, device: weight.device, dtype: weight.dtype);
        using (torch.no_grad())
        {
            nn.init.kaiming_uniform_(_loraA.weight!, a: Math.Sqrt(5));
            _loraB.weight!.zero_();
        }

        weight.requires_grad = false;
        if (baseLayer.bias is { } bias)
        {
            bias.requires_grad = false;
        }

        register_module("base_layer", _baseLayer);
        register_module("lora_A", _loraA);
        register_module("lora_B", _loraB);
        if (dropout > 0)
        {
            _dropout = nn.Dropout(dropout);
            register_module("lora_dropout", _dropout);
        }

        train(baseLayer.training);
    }

    /// <summary>The frozen original layer (W₀, b₀).</summary>
    public Linear BaseLayer => _baseLayer;

    /// <summary>A, the down-projection <c>nn.Linear(in, r, hasBias: false)</c>: weight [r, in].</summary>
    public Linear LoraA => _loraA;

    /// <summary>B, the up-projection <c>nn.Linear(r, out, hasBias: false)</c>: weight [out, r], zero at creation.</summary>
    public Linear LoraB => _loraB;

    /// <summary>r, the rank of B·A.</summary>
    public int Rank { get; }

    /// <summary>α; the adapter's output is scaled by <see cref="Scale"/> = α/r.</summary>
    public double Alpha { get; }

    /// <summary>α/r.</summary>
    public double Scale => Alpha / Rank;

    /// <summary>p, the dropout probability on the adapter's input (0: none).</summary>
    public double Dropout { get; }

    /// <summary>y = base(x) + (α/r)·B(A(dropout(x))).</summary>
    /// <param name="input">x [*, in].</param>
    /// <returns>y [*, out].</returns>
    public override Tensor forward(Tensor input)
    {
        var result = _baseLayer.call(input);
        var adapterInput = _dropout is null ? input : _dropout.call(input);
        return result.add(_loraB.call(_loraA.call(adapterInput)), alpha: Scale);
    }

    /// <summary>
    /// A new plain <c>nn.Linear</c> computing what this layer computes in evaluation mode: weight W₀ + (α/r)·B·A (formed in
    /// float64, then rounded once to the base's dtype), bias b₀. It has the base's device, dtype, training mode and
    /// requires_grad flags (frozen, unless they were changed). This layer is not changed.
    /// </summary>
    /// <returns>The merged layer, for deployment: no adapter cost at inference.</returns>
    public Linear Merge()
    {
        var weight = _baseLayer.weight!;
        var bias = _baseLayer.bias;
        var merged = nn.Linear(weight.shape[1], weight.shape[0], hasBias: bias is not null, device: weight.device, dtype: weight.dtype);
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var delta = _loraB.weight!.to(ScalarType.Float64).mm(_loraA.weight!.to(ScalarType.Float64)).mul(Scale);
            merged.weight!.copy_(weight.to(ScalarType.Float64).add(delta));
            if (bias is not null)
            {
                merged.bias!.copy_(bias);
            }
        }

        merged.weight!.requires_grad = weight.requires_grad;
        if (bias is not null)
        {
            merged.bias!.requires_grad = bias.requires_grad;
        }

        merged.train(training);
        return merged;
    }

    /// <summary>Throws unless 1 ≤ r ≤ min(in, out) (a larger rank adds parameters but no expressiveness).</summary>
    internal static void CheckRank(int rank, long inFeatures, long outFeatures, string layer)
    {
        if (rank > Math.Min(inFeatures, outFeatures))
        {
            throw new ArgumentException(
                $"LoRA Rank (r = {rank}) must be at most min(in, out) = {Math.Min(inFeatures, outFeatures)} for {layer} (nn.Linear({inFeatures}, {outFeatures})).");
        }
    }
}
