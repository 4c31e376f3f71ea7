using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// An embedding bag with exact per-example gradients under DP-SGD: for each example, the sum or mean of the embedding
/// rows of its bag of ids, as TorchSharp's <c>nn.EmbeddingBag</c> computes for a 2-d input (one bag per row), with the
/// same weight layout [V, E] (copy the weight across to convert). Bags are the rows of one [B, L] id tensor; a bag
/// shorter than L is padded with <see cref="PaddingIndex"/>, whose entries are left out of the sum, the mean and the
/// gradient, as PyTorch's <c>padding_idx</c>.
/// </summary>
/// <remarks>
/// <para>With w_v the embedding row v and P the padding index, example i's output is
/// <c>Σ_{t: x_it ≠ P} w_{x_it}</c> (<see cref="EmbeddingBagMode.Sum"/>) or that sum divided by the number n_i of non-padding
/// ids of the bag (<see cref="EmbeddingBagMode.Mean"/>; zeros for a bag of padding only), shape [B, E].</para>
/// <para><b>Why no offsets.</b> <c>nn.EmbeddingBag</c> also takes a flat 1-d id tensor with bag offsets (variable-length
/// bags) and per-id weights, through a three-argument <c>call</c> that TorchSharp's forward hooks cannot see; and the
/// per-example gradient hooks need the batch axis first in what they keep, one row per example. So this layer takes the
/// two-dimensional form only: pad variable-length bags to [B, L] with the padding index instead of passing offsets. The
/// <c>Max</c> mode, <c>max_norm</c>, <c>scale_grad_by_freq</c> (it scales by counts over the whole batch, mixing
/// examples), per-id weights and sparse gradients are not offered.</para>
/// <para>Per-example gradient: row v of example i's weight gradient is s_i·c_iv·g_i, with g_i = ∂ℓ/∂output_i, c_iv the
/// number of non-padding positions of the bag holding v and s_i = 1 (sum) or 1/n_i (mean); its sampler forms it from
/// the rows each bag touches (ghost) or as a dense [V, E] per example (materialised), like <c>nn.Embedding</c>'s.</para>
/// </remarks>
public sealed class DpEmbeddingBag : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the layer, initialised as PyTorch does: every weight entry drawn from N(0, 1), the padding row zero.</summary>
    /// <param name="numEmbeddings">V, the number of rows (ids 0 … V − 1), ≥ 1.</param>
    /// <param name="embeddingDim">E, the size of each row, ≥ 1.</param>
    /// <param name="mode"><see cref="EmbeddingBagMode.Sum"/> or <see cref="EmbeddingBagMode.Mean"/> (the default, as
    /// <c>nn.EmbeddingBag</c>'s); <see cref="EmbeddingBagMode.Max"/> is refused.</param>
    /// <param name="paddingIndex">An id in [−V, V) whose entries are ignored (negative counts from the end, as PyTorch's
    /// <c>padding_idx</c>), or null for none.</param>
    /// <param name="device">Device of the weight (default CPU).</param>
    /// <param name="dtype">Element type of the weight (default float32).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, the mode is Max or unknown, or the padding index
    /// is outside [−V, V).</exception>
    public DpEmbeddingBag(
        long numEmbeddings,
        long embeddingDim,
        EmbeddingBagMode mode = EmbeddingBagMode.Mean,
        long? paddingIndex = null,
        Device? device = null,
        ScalarType? dtype = null)
        : base(nameof(DpEmbeddingBag))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEmbeddings, 1L);
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddingDim, 1L);
        if (mode is not (EmbeddingBagMode.Sum or EmbeddingBagMode.Mean))
        {
            throw new ArgumentOutOfRangeException(
                nameof(mode),
                mode,
                "DpEmbeddingBag supports the Sum and Mean modes; Max is not offered.");
        }

        if (paddingIndex is { } pad && (pad < -numEmbeddings || pad >= numEmbeddings))
        {
            throw new ArgumentOutOfRangeException(nameof(paddingIndex), pad, $"The padding index must be in [{-numEmbeddings}, {numEmbeddings}).");
        }

        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        Mode = mode;
        PaddingIndex = paddingIndex is { } p && p < 0 ? p + numEmbeddings : paddingIndex;
        var weight = torch.randn([numEmbeddings, embeddingDim], dtype: dtype, device: device);
        if (PaddingIndex is { } row)
        {
            weight[row] = torch.zeros(embeddingDim, dtype: weight.dtype, device: weight.device);
        }

        register_parameter("weight", new Parameter(weight));
    }

    /// <summary>V, the number of rows.</summary>
    public long NumEmbeddings { get; }

    /// <summary>E, the size of each row.</summary>
    public long EmbeddingDim { get; }

    /// <summary>How a bag's rows are reduced: <see cref="EmbeddingBagMode.Sum"/> or <see cref="EmbeddingBagMode.Mean"/>.</summary>
    public EmbeddingBagMode Mode { get; }

    /// <summary>The padding id in [0, V) (a negative index given to the constructor counted from the end), or null.</summary>
    public long? PaddingIndex { get; }

    /// <summary>The embedding table [V, E]; parameter name <c>weight</c>, as in <c>nn.EmbeddingBag</c>.</summary>
    /// <remarks>Read through the module's parameter table: <c>Module.to(dtype)</c> replaces the parameter object.</remarks>
    public Parameter Weight => get_parameter("weight")!;

    /// <summary>Reduces each row of <paramref name="input"/> (one bag per example) to one embedding.</summary>
    /// <param name="input">Ids [B, L], an integer type, each in [0, V); entries equal to <see cref="PaddingIndex"/> are
    /// ignored. L may be 0 (every output is then zero).</param>
    /// <returns>[B, E] in the weight's type: the sum, or mean, of the rows of each bag's non-padding ids.</returns>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not a 2-d integer tensor.</exception>
    public override Tensor forward(Tensor input)
    {
        CheckInput(input);
        var weight = Weight;
        var (b, l) = (input.shape[0], input.shape[1]);
        // The [B, L, E] rows are freed as soon as the bag is reduced (the reductions' backward keeps no copy of them),
        // rather than at the end of the caller's dispose scope: they are the largest tensor of the forward.
        using var rows = weight.index_select(0, input.flatten().to(ScalarType.Int64)).reshape(b, l, EmbeddingDim);
        if (PaddingIndex is null)
        {
            // Every position counts: the sum, or the mean over L (an empty bag, L = 0, gives zeros either way).
            return Mode == EmbeddingBagMode.Sum || l <= 1 ? rows.sum(1) : rows.mean([1L]);
        }

        var (mask, count) = MaskAndCount(input, weight.dtype);
        using var masked = rows.mul(mask.unsqueeze(-1));
        var sum = masked.sum(1);
        return Mode == EmbeddingBagMode.Sum ? sum : sum.div(count.unsqueeze(-1));
    }

    /// <summary>
    /// The factor by which each position's row enters its bag's output, [B, L]: 0 for padding, else 1 (sum) or 1/n_i
    /// (mean). The output is Σ_t factor_it · w_{x_it}, so the gradient reaching row x_it from example i is factor_it · g_i.
    /// </summary>
    internal Tensor PositionFactors(Tensor input, ScalarType dtype)
    {
        var (mask, count) = MaskAndCount(input, dtype);
        return Mode == EmbeddingBagMode.Sum ? mask : mask.div(count.unsqueeze(-1));
    }

    /// <summary>1 for non-padding positions, 0 for padding, [B, L]; and each bag's count of them, at least 1, [B].</summary>
    private (Tensor Mask, Tensor Count) MaskAndCount(Tensor input, ScalarType dtype)
    {
        var mask = PaddingIndex is { } pad ? input.ne(pad).to(dtype) : torch.ones(input.shape, dtype: dtype, device: input.device);
        return (mask, mask.sum(1).clamp_min(1.0));
    }

    private static void CheckInput(Tensor input)
    {
        if (input.dim() != 2 || !torch.is_integral(input.dtype) || input.dtype == ScalarType.Bool)
        {
            throw new ArgumentException(
                $"{nameof(DpEmbeddingBag)} takes ids [B, L] of an integer type (one bag per row, padded with the padding index), " +
                $"got {input.dtype} [{string.Join(", ", input.shape)}].",
                nameof(input));
        }
    }
}
