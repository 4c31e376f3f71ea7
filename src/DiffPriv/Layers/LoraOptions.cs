namespace DiffPriv.Layers;

/// <summary>
/// Options of <see cref="Lora.Apply"/>: the rank r, the scale α/r and the dropout of the low-rank adapters, and which
/// <c>nn.Linear</c> layers get one (Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022, §4.1).
/// </summary>
public sealed record LoraOptions
{
    private readonly double? _alpha;

    /// <summary>r ≥ 1, the rank of each adapter B·A (A is [r, in], B is [out, r]); at most min(in, out) of every adapted layer.</summary>
    public required int Rank { get; init; }

    /// <summary>
    /// α &gt; 0 (finite); the adapter's output is scaled by α/r. Default: α = <see cref="Rank"/>, a scale of 1. The LoRA paper
    /// sets α to the first r tried and does not tune it, because α acts as a learning-rate multiplier; a scale of 1 hides no
    /// such multiplier, which matters more under DP-SGD: the adapters' gradients grow with α/r, so α also changes how
    /// much clipping at C bites (PEFT's fixed default α = 8 would train rank 16 at scale ½ and rank 4 at scale 2).
    /// </summary>
    public double Alpha
    {
        get => _alpha ?? Rank;
        init => _alpha = value;
    }

    /// <summary>p ∈ [0, 1), the dropout applied to the adapter's input in training mode (the frozen base sees the undropped input). Default 0.</summary>
    public double Dropout { get; init; }

    /// <summary>
    /// Which <c>nn.Linear</c> layers get an adapter, by their path in <c>model.named_modules()</c>: a target matches a layer
    /// whose path equals it or ends with "." followed by it, so matching is by whole path segments — <c>"q_proj"</c>
    /// matches <c>"encoder.0.attn.q_proj"</c> but not <c>"attn.xq_proj"</c>, and <c>"0.attn.q_proj"</c> only the first
    /// block's. Null (the default): every <c>nn.Linear</c> in the model. Every layer a target matches must be an
    /// <c>nn.Linear</c>.
    /// </summary>
    public IReadOnlyList<string>? Targets { get; init; }

    /// <summary>α/r, the factor of the adapter's output.</summary>
    public double Scale => Alpha / Rank;

    /// <summary>Checks the values (the rank against each layer's size is checked by <see cref="Lora.Apply"/>).</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it and the valid range.</exception>
    public void Validate()
    {
        if (Rank < 1)
        {
            throw new ArgumentException($"LoRA Rank (r) must be ≥ 1 (got {Rank}).");
        }

        if (!(Alpha > 0 && double.IsFinite(Alpha)))
        {
            throw new ArgumentException($"LoRA Alpha (α) must be a finite number > 0 (got {Alpha}).");
        }

        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentException($"LoRA Dropout must be in [0, 1) (got {Dropout}).");
        }

        if (Targets is { } targets)
        {
            foreach (var target in targets)
            {
                if (string.IsNullOrWhiteSpace(target) || target.StartsWith('.') || target.EndsWith('.'))
                {
                    throw new ArgumentException(
                        $"Every LoRA target must be a module path or a suffix of whole path segments, such as \"q_proj\" or \"attn.q_proj\" (got \"{target}\").");
                }
            }
        }
    }
}
