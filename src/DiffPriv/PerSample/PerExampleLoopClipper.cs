using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// The exact, slow fallback and the reference oracle: for each example, an ordinary backward of its loss alone (a batch of
/// one), its gradient norm, clipping by c_i = min(1, C / (‖g_i‖ + 1e-6)) and accumulation. Works for any model, including
/// layers without a grad sampler (but still requires that ℓ_i depends on example i only — no BatchNorm in train mode).
/// Costs about B backward passes (10–20× a <see cref="GradSampleHooks"/> step).
/// </summary>
/// <remarks>Existing <c>.grad</c> of the parameters is saved and restored; the model is otherwise untouched.</remarks>
public sealed class PerExampleLoopClipper
{
    private readonly nn.Module _model;

    /// <summary>Creates the clipper for <paramref name="model"/> (every parameter with requires_grad is included).</summary>
    /// <param name="model">The model; it stays owned by the caller.</param>
    public PerExampleLoopClipper(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>Clips and sums per-example gradients computed one example at a time.</summary>
    /// <param name="batchSize">Number of examples B ≥ 0.</param>
    /// <param name="exampleLoss">Given i in [0, B), runs the forward on example i alone and returns its scalar loss ℓ_i
    /// (a one-element tensor). Called once per example, each inside its own dispose scope.</param>
    /// <param name="clipping">The thresholds. For <see cref="ClippingMode.PerLayer"/> a layer is the module that owns a
    /// parameter directly (the parameter name without its last segment, e.g. <c>features.0</c>).</param>
    /// <returns>Same meaning and ownership as <see cref="GradSampleHooks.ClipAndSum(Tensor, ClippingOptions)"/>.</returns>
    /// <exception cref="NonFiniteGradientException">Some per-example norm is NaN or ±∞; names the examples.</exception>
    public ClippedSumResult ClipAndSum(long batchSize, Func<long, Tensor> exampleLoss, ClippingOptions clipping)
    {
        ArgumentNullException.ThrowIfNull(exampleLoss);
        ArgumentNullException.ThrowIfNull(clipping);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        clipping.Validate();
        using var scope = torch.NewDisposeScope();
        var parameters = Trainable();
        var layers = parameters.Select(p => LayerOf(p.Name)).Distinct().ToList();
        if (clipping.Mode == ClippingMode.PerLayer)
        {
            var missing = layers.Except(clipping.LayerMaxGradNorms!.Keys).ToList();
            if (missing.Count > 0)
            {
                throw new ArgumentException($"No per-layer threshold for layer(s) {string.Join(", ", missing)}.", nameof(clipping));
            }
        }

        var sums = parameters.ToDictionary(p => p.Name, p => torch.zeros_like(p.Parameter).detach());
        var totals = new double[batchSize];
        var layerNorms = layers.ToDictionary(l => l, _ => new double[batchSize]);
        var layerFactors = layers.ToDictionary(l => l, _ => new double[batchSize]);
        var bad = new List<long>();
        ForEachExample(parameters, batchSize, exampleLoss, (i, grads) =>
        {
            var layerSquares = layers.ToDictionary(l => l, _ => 0.0);
            foreach (var (name, g) in grads)
            {
                layerSquares[LayerOf(name)] += g.to(ScalarType.Float64).square().sum().item<double>();
            }

            totals[i] = Math.Sqrt(layerSquares.Values.Sum());
            foreach (var l in layers)
            {
                layerNorms[l][i] = Math.Sqrt(layerSquares[l]);
            }

            if (!double.IsFinite(totals[i]))
            {
                bad.Add(i);
                return;
            }

            foreach (var l in layers)
            {
                layerFactors[l][i] = clipping.IsWholeGradient
                    ? clipping.Factor(totals[i])
                    : ClippingOptions.ClipFactor(layerNorms[l][i], clipping.LayerMaxGradNorms![l]);
            }

            foreach (var (name, g) in grads)
            {
                sums[name].add_(g, alpha: layerFactors[LayerOf(name)][i]);
            }
        });

        if (bad.Count > 0)
        {
            throw new NonFiniteGradientException(bad);
        }

        Tensor? flat = clipping.IsWholeGradient
            ? torch.tensor(layers.Count > 0 ? layerFactors[layers[0]] : Enumerable.Repeat(1.0, (int)batchSize).ToArray(), dtype: ScalarType.Float64)
            : null;
        var result = new ClippedSumResult(
            sums,
            torch.tensor(totals, dtype: ScalarType.Float64),
            flat,
            layers.ToDictionary(l => l, l => torch.tensor(layerNorms[l], dtype: ScalarType.Float64)),
            layers.ToDictionary(l => l, l => flat ?? torch.tensor(layerFactors[l], dtype: ScalarType.Float64)));
        scope.MoveToOuter(result.AllTensors());
        return result;
    }

    /// <summary>
    /// Per-example gradients (one dictionary per example: parameter name → gradient), for tests and diagnostics.
    /// The tensors belong to the caller's current dispose scope.
    /// </summary>
    internal List<Dictionary<string, Tensor>> PerExampleGradients(long batchSize, Func<long, Tensor> exampleLoss)
    {
        var all = new List<Dictionary<string, Tensor>>();
        var outer = torch.NewDisposeScope();
        try
        {
            var parameters = Trainable();
            ForEachExample(parameters, batchSize, exampleLoss, (_, grads) =>
                all.Add(grads.ToDictionary(kv => kv.Key, kv => kv.Value.clone().MoveToOuterDisposeScope())));
            outer.MoveToOuter(all.SelectMany(d => d.Values));
        }
        finally
        {
            outer.Dispose();
        }

        return all;
    }

    /// <summary>c = min(1, C / (‖g‖ + 1e-6)), evaluated in float64 exactly as the hooks does.</summary>

    private static string LayerOf(string parameterName)
    {
        var dot = parameterName.LastIndexOf('.');
        return dot < 0 ? string.Empty : parameterName[..dot];
    }

    private List<(string Name, Tensor Parameter)> Trainable() =>
        _model.named_parameters().Where(np => np.parameter.requires_grad).Select(np => (np.name, (Tensor)np.parameter)).ToList();

    /// <summary>Runs one backward per example and hands its gradients (in a per-example scope) to <paramref name="visit"/>.</summary>
    private static void ForEachExample(
        List<(string Name, Tensor Parameter)> parameters,
        long batchSize,
        Func<long, Tensor> exampleLoss,
        Action<long, Dictionary<string, Tensor>> visit)
    {
        var saved = parameters.Select(p => p.Parameter.grad).ToList();
        foreach (var (_, p) in parameters)
        {
            p.grad = null;
        }

        try
        {
            for (var i = 0L; i < batchSize; i++)
            {
                using var scope = torch.NewDisposeScope();
                var loss = exampleLoss(i);
                if (loss.numel() != 1)
                {
                    throw new ArgumentException($"exampleLoss({i}) must return one value, got shape [{string.Join(", ", loss.shape)}].", nameof(exampleLoss));
                }

                if (loss.requires_grad && parameters.Count > 0)
                {
                    loss.sum().backward(inputs: parameters.Select(p => p.Parameter).ToList());
                }

                var grads = new Dictionary<string, Tensor>(parameters.Count);
                foreach (var (name, p) in parameters)
                {
                    grads[name] = p.grad?.detach().clone() ?? torch.zeros_like(p).detach();
                    p.grad = null;
                }

                visit(i, grads);
            }
        }
        finally
        {
            for (var k = 0; k < parameters.Count; k++)
            {
                parameters[k].Parameter.grad = saved[k];
            }
        }
    }
}
