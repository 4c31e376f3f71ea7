using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// Root-mean-square layer normalisation (Zhang and Sennrich, "Root Mean Square Layer Normalization", NeurIPS 2019,
/// eq. 4), the function of PyTorch's <c>nn.RMSNorm</c>, which TorchSharp 0.107 lacks; its per-example gradients are
/// exact under DP-SGD (<see cref="PerSample.GradSamplerRegistry.Default"/> holds its sampler). With D the trailing
/// <see cref="NormalizedShape"/> axes of the input:
/// <code>
/// y = x / sqrt(mean_D(x²) + eps) ⊙ weight
/// </code>
/// Each position (every index of the leading axes) is normalised by its own statistics, so no example sees another.
/// </summary>
/// <remarks>
/// <para>Computed as PyTorch's <c>F.rms_norm</c> does (ATen <c>rms_norm_composite</c>): float16 and bfloat16 inputs are
/// upcast to float32 for the computation and the result is cast back to the input's type; with <c>eps</c> null the
/// epsilon is the machine epsilon of that computation type, 2⁻²³ ≈ 1.19e-7 for float32 (and float16, bfloat16) and
/// 2⁻⁵² ≈ 2.22e-16 for float64 — PyTorch's <c>eps=None</c>.</para>
/// <para>The parameter is named <c>weight</c> as in PyTorch, so state dicts carry over. There is no bias, as in PyTorch.</para>
/// </remarks>
public sealed class DpRmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly long[] _normalizedShape;

    /// <summary>Creates the layer; the weight starts at 1 (the identity scale), as PyTorch's.</summary>
    /// <param name="normalizedShape">Sizes of the trailing input axes to normalise over, at least one, each ≥ 1 (for a
    /// [B, T, 512] input usually <c>[512]</c>).</param>
    /// <param name="eps">Added to mean(x²) before the square root, ≥ 0; null (default) uses the machine epsilon of the
    /// computation type, as PyTorch's <c>eps=None</c> (see the remarks).</param>
    /// <param name="elementwiseAffine">Whether the layer has the learnable <see cref="Weight"/> of shape
    /// <paramref name="normalizedShape"/>.</param>
    /// <param name="device">Device of the weight (default CPU).</param>
    /// <param name="dtype">Element type of the weight (default float32).</param>
    /// <exception cref="ArgumentException"><paramref name="normalizedShape"/> is empty or has a size below 1, or
    /// <paramref name="eps"/> is negative or not finite.</exception>
    public DpRmsNorm(long[] normalizedShape, double? eps = null, bool elementwiseAffine = true, Device? device = null, ScalarType? dtype = null)
        : base(nameof(DpRmsNorm))
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(size => size < 1))
        {
            throw new ArgumentException(
                $"normalizedShape must name at least one axis, each of size ≥ 1; got [{string.Join(", ", normalizedShape)}].",
                nameof(normalizedShape));
        }

        if (eps is { } e && (!double.IsFinite(e) || e < 0))
        {
            throw new ArgumentException($"eps must be finite and ≥ 0, got {e}.", nameof(eps));
        }

        _normalizedShape = [.. normalizedShape];
        Eps = eps;
        ElementwiseAffine = elementwiseAffine;
        if (elementwiseAffine)
        {
            register_parameter("weight", new Parameter(torch.ones(_normalizedShape, dtype: dtype, device: device)));
        }
    }

    /// <summary>Sizes of the trailing input axes normalised over.</summary>
    public IReadOnlyList<long> NormalizedShape => _normalizedShape;

    /// <summary>The epsilon given to the constructor, or null for the machine epsilon of the computation type.</summary>
    public double? Eps { get; }

    /// <summary>Whether the layer has a learnable <see cref="Weight"/>.</summary>
    public bool ElementwiseAffine { get; }

    /// <summary>The learnable scale, shaped like <see cref="NormalizedShape"/>; null without elementwise affine.</summary>
    /// <remarks>Read through the module's parameter table: <c>Module.to(dtype)</c> replaces the parameter object.</remarks>
    public Parameter? Weight => ElementwiseAffine ? get_parameter("weight") : null;

    /// <summary>Normalises the trailing <see cref="NormalizedShape"/> axes of <paramref name="input"/>.</summary>
    /// <param name="input">[…, NormalizedShape…], floating point, any number of leading axes (the batch axis first
    /// under DP-SGD).</param>
    /// <returns>The normalised input, same shape and type.</returns>
    /// <exception cref="ArgumentException">The trailing axes of <paramref name="input"/> differ from <see cref="NormalizedShape"/>.</exception>
    public override Tensor forward(Tensor input)
    {
        CheckShape(input);
        var normalized = Normalize(input, _normalizedShape.Length, Epsilon(input.dtype));
        var weight = Weight;
        if (weight is not null)
        {
            normalized = normalized.mul(weight);
        }

        return normalized.to(input.dtype);
    }

    /// <summary>The type the normalisation is computed in: float32 for float16 and bfloat16 inputs, else the input's.</summary>
    internal static ScalarType ComputationType(ScalarType inputType) =>
        inputType is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : inputType;

    /// <summary>x / sqrt(mean(x²) + eps) over the last <paramref name="axes"/> axes, in the computation type.</summary>
    internal static Tensor Normalize(Tensor input, int axes, double eps)
    {
        var x = input.to(ComputationType(input.dtype));
        var dims = Enumerable.Range(1, axes).Select(i => (long)-i).ToArray();
        return x.mul(x.square().mean(dims, keepdim: true).add(eps).rsqrt());
    }

    /// <summary>The epsilon used for an input of type <paramref name="inputType"/>.</summary>
    internal double Epsilon(ScalarType inputType) =>
        Eps ?? (ComputationType(inputType) == ScalarType.Float64 ? Math.ScaleB(1.0, -52) : Math.ScaleB(1.0, -23));

    private void CheckShape(Tensor input)
    {
        var n = _normalizedShape.Length;
        if (input.dim() < n || !input.shape.AsSpan(input.shape.Length - n).SequenceEqual(_normalizedShape))
        {
            throw new ArgumentException(
                $"{nameof(DpRmsNorm)} normalises trailing axes [{string.Join(", ", _normalizedShape)}], but the input has shape " +
                $"[{string.Join(", ", input.shape)}].",
                nameof(input));
        }
    }
}
