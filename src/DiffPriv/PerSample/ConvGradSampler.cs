using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// Per-example gradients of <c>nn.Conv1d</c>, <c>nn.Conv2d</c> and <c>nn.Conv3d</c> (stride, padding including
/// <c>Padding.Same</c> and non-zero padding modes, dilation, groups) through unfold: with A = unfold(x) split by group into [B, g, L, K] and
/// G = ∂ℓ/∂y as [B, g, L, O/g], the per-example weight gradient of group k is G_kᵀA_k and the bias gradient is Σ_l G.
/// The columns K are ordered kernel offsets first, input channels last (a channels-last unfold, see
/// <see cref="UnfoldPositionsMajor"/>, one strided view for any number of spatial axes); only the final clipped sum is put
/// back in the weight's order. Microbatches of k examples are grouped here (after unfolding, which needs the per-example
/// layout): the k examples' positions are concatenated, [B, g, L, ·] → [B/k, g, k·L, ·].
/// </summary>
internal sealed class ConvGradSampler : IGradSampler
{
    /// <summary>Largest unfolded input of one chunk of examples on the materialising path (4 MiB).</summary>
    internal const long ColumnBudgetBytes = 4L << 20;

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
        var k = context.MicrobatchSize;
        var groups = conv.groups;
        var outWidth = conv.out_channels / groups;
        var width = conv.in_channels / groups * conv.kernel_size.Aggregate(1L, (acc, v) => acc * v);
        var positions = context.Records.Sum(r => Positions(r.OutputGradient));
        var elementSize = context.Records[0].OutputGradient.ElementSize;
        var sample = new CompositeLayerGradSample();
        if (context.TrainableParameters.TryGetValue("weight", out var weight))
        {
            var shape = weight.shape;
            var grouped = k * positions;
            var ghost = context.Resolve(grouped, groups * width * outWidth, 2 * groups * grouped * grouped, elementSize) == GradSampleMethod.Ghost;
            if (!ghost && k == 1)
            {
                var (parts, norms) = MaterializeInChunks(conv, context.Records, b, groups * positions * width * elementSize);
                sample.Add("weight", norms, c => ToWeightLayout(conv, WeightedSumOfChunks(parts, c), shape));
            }
            else
            {
                var a = GroupPositions(Columns(conv, context.Records, 0, b), k); // [B/k, g, k·L, K]
                var g = GroupPositions(Gradients(conv, context.Records, 0, b).transpose(2, 3), k); // [B/k, g, k·L, O/g]
                if (ghost)
                {
                    sample.Add("weight", PerSampleMath.GhostSquaredNorms(a, g), c => ToWeightLayout(conv, PerSampleMath.GhostClippedSum(a, g, c), shape));
                }
                else
                {
                    var psg = PerSampleMath.Materialize(a, g);
                    sample.Add("weight", PerSampleMath.RowSquaredNorms(psg), c => ToWeightLayout(conv, PerSampleMath.WeightedSum(psg, c), shape));
                }
            }
        }

        if (context.TrainableParameters.ContainsKey("bias"))
        {
            // Σ over positions (and records) of the output gradients, [B, Cout]; a microbatch sums its k examples.
            var gb = context.Records.Select(r => r.OutputGradient.reshape(b, conv.out_channels, -1).sum(2)).Aggregate((x, y) => x.add(y));
            if (k > 1)
            {
                gb = gb.reshape(b / k, k, -1).sum(1);
            }

            sample.Add("bias", PerSampleMath.RowSquaredNorms(gb), c => PerSampleMath.WeightedSum(gb, c));
        }

        return sample;
    }

    /// <summary>
    /// Per-example weight gradients G_iᵀA_i, [B, g·(O/g)·K] in the column layout (see <see cref="ToWeightLayout"/>), computed
    /// a chunk of examples at a time so that the unfolded input of a chunk stays within <see cref="ColumnBudgetBytes"/>: the
    /// columns are the largest intermediate (MNIST conv1 at B = 256: 12.8 MB, for 1 MB of gradients), and a chunk that
    /// stays in the cache is also faster. Returns the chunks, [len, g·(O/g)·K] each, in batch order, and the squared norms of
    /// all rows, [B] (taken per chunk while it is in the cache).
    /// </summary>
    private static (List<Tensor> Parts, Tensor SquaredNorms) MaterializeInChunks(Convolution conv, IReadOnlyList<LayerRecord> records, long b, long columnBytesPerExample)
    {
        var chunk = Math.Clamp(ColumnBudgetBytes / Math.Max(columnBytesPerExample, 1), 1, b);
        var groups = conv.groups;
        var parts = new List<Tensor>((int)((b + chunk - 1) / chunk));
        var norms = new List<Tensor>(parts.Capacity);
        for (var start = 0L; start < b; start += chunk)
        {
            var len = Math.Min(chunk, b - start);
            using var inner = torch.NewDisposeScope();
            var cols = Columns(conv, records, start, len); // [len, g, L, K]
            var grads = Gradients(conv, records, start, len); // [len, g, O/g, L]
            var (l, width, outWidth) = (cols.shape[2], cols.shape[3], grads.shape[2]);
            var part = grads.reshape(len * groups, outWidth, l).bmm(cols.reshape(len * groups, l, width)).reshape(len, -1);
            parts.Add(part.MoveToOuterDisposeScope());
            norms.Add(PerSampleMath.RowSquaredNorms(part).MoveToOuterDisposeScope());
        }

        return (parts, norms.Count == 1 ? norms[0] : torch.cat(norms));
    }

    /// <summary>Σ_i c_i psg_i over chunks of per-example gradients (batch order), [P].</summary>
    private static Tensor WeightedSumOfChunks(List<Tensor> parts, Tensor c)
    {
        Tensor? sum = null;
        var start = 0L;
        foreach (var part in parts)
        {
            var len = part.shape[0];
            var partial = PerSampleMath.WeightedSum(part, c.narrow(0, start, len));
            sum = sum is null ? partial : sum.add_(partial);
            start += len;
        }

        return sum!;
    }

    /// <summary>
    /// A gradient in the column layout [g, O/g, ∏k, Cin/g] (kernel offsets before input channels, as
    /// <see cref="UnfoldPositionsMajor"/> orders them), any shape with that many elements, in the weight's layout
    /// [O, Cin/g, k…].
    /// </summary>
    private static Tensor ToWeightLayout(Convolution conv, Tensor columnLayout, long[] weightShape)
    {
        var kernel = conv.kernel_size.Aggregate(1L, (acc, v) => acc * v);
        return columnLayout.reshape(conv.out_channels, kernel, conv.in_channels / conv.groups).transpose(1, 2).reshape(weightShape);
    }

    /// <summary>Number of output positions of one example (the product of the spatial dimensions).</summary>
    private static long Positions(Tensor outputGradient)
    {
        var positions = 1L;
        for (var i = 2; i < outputGradient.dim(); i++)
        {
            positions *= outputGradient.shape[i];
        }

        return positions;
    }

    /// <summary>Unfolded inputs of examples [start, start + len) of every record, positions concatenated: [len, g, L, K].</summary>
    private static Tensor Columns(Convolution conv, IReadOnlyList<LayerRecord> records, long start, long len)
    {
        var parts = records.Select(r => UnfoldPositionsMajor(conv, r.Input.narrow(0, start, len))).ToList();
        return parts.Count == 1 ? parts[0] : torch.cat(parts, 2);
    }

    /// <summary>Output gradients of examples [start, start + len) of every record, positions concatenated: [len, g, O/g, L].</summary>
    private static Tensor Gradients(Convolution conv, IReadOnlyList<LayerRecord> records, long start, long len)
    {
        var parts = records.Select(r => r.OutputGradient.narrow(0, start, len).reshape(len, conv.groups, conv.out_channels / conv.groups, -1)).ToList();
        return parts.Count == 1 ? parts[0] : torch.cat(parts, 3);
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

    /// <summary>
    /// The unfolded input in positions-major order, [B, g, L, ∏k·Cin/g]: for every output position (L = ∏ of the output
    /// sizes) its receptive field, kernel offsets outer (row-major over the n spatial axes, as the weight orders them) and
    /// the group's input channels inner. One strided view of a channels-last copy of the padded input, then one copy: the
    /// innermost copy runs over contiguous channels, about 2× faster on CPU than the channel-major order of F.unfold for
    /// the MNIST convolutions, and it works for any number of spatial axes (F.unfold takes 2-d inputs only).
    /// </summary>
    private static Tensor UnfoldPositionsMajor(Convolution conv, Tensor input)
    {
        var spatial = conv.kernel_size.Length;
        if (spatial is < 1 or > 3)
        {
            throw new NotSupportedException($"Only 1-d, 2-d and 3-d convolutions are supported, not {spatial}-d.");
        }

        if (input.dim() != spatial + 2)
        {
            throw new ArgumentException(
                $"Per-example gradients need a batched {spatial + 2}-d input to {conv.GetType().Name}, got shape [{string.Join(", ", input.shape)}].");
        }

        var x = Pad(conv, input);
        var order = new long[spatial + 2];
        order[0] = 0;
        for (var i = 0; i < spatial; i++)
        {
            order[1 + i] = 2 + i;
        }

        order[^1] = 1;
        x = x.permute(order).contiguous(); // [B, S_1, …, S_n, C]
        var (b, channels, groups) = (x.shape[0], x.shape[^1], conv.groups);
        var positions = new long[spatial];
        for (var i = 0; i < spatial; i++)
        {
            positions[i] = ((x.shape[1 + i] - (conv.dilation[i] * (conv.kernel_size[i] - 1)) - 1) / conv.stride[i]) + 1;
            if (positions[i] <= 0)
            {
                throw new ArgumentException(
                    $"The input [{string.Join(", ", input.shape)}] is smaller than the kernel of {conv.GetType().Name}.");
            }
        }

        // View [B, g, P_1, …, P_n, k_1, …, k_n, Cin/g]: an output position steps by stride, a kernel offset by dilation.
        var perGroup = channels / groups;
        var s = x.stride();
        var sizes = new List<long> { b, groups };
        var strides = new List<long> { s[0], perGroup * s[^1] };
        sizes.AddRange(positions);
        strides.AddRange(Enumerable.Range(0, spatial).Select(i => conv.stride[i] * s[1 + i]));
        sizes.AddRange(conv.kernel_size);
        strides.AddRange(Enumerable.Range(0, spatial).Select(i => conv.dilation[i] * s[1 + i]));
        sizes.Add(perGroup);
        strides.Add(s[^1]);
        var windows = x.as_strided([.. sizes], [.. strides], x.storage_offset());
        var kernel = conv.kernel_size.Aggregate(1L, (acc, v) => acc * v);
        return windows.reshape(b, groups, positions.Aggregate(1L, (acc, v) => acc * v), kernel * perGroup);
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
