using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// Per-example gradients of <c>nn.Conv1d</c> and <c>nn.Conv2d</c> (stride, padding including <c>Padding.Same</c> and
/// non-zero padding modes, dilation, groups) through unfold: with A = unfold(x) split by group into [B, g, L, K] and
/// G = ∂ℓ/∂y as [B, g, L, O/g], the per-example weight gradient of group k is G_kᵀA_k and the bias gradient is Σ_l G.
/// Conv1d is treated as a Conv2d of height 1. Microbatches of k examples are grouped here (after unfolding, which needs
/// the per-example layout): the k examples' positions are concatenated, [B, g, L, ·] → [B/k, g, k·L, ·].
/// </summary>
internal sealed class ConvGradSampler : IGradSampler
{
    public MicrobatchGrouping MicrobatchGrouping => MicrobatchGrouping.InSampler;

    public void Validate(string path, nn.Module layer)
    {
        var conv = (Convolution)layer;
        if (conv.transposed)
        {
            throw new UnsupportedLayerException(path, layer, "transposed convolutions have no grad sampler");
        }
    }

    public ILayerGradSample Compute(GradSampleContext context)
    {
        var conv = (Convolution)context.Module;
        var b = context.BatchSize;
        var groups = conv.groups;
        var sample = new CompositeLayerGradSample();
        Tensor g;
        Tensor? a = null;
        Tensor? psg = null;
        var ghost = false;
        var hasWeight = context.TrainableParameters.TryGetValue("weight", out var weight);

        if (hasWeight && TryConvolutionTrick(conv, context, out var direct, out var biasGrads))
        {
            // [B, Cout·Cin·∏k] per-example weight gradients without unfolding; the output gradients for the bias.
            var weightShape = weight!.shape;
            sample.Add("weight", PerSampleMath.RowSquaredNorms(direct), c => PerSampleMath.WeightedSum(direct, c).reshape(weightShape));
            if (context.TrainableParameters.ContainsKey("bias"))
            {
                sample.Add("bias", PerSampleMath.RowSquaredNorms(biasGrads), c => PerSampleMath.WeightedSum(biasGrads, c));
            }

            return sample;
        }

        // The unfolded input is the largest intermediate (MNIST conv1: 12.8 MB at B = 256). When the per-example
        // gradients are materialised it is not needed afterwards, so it lives in an inner scope and is freed as soon as
        // they exist, instead of staying alive until every layer has been processed.
        using (var inner = torch.NewDisposeScope())
        {
            // Natural layouts, no copies: columns [B, g, K, L] (K = Cin/g·∏k) and output gradients [B, g, O/g, L].
            var colParts = new List<Tensor>(context.Records.Count);
            var gradParts = new List<Tensor>(context.Records.Count);
            foreach (var record in context.Records)
            {
                var cols = Unfold(conv, record.Input); // [B, Cin·k, L]
                var l = cols.shape[2];
                colParts.Add(cols.reshape(b, groups, -1, l));
                gradParts.Add(record.OutputGradient.reshape(b, groups, conv.out_channels / groups, l));
            }

            var colsAll = colParts.Count == 1 ? colParts[0] : torch.cat(colParts, 3);
            var gradAll = gradParts.Count == 1 ? gradParts[0] : torch.cat(gradParts, 3);
            var k = context.MicrobatchSize;
            var (positions, width, outWidth) = (k * colsAll.shape[3], colsAll.shape[2], gradAll.shape[2]);
            if (hasWeight)
            {
                ghost = context.Resolve(positions, groups * width * outWidth, 2 * groups * positions * positions, colsAll.ElementSize) == GradSampleMethod.Ghost;
            }

            if (hasWeight && !ghost && k == 1)
            {
                // psg = G·Aᵀ per example and group straight from the natural layouts: bmm reads the transposed operand
                // through its strides, so neither operand is copied.
                var bg = b * groups;
                psg = gradAll.reshape(bg, outWidth, -1).bmm(colsAll.reshape(bg, width, -1).transpose(1, 2)).reshape(b, -1)
                    .MoveToOuterDisposeScope();
                g = gradAll.transpose(2, 3).MoveToOuterDisposeScope(); // [B, g, L, O/g], for the bias
            }
            else
            {
                var aAll = GroupPositions(colsAll.transpose(2, 3), k); // [B/k, g, k·L, K]
                g = GroupPositions(gradAll.transpose(2, 3), k).MoveToOuterDisposeScope(); // [B/k, g, k·L, O/g]
                if (hasWeight)
                {
                    if (ghost)
                    {
                        a = aAll.MoveToOuterDisposeScope();
                    }
                    else
                    {
                        psg = PerSampleMath.Materialize(aAll, g).MoveToOuterDisposeScope();
                    }
                }
            }
        }

        b = context.RecordCount;
        if (hasWeight)
        {
            var shape = weight!.shape;
            if (ghost)
            {
                sample.Add("weight", PerSampleMath.GhostSquaredNorms(a!, g), c => PerSampleMath.GhostClippedSum(a!, g, c).reshape(shape));
            }
            else
            {
                sample.Add("weight", PerSampleMath.RowSquaredNorms(psg!), c => PerSampleMath.WeightedSum(psg!, c).reshape(shape));
            }
        }

        if (context.TrainableParameters.ContainsKey("bias"))
        {
            var gb = g.sum(2).reshape(b, -1); // [B, g·O/g] = [B, Cout]
            sample.Add("bias", PerSampleMath.RowSquaredNorms(gb), c => PerSampleMath.WeightedSum(gb, c));
        }

        return sample;
    }

    /// <summary>
    /// Per-example weight gradients as one grouped convolution (the "conv trick" of Opacus): with the batch as channels,
    /// the padded input [Cin, B, H, W] convolved with the output gradients [B·Cout, 1, L_h, L_w] as kernels (groups = B,
    /// the layer's stride as dilation and its dilation as stride) gives ∂ℓ_i/∂W[o, c, ·, ·] at [c, i·Cout + o, ·, ·],
    /// cropped to the kernel size. Used only where it beats unfold + bmm: one record, k = 1, groups = 1, the materialised
    /// method, and many output positions per output channel (the unfolded input would be much larger than the gradients,
    /// e.g. MNIST conv1: 12.8 MB of columns for 1 MB of gradients).
    /// </summary>
    private static bool TryConvolutionTrick(Convolution conv, GradSampleContext context, out Tensor perExample, out Tensor biasGrads)
    {
        perExample = null!;
        biasGrads = null!;
        if (context.Records.Count != 1 || context.MicrobatchSize != 1 || conv.groups != 1)
        {
            return false;
        }

        var record = context.Records[0];
        var spatial = conv.kernel_size.Length;
        var gradient = record.OutputGradient;
        if (spatial is not (1 or 2) || record.Input.dim() != spatial + 2 || gradient.dim() != spatial + 2)
        {
            return false;
        }

        var b = context.BatchSize;
        var outChannels = conv.out_channels;
        var positions = 1L;
        for (var i = 2; i < gradient.dim(); i++)
        {
            positions *= gradient.shape[i];
        }

        var kernelSize = conv.kernel_size.Aggregate(1L, (acc, v) => acc * v);
        var width = conv.in_channels * kernelSize;
        if (positions < 4 * outChannels ||
            context.Resolve(positions, width * outChannels, 2 * positions * positions, gradient.ElementSize) != GradSampleMethod.Materialize)
        {
            return false;
        }

        var x = Pad(conv, record.Input);
        var g = gradient;
        if (spatial == 1)
        {
            x = x.unsqueeze(2);
            g = g.unsqueeze(2);
        }

        var kernel = spatial == 1 ? new[] { 1L, conv.kernel_size[0] } : new[] { conv.kernel_size[0], conv.kernel_size[1] };
        var dilation = spatial == 1 ? new[] { 1L, conv.dilation[0] } : new[] { conv.dilation[0], conv.dilation[1] };
        var stride = spatial == 1 ? new[] { 1L, conv.stride[0] } : new[] { conv.stride[0], conv.stride[1] };
        var (lh, lw) = (g.shape[2], g.shape[3]);
        var weights = g.reshape(b * outChannels, 1, lh, lw);
        var cin = x.shape[1];
        var full = nn.functional.conv2d(x.transpose(0, 1), weights, strides: dilation, dilation: stride, groups: b); // [Cin, B·Cout, ≥kh, ≥kw]
        var cropped = full.shape[2] == kernel[0] && full.shape[3] == kernel[1]
            ? full
            : full[.., .., ..(int)kernel[0], ..(int)kernel[1]];
        perExample = cropped.reshape(cin, b, outChannels, kernel[0] * kernel[1]).permute(1, 2, 0, 3).reshape(b, -1);
        biasGrads = g.sum([2L, 3L]); // [B, Cout]
        return true;
    }

    /// <summary>[B, g, L, D] → [B/k, g, k·L, D]: the positions of k consecutive examples become those of one record.</summary>
    private static Tensor GroupPositions(Tensor x, long k)
    {
        if (k == 1)
        {
            return x;
        }

        var (groups, l, d) = (x.shape[1], x.shape[2], x.shape[3]);
        return x.reshape(-1, k, groups, l, d).transpose(1, 2).reshape(-1, groups, k * l, d);
    }

    /// <summary>unfold(x) with the layer's geometry, [B, Cin·∏k, L]; 1-d convolutions become 2-d with height 1.</summary>
    private static Tensor Unfold(Convolution conv, Tensor input)
    {
        var spatial = conv.kernel_size.Length;
        if (spatial is not (1 or 2))
        {
            throw new NotSupportedException($"Only 1-d and 2-d convolutions are supported, not {spatial}-d.");
        }

        if (input.dim() != spatial + 2)
        {
            throw new ArgumentException(
                $"Per-example gradients need a batched {spatial + 2}-d input to {conv.GetType().Name}, got shape [{string.Join(", ", input.shape)}].");
        }

        var x = Pad(conv, input);
        if (spatial == 1)
        {
            x = x.unsqueeze(2);
        }

        x = x.contiguous();
        var kernel = spatial == 1 ? new[] { 1L, conv.kernel_size[0] } : new[] { conv.kernel_size[0], conv.kernel_size[1] };
        var dilation = spatial == 1 ? new[] { 1L, conv.dilation[0] } : new[] { conv.dilation[0], conv.dilation[1] };
        var stride = spatial == 1 ? new[] { 1L, conv.stride[0] } : new[] { conv.stride[0], conv.stride[1] };
        var (b, channels) = (x.shape[0], x.shape[1]);
        var positions = new long[2];
        for (var i = 0; i < 2; i++)
        {
            positions[i] = ((x.shape[2 + i] - (dilation[i] * (kernel[i] - 1)) - 1) / stride[i]) + 1;
        }

        if (positions[0] <= 0 || positions[1] <= 0)
        {
            throw new ArgumentException(
                $"The input [{string.Join(", ", input.shape)}] is smaller than the kernel of {conv.GetType().Name}.");
        }

        // im2col as a strided view copied once into [B, Cin, k…, L…] order: the same layout as F.unfold (channel, kernel
        // offsets, then output positions), but measurably faster than libtorch's unfold on CPU.
        var s = x.stride();
        var windows = x.as_strided(
            [b, channels, kernel[0], kernel[1], positions[0], positions[1]],
            [s[0], s[1], dilation[0] * s[2], dilation[1] * s[3], stride[0] * s[2], stride[1] * s[3]],
            x.storage_offset());
        return windows.reshape(b, channels * kernel[0] * kernel[1], positions[0] * positions[1]);
    }

    /// <summary>The input with the layer's padding applied explicitly (as its forward applies it); unpadded as is.</summary>
    private static Tensor Pad(Convolution conv, Tensor input)
    {
        var spatial = conv.kernel_size.Length;

        // Left and right padding per spatial dimension, as the layer's forward applies it.
        var left = new long[spatial];
        var right = new long[spatial];
        for (var i = 0; i < spatial; i++)
        {
            if (conv.padding is { } explicitPadding)
            {
                left[i] = right[i] = explicitPadding[i];
            }
            else if (conv.padding_type == Padding.Same)
            {
                var total = conv.dilation[i] * (conv.kernel_size[i] - 1);
                left[i] = total / 2;
                right[i] = total - left[i];
            }
        }

        var x = input;
        if (left.Any(v => v != 0) || right.Any(v => v != 0))
        {
            // F.pad takes (left, right) pairs starting from the last dimension.
            var pad = new long[2 * spatial];
            for (var i = 0; i < spatial; i++)
            {
                pad[2 * i] = left[spatial - 1 - i];
                pad[(2 * i) + 1] = right[spatial - 1 - i];
            }

            var mode = conv.padding_mode == PaddingModes.Zeros ? PaddingModes.Constant : conv.padding_mode;
            x = nn.functional.pad(x, pad, mode);
        }

        return x;
    }
}
