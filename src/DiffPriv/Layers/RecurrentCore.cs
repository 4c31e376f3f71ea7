using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>The cell of a recurrent layer: one time step from the step's input projection and the previous state.</summary>
internal enum RecurrentCell
{
    /// <summary>PyTorch's LSTM: gates i, f, g, o; state (h, c).</summary>
    Lstm,

    /// <summary>PyTorch's GRU: gates r, z, n with n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); state h.</summary>
    Gru,
}

/// <summary>
/// What <see cref="DpLstm"/> and <see cref="DpGru"/> share: the stack of <see cref="RecurrentWeights"/> (one per layer
/// and direction, children <c>l0</c>, <c>l0_reverse</c>, <c>l1</c>, …), the layer and direction loop, initial states,
/// and weight copies to and from TorchSharp's fused modules. Each direction of each layer projects the whole input
/// sequence with W_ih in one matrix product, then runs T steps of one <c>addmm</c> with W_hh and the gate
/// nonlinearities, slicing the projection with <c>unbind</c> (one autograd node, where <c>select</c> per step would
/// materialise a full-size zero gradient per step in backward), and finally records the sequence for the per-example
/// gradient hooks (<see cref="RecurrentWeights.Record"/>).
/// </summary>
internal sealed class RecurrentCore
{
    private readonly RecurrentCell _cell;
    private readonly long _gates;

    public RecurrentCore(
        nn.Module owner,
        RecurrentCell cell,
        long inputSize,
        long hiddenSize,
        long numLayers,
        bool bias,
        bool batchFirst,
        double dropout,
        bool bidirectional,
        Device? device,
        ScalarType? dtype)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLayers, 1);
        if (!(dropout >= 0 && dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        }

        _cell = cell;
        _gates = cell == RecurrentCell.Lstm ? 4 : 3;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        HasBias = bias;
        BatchFirst = batchFirst;
        Dropout = dropout;
        Bidirectional = bidirectional;
        var directions = Directions;
        Weights = new RecurrentWeights[numLayers * directions];
        for (var layer = 0L; layer < numLayers; layer++)
        {
            var layerInput = layer == 0 ? inputSize : hiddenSize * directions;
            for (var d = 0L; d < directions; d++)
            {
                var k = (layer * directions) + d;
                Weights[k] = new RecurrentWeights(cell, layerInput, hiddenSize, bias, device, dtype);
                owner.register_module(ChildName(layer, d), Weights[k]);
            }
        }

        ResetParameters();
    }

    public long InputSize { get; }

    public long HiddenSize { get; }

    public long NumLayers { get; }

    public bool HasBias { get; }

    public bool BatchFirst { get; }

    public double Dropout { get; }

    public bool Bidirectional { get; }

    public long Directions => Bidirectional ? 2 : 1;

    /// <summary>The weights of (layer, direction) k = layer·directions + direction.</summary>
    public RecurrentWeights[] Weights { get; }

    /// <summary>PyTorch's parameter suffix: <c>_l0</c>, <c>_l0_reverse</c>, …</summary>
    public static string Suffix(long layer, long direction) => $"_l{layer}" + (direction == 1 ? "_reverse" : string.Empty);

    /// <summary>The child holding (layer, direction)'s weights: <c>l0</c>, <c>l0_reverse</c>, …</summary>
    public static string ChildName(long layer, long direction) => Suffix(layer, direction)[1..];

    /// <summary>PyTorch's initialisation of recurrent layers: every weight and bias uniform in ±1/√H.</summary>
    public void ResetParameters()
    {
        var bound = 1.0 / Math.Sqrt(HiddenSize);
        using var noGrad = torch.no_grad();
        foreach (var weights in Weights)
        {
            foreach (var p in weights.parameters())
            {
                p.uniform_(-bound, bound);
            }
        }
    }

    /// <summary>
    /// Runs the stack. <paramref name="input"/> is [B, T, in] (or [T, B, in] when not batch-first); states are
    /// [layers·directions, B, H]. Returns the last layer's hidden states [B, T, directions·H] (or [T, B, …]) and the final
    /// states [layers·directions, B, H].
    /// </summary>
    public (Tensor Output, Tensor Hidden, Tensor? Cell) Forward(Tensor input, Tensor? h0, Tensor? c0, bool training)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 3 || input.shape[2] != InputSize)
        {
            var layout = BatchFirst ? "[B, T, input]" : "[T, B, input]";
            throw new ArgumentException(
                $"The input must be {layout} with input = {InputSize}, got [{string.Join(", ", input.shape)}].",
                nameof(input));
        }

        var x = BatchFirst ? input : input.transpose(0, 1);
        var b = x.shape[0];
        var t = x.shape[1];
        if (t < 1)
        {
            throw new ArgumentException("The input sequence is empty (T = 0).", nameof(input));
        }

        var stateShape = new[] { NumLayers * Directions, b, HiddenSize };
        h0 = CheckState(h0, stateShape, "initial hidden state", x);
        if (_cell == RecurrentCell.Lstm)
        {
            c0 = CheckState(c0, stateShape, "initial cell state", x);
        }

        var initialH = h0.unbind(0);
        var initialC = c0?.unbind(0);
        var finalH = new Tensor[NumLayers * Directions];
        var finalC = new Tensor[NumLayers * Directions];
        for (var layer = 0L; layer < NumLayers; layer++)
        {
            if (layer > 0 && training && Dropout > 0)
            {
                x = nn.functional.dropout(x, Dropout, training: true);
            }

            var outputs = new Tensor[Directions];
            for (var d = 0L; d < Directions; d++)
            {
                var k = (layer * Directions) + d;
                var (output, h, c) = RunDirection(k, x, initialH[k], initialC?[k], reverse: d == 1);
                outputs[d] = output;
                finalH[k] = h;
                finalC[k] = c!;
            }

            x = Directions == 1 ? outputs[0] : torch.cat(outputs, 2);
        }

        var result = BatchFirst ? x : x.transpose(0, 1);
        return (result, torch.stack(finalH, 0), _cell == RecurrentCell.Lstm ? torch.stack(finalC, 0) : null);
    }

    /// <summary>Copies the weights of a TorchSharp <c>nn.LSTM</c>/<c>nn.GRU</c> (same sizes) into this stack.</summary>
    public void CopyFrom(nn.Module source) => Transfer(source, toSource: false);

    /// <summary>Sets each parameter's requires_grad as on the corresponding parameter of a TorchSharp recurrent module.</summary>
    public void CopyRequiresGradFrom(nn.Module source)
    {
        using var scope = torch.NewDisposeScope();
        var theirs = source.named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad);
        for (var k = 0L; k < NumLayers * Directions; k++)
        {
            var suffix = Suffix(k / Directions, k % Directions);
            foreach (var (name, p) in Weights[k].named_parameters())
            {
                p.requires_grad = theirs[name + suffix];
            }
        }
    }

    /// <summary>Copies this stack's weights into a TorchSharp <c>nn.LSTM</c>/<c>nn.GRU</c> of the same sizes.</summary>
    public void CopyTo(nn.Module target) => Transfer(target, toSource: true);

    /// <summary>
    /// The configuration of a TorchSharp recurrent module: sizes from its parameter shapes, batch-first from its private
    /// field (TorchSharp 0.107 does not expose it otherwise).
    /// </summary>
    public static (long InputSize, long HiddenSize, long NumLayers, bool Bias, bool BatchFirst, bool Bidirectional, ScalarType DType, Device Device)
        Describe(nn.Module module, long gates)
    {
        using var scope = torch.NewDisposeScope();
        var shapes = module.named_parameters().ToDictionary(p => p.name, p => (p.parameter.shape, p.parameter.dtype, p.parameter.device));
        if (!shapes.TryGetValue("weight_ih_l0", out var ih) || !shapes.TryGetValue("weight_hh_l0", out var hh))
        {
            throw new ArgumentException($"{module.GetType().Name} has no weight_ih_l0/weight_hh_l0 parameters.", nameof(module));
        }

        var hidden = hh.shape[1];
        if (hh.shape[0] != gates * hidden)
        {
            throw new ArgumentException(
                $"{module.GetType().Name}.weight_hh_l0 is [{string.Join(", ", hh.shape)}]; expected [{gates}·H, H].",
                nameof(module));
        }

        var layers = 0L;
        while (shapes.ContainsKey($"weight_ih_l{layers}"))
        {
            layers++;
        }

        var batchFirst = module.GetType().GetField("_batch_first", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(module) as bool?
            ?? throw new NotSupportedException(
                $"Cannot read batch_first from this TorchSharp {module.GetType().Name}; build the DP layer explicitly and copy the weights with CopyFrom.");
        return (ih.shape[1], hidden, layers, shapes.ContainsKey("bias_ih_l0"), batchFirst, shapes.ContainsKey("weight_ih_l0_reverse"), ih.dtype, ih.device);
    }

    private void Transfer(nn.Module other, bool toSource)
    {
        ArgumentNullException.ThrowIfNull(other);
        using var scope = torch.NewDisposeScope();
        var (inputSize, hiddenSize, layers, bias, _, bidirectional, _, _) = Describe(other, _gates);
        if (inputSize != InputSize || hiddenSize != HiddenSize || layers != NumLayers || bias != HasBias || bidirectional != Bidirectional)
        {
            throw new ArgumentException(
                $"Size mismatch: {other.GetType().Name}(input {inputSize}, hidden {hiddenSize}, layers {layers}, bias {bias}, bidirectional {bidirectional}) " +
                $"vs this layer (input {InputSize}, hidden {HiddenSize}, layers {NumLayers}, bias {HasBias}, bidirectional {Bidirectional}).",
                nameof(other));
        }

        var theirs = other.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = torch.no_grad();
        for (var k = 0L; k < NumLayers * Directions; k++)
        {
            var suffix = Suffix(k / Directions, k % Directions);
            foreach (var (name, p) in Weights[k].named_parameters())
            {
                Copy(p, theirs[name + suffix], toSource);
            }
        }
    }

    private static void Copy(Tensor ours, Tensor theirs, bool toTheirs)
    {
        if (toTheirs)
        {
            theirs.copy_(ours);
        }
        else
        {
            ours.copy_(theirs);
        }
    }

    private static Tensor CheckState(Tensor? state, long[] shape, string what, Tensor like)
    {
        if (state is null)
        {
            return torch.zeros(shape, dtype: like.dtype, device: like.device);
        }

        if (!state.shape.SequenceEqual(shape))
        {
            throw new ArgumentException(
                $"The {what} must be [layers·directions, B, H] = [{string.Join(", ", shape)}], got [{string.Join(", ", state.shape)}].",
                nameof(state));
        }

        return state;
    }

    /// <summary>One direction of one layer over the whole sequence x [B, T, in]; records it for the hooks.</summary>
    private (Tensor Output, Tensor H, Tensor? C) RunDirection(long k, Tensor x, Tensor h, Tensor? c, bool reverse)
    {
        var weights = Weights[k];
        var weightHh = weights.WeightHh.t();
        Tensor projection;
        Tensor? hiddenBias = null;
        if (_cell == RecurrentCell.Lstm)
        {
            // Both biases enter every gate pre-activation additively: add them once, to the input projection.
            projection = nn.functional.linear(x, weights.WeightIh, HasBias ? weights.BiasIh!.add(weights.BiasHh!) : null);
        }
        else
        {
            projection = nn.functional.linear(x, weights.WeightIh, weights.BiasIh);
            hiddenBias = weights.BiasHh;
        }

        if (torch.is_grad_enabled() && !projection.requires_grad && weights.parameters().Any(p => p.requires_grad))
        {
            // Only hidden-side parameters train (weight_ih and the input-side bias frozen, x from the data): the projection
            // is then a constant, but its gradient G is what the per-example gradients of W_hh are made of. Making it a
            // leaf that requires grad lets backward deliver G and the layer be recorded, instead of failing as unrecorded.
            projection.requires_grad_(true);
        }

        var projected = projection.unbind(1);
        var steps = projected.Length;
        var outputs = new Tensor[steps];
        var previous = new Tensor[steps];
        var resets = _cell == RecurrentCell.Gru ? new Tensor[steps] : null;
        for (var s = 0; s < steps; s++)
        {
            var t = reverse ? steps - 1 - s : s;
            previous[t] = h;
            if (_cell == RecurrentCell.Lstm)
            {
                (h, c) = LstmStep(torch.addmm(projected[t], h, weightHh, beta: 1, alpha: 1), c!);
            }
            else
            {
                var recurrent = hiddenBias is null ? h.mm(weightHh) : torch.addmm(hiddenBias, h, weightHh, beta: 1, alpha: 1);
                (h, resets![t]) = GruStep(projected[t], recurrent, h);
            }

            outputs[t] = h;
        }

        if (torch.is_grad_enabled() && projection.requires_grad)
        {
            // Per step: [x_t, h_{t−1}] (GRU: and the reset gate r_t), with the state before the step in the direction of time.
            Tensor record;
            using (torch.no_grad())
            {
                var parts = new List<Tensor> { x.detach(), torch.stack(previous, 1) };
                if (resets is not null)
                {
                    parts.Add(torch.stack(resets, 1));
                }

                record = torch.cat(parts, 2);
            }

            weights.Record(record, projection);
        }

        return (torch.stack(outputs, 1), h, c);
    }

    // gates = W_ih x + b_ih + W_hh h + b_hh = [i, f, g, o]; c' = σ(f) c + σ(i) tanh(g); h' = σ(o) tanh(c').
    private static (Tensor H, Tensor C) LstmStep(Tensor gates, Tensor c)
    {
        var chunks = gates.chunk(4, 1);
        var i = chunks[0].sigmoid();
        var f = chunks[1].sigmoid();
        var g = chunks[2].tanh();
        var o = chunks[3].sigmoid();
        var next = torch.addcmul(f.mul(c), i, g, 1.0);
        return (o.mul(next.tanh()), next);
    }

    // r, z = σ(x-part + h-part); n = tanh(x_n + r ⊙ (W_hn h + b_hn)); h' = (1 − z) n + z h = n + z (h − n).
    private static (Tensor H, Tensor R) GruStep(Tensor projected, Tensor recurrent, Tensor h)
    {
        var xs = projected.chunk(3, 1);
        var hs = recurrent.chunk(3, 1);
        var r = xs[0].add(hs[0]).sigmoid();
        var z = xs[1].add(hs[1]).sigmoid();
        var n = torch.addcmul(xs[2], r, hs[2], 1.0).tanh();
        return (torch.addcmul(n, z, h.sub(n), 1.0), r);
    }
}
