using DiffPriv.Layers;
using DiffPriv.PerSample;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Validation;

/// <summary>
/// Checks that a model can be trained with DP-SGD and repairs what can be repaired. Refused: layers that mix the
/// examples of a batch (BatchNorm: its statistics, and its running buffers, depend on every example in the batch),
/// trainable fused recurrent, attention and transformer layers (<c>nn.LSTM</c>, <c>nn.GRU</c>, <c>nn.RNN</c>,
/// <c>nn.MultiheadAttention</c>, <c>nn.TransformerEncoderLayer</c>, <c>nn.TransformerEncoder</c>: their weights are used
/// inside native kernels that no hook can see), a trainable <c>nn.EmbeddingBag</c> (its three-argument call cannot be
/// hooked; use <see cref="DpEmbeddingBag"/>), InstanceNorm with running statistics, and trainable parameters in a layer
/// with no per-example gradient method.
/// </summary>
public static class ModuleValidator
{
    /// <summary>Lists every problem; an empty list means the model can be made private.</summary>
    /// <param name="model">The model.</param>
    /// <param name="registry">The per-example gradient methods available (default: <see cref="GradSamplerRegistry.Default"/>).</param>
    /// <returns>The problems, in model order.</returns>
    public static IReadOnlyList<ModuleProblem> Validate(nn.Module model, GradSamplerRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        registry ??= GradSamplerRegistry.Default;
        var problems = new List<ModuleProblem>();
        var coveredPrefixes = new List<string>();
        foreach (var (path, module) in model.named_modules().Prepend((string.Empty, model)))
        {
            var type = module.GetType().Name;
            if (module is BatchNorm)
            {
                problems.Add(new ModuleProblem(
                    path,
                    type,
                    "BatchNorm normalises each example with statistics of the whole batch, so one example's gradient depends on the others and per-example clipping bounds nothing.",
                    "replace it with GroupNorm (ModuleValidator.Fix does this) or LayerNorm."));
                continue;
            }

            if ((RecurrentProblem(module) ?? AttentionProblem(module)) is { } fused)
            {
                problems.Add(new ModuleProblem(path, type, fused.Problem, fused.Fix));
                continue;
            }

            if (EmbeddingBagOrInstanceNormProblem(module) is { } layerProblem)
            {
                problems.Add(new ModuleProblem(path, type, layerProblem.Problem, layerProblem.Fix));
                continue;
            }

            var nonFinite = module.named_parameters(recurse: false)
                .Where(p => !p.parameter.detach().isfinite().all().item<bool>())
                .Select(p => p.name)
                .ToList();
            if (nonFinite.Count > 0)
            {
                problems.Add(new ModuleProblem(
                    path,
                    type,
                    $"its parameters ({string.Join(", ", nonFinite)}) contain NaN or infinite values, so every gradient would be refused.",
                    "initialise them (TorchSharp 0.107 leaves nn.GroupNorm's weight and bias uninitialised: fill the weight with 1 and the bias with 0 under no_grad)."));
            }

            if (coveredPrefixes.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal)))
            {
                continue;
            }

            if (registry.TryGetSampler(module.GetType(), out _))
            {
                coveredPrefixes.Add(path.Length == 0 ? string.Empty : path + ".");
                continue;
            }

            var own = module.named_parameters(recurse: false).Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
            if (own.Count > 0)
            {
                problems.Add(new ModuleProblem(
                    path,
                    type,
                    $"it has trainable parameters ({string.Join(", ", own)}) but no per-example gradient method is registered for {type}.",
                    $"freeze them (requires_grad = false), register an IGradSampler for {type}, or use the per-example loop (PerExampleLoopClipper)."));
            }
        }

        return problems;
    }

    /// <summary>Throws when <see cref="Validate"/> finds problems.</summary>
    /// <param name="model">The model.</param>
    /// <param name="registry">The per-example gradient methods available.</param>
    /// <exception cref="InvalidModuleException">The model cannot be trained privately; the message lists every problem and its fix.</exception>
    public static void ThrowIfInvalid(nn.Module model, GradSamplerRegistry? registry = null)
    {
        var problems = Validate(model, registry);
        if (problems.Count > 0)
        {
            throw new InvalidModuleException(problems);
        }
    }

    /// <summary>
    /// Repairs <paramref name="model"/> in place:
    /// <list type="bullet">
    /// <item>every BatchNorm1d/2d/3d becomes a GroupNorm over the same channels, with the largest group count ≤ 32 that
    /// divides the channel count. The new layers start from the identity transform (weight 1, bias 0); learned BatchNorm
    /// statistics are not carried over;</item>
    /// <item>every <c>nn.LSTM</c> / <c>nn.GRU</c> with a trainable parameter becomes a <see cref="DpLstmDropIn"/> /
    /// <see cref="DpGruDropIn"/>: the same function with the same weights, requires_grad flags, batch-first setting and
    /// call signature, whose parameters have per-example gradients. TorchSharp does not expose the fused
    /// module's inter-layer dropout, so the replacement has none. The parent must hold the layer in a field whose type
    /// can hold the replacement, e.g. <c>nn.Module&lt;Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)&gt;</c> for an
    /// LSTM (a field declared as <c>LSTM</c> cannot);</item>
    /// <item>every trainable <c>nn.MultiheadAttention</c>, <c>nn.TransformerEncoderLayer</c> and <c>nn.TransformerEncoder</c>
    /// becomes a <see cref="DpMultiheadAttention"/>, <see cref="DpTransformerEncoderLayer"/> or
    /// <see cref="DpTransformerEncoder"/> with TorchSharp's default dropouts (0 and 0.1); see
    /// <see cref="Fix(nn.Module, ModuleFixOptions)"/> to give others.</item>
    /// </list>
    /// <c>nn.RNN</c> is left as it is (its nonlinearity cannot be read): <see cref="Validate"/> names the way out.
    /// </summary>
    /// <param name="model">The model; changed in place and returned.</param>
    /// <returns>The same model.</returns>
    /// <exception cref="NotSupportedException">A layer to replace is held in a field whose type cannot hold its replacement,
    /// or a fused attention or transformer layer cannot be reproduced.</exception>
    public static nn.Module Fix(nn.Module model) => Fix(model, new ModuleFixOptions());

    /// <summary>
    /// <see cref="Fix(nn.Module)"/> with options for what TorchSharp does not expose about fused layers. Besides what
    /// <see cref="Fix(nn.Module)"/> replaces, every trainable <c>nn.MultiheadAttention</c>, <c>nn.TransformerEncoderLayer</c>
    /// and <c>nn.TransformerEncoder</c> becomes a <see cref="DpMultiheadAttention"/>, <see cref="DpTransformerEncoderLayer"/>
    /// or <see cref="DpTransformerEncoder"/> with the same weights (head count and activation found by probing the fused
    /// layer in evaluation mode; dropout from <paramref name="options"/>). The parent's field must be of the generic module
    /// type, e.g. <c>nn.Module&lt;Tensor, Tensor, Tensor, Tensor&gt;</c> for an encoder. The replacements treat a boolean
    /// attention mask as PyTorch documents (true = not allowed), whereas TorchSharp 0.107's fused layers add it to the scores
    /// as 0/1: a model that passes boolean attention masks to the fused layers computes something else after the fix
    /// (see <see cref="DpMultiheadAttention"/>).
    /// </summary>
    /// <param name="model">The model; changed in place and returned.</param>
    /// <param name="options">Dropout of the fused layers.</param>
    /// <returns>The same model.</returns>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="NotSupportedException">A layer to replace is held in a field whose type cannot hold its replacement,
    /// or a fused attention or transformer layer cannot be reproduced (see <see cref="DpMultiheadAttention.FromTorch"/>).</exception>
    public static nn.Module Fix(nn.Module model, ModuleFixOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        foreach (var (_, parent) in model.named_modules().Prepend((string.Empty, model)).ToList())
        {
            foreach (var (name, child) in parent.named_children().ToList())
            {
                switch (child)
                {
                    case BatchNorm bn:
                        ModuleReplacement.Replace(parent, name, bn, ToGroupNorm(bn), FieldAdvice(bn));
                        break;
                    case LSTM lstm when HasTrainable(lstm):
                        ModuleReplacement.Replace(parent, name, lstm, DpLstmDropIn.FromTorch(lstm), FieldAdvice(lstm));
                        break;
                    case GRU gru when HasTrainable(gru):
                        ModuleReplacement.Replace(parent, name, gru, DpGruDropIn.FromTorch(gru), FieldAdvice(gru));
                        break;
                    case MultiheadAttention attention when HasTrainable(attention):
                        ModuleReplacement.Replace(parent, name, attention, DpMultiheadAttention.FromTorch(attention, options.AttentionDropout), FieldAdvice(attention));
                        break;
                    case TransformerEncoderLayer layer when HasTrainable(layer):
                        ModuleReplacement.Replace(parent, name, layer, DpTransformerEncoderLayer.FromTorch(layer, options.TransformerDropout), FieldAdvice(layer));
                        break;
                    case TransformerEncoder encoder when HasTrainable(encoder):
                        ModuleReplacement.Replace(parent, name, encoder, DpTransformerEncoder.FromTorch(encoder, options.TransformerDropout), FieldAdvice(encoder));
                        break;
                    default:
                        break;
                }
            }
        }

        return model;
    }

    private static bool HasTrainable(nn.Module module)
    {
        using var scope = torch.NewDisposeScope();
        return module.named_parameters().Any(p => p.parameter.requires_grad);
    }

    /// <summary>The problem and fix for a trainable fused attention or transformer layer, or null for any other module.</summary>
    private static (string Problem, string Fix)? AttentionProblem(nn.Module module)
    {
        if (module is not (MultiheadAttention or TransformerEncoderLayer or TransformerEncoder) || !HasTrainable(module))
        {
            return null;
        }

        var type = module.GetType().Name;
        var replacement = module switch
        {
            MultiheadAttention => "DpMultiheadAttention",
            TransformerEncoderLayer => "DpTransformerEncoderLayer",
            _ => "DpTransformerEncoder",
        };
        return (
            $"the fused nn.{type} runs its weights inside native kernels that forward hooks cannot see, so it has no per-example gradients.",
            $"replace it with {replacement} (the same function, built from Linear and LayerNorm layers; {replacement}.FromTorch copies the weights). " +
            "ModuleValidator.Fix does this in place.");
    }

    /// <summary>The problem and fix for a trainable fused recurrent layer, or null for any other module.</summary>
    private static (string Problem, string Fix)? RecurrentProblem(nn.Module module)
    {
        if (module is not (LSTM or GRU or RNN) || !HasTrainable(module))
        {
            return null;
        }

        var type = module.GetType().Name;
        const string Why = "runs its weights inside one fused native kernel that forward hooks cannot see, so it has no per-example gradients.";
        return module switch
        {
            LSTM => ($"the fused nn.LSTM {Why}",
                "replace it with DpLstm (same equations and weight layout; DpLstm.FromTorch copies the weights). ModuleValidator.Fix " +
                "does this in place with DpLstmDropIn, which keeps nn.LSTM's call signature."),
            GRU => ($"the fused nn.GRU {Why}",
                "replace it with DpGru (same equations and weight layout; DpGru.FromTorch copies the weights). ModuleValidator.Fix " +
                "does this in place with DpGruDropIn, which keeps nn.GRU's call signature."),
            _ => ($"the fused nn.{type} {Why}",
                "rebuild the model with DpGru or DpLstm (gated cells, per-example gradients supported), freeze the layer, or use the " +
                "per-example loop (PerExampleLoopClipper)."),
        };
    }

    /// <summary>
    /// The problem and fix for a trainable <c>nn.EmbeddingBag</c> (its three-argument call cannot be hooked) or for an
    /// InstanceNorm that tracks running statistics (even frozen: its buffers hold batch statistics released without noise),
    /// or null for any other module.
    /// </summary>
    private static (string Problem, string Fix)? EmbeddingBagOrInstanceNormProblem(nn.Module module) => module switch
    {
        EmbeddingBag when HasTrainable(module) => (
            "nn.EmbeddingBag is called with (input, offsets, per_sample_weights), which TorchSharp's forward hooks cannot see, so it has no per-example gradients.",
            "replace it with DpEmbeddingBag (the Sum and Mean modes, the same [V, E] weight: copy it across) and pad the bags to [B, L] " +
            "with its padding index instead of passing offsets."),
        InstanceNorm { track_running_stats: true } => (
            "it tracks running statistics: in training mode each forward adds the batch mean of the instance statistics to running_mean and " +
            "running_var, buffers released with the model without noise, and in evaluation mode it normalises with them, so outputs depend on other examples.",
            "build it with track_running_stats = false (each example is then normalised by its own statistics), or use GroupNorm or LayerNorm."),
        _ => null,
    };

    private static GroupNorm ToGroupNorm(BatchNorm bn)
    {
        var channels = bn.num_features;
        var groups = Enumerable.Range(1, 32).Where(g => channels % g == 0).Max();
        var reference = bn.weight ?? bn.running_mean;
        var gn = nn.GroupNorm(groups, channels, eps: bn.eps, affine: true, device: reference?.device, dtype: reference?.dtype);
        // TorchSharp 0.107 leaves GroupNorm's affine parameters uninitialised (measured: weights of ±1e28): set the
        // identity transform explicitly.
        using (torch.no_grad())
        {
            gn.weight!.fill_(1.0);
            gn.bias!.zero_();
        }

        gn.train(bn.training);
        return gn;
    }

    private static string FieldAdvice(nn.Module old) => old switch
    {
        LSTM => "Declare the field as Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)>, or build the model with DpLstm.",
        GRU => "Declare the field as Module<Tensor, Tensor?, (Tensor, Tensor)>, or build the model with DpGru.",
        MultiheadAttention => "Declare the field as Module<Tensor, Tensor, Tensor, Tensor, bool, Tensor, Tuple<Tensor, Tensor>>, or build the model with DpMultiheadAttention.",
        TransformerEncoderLayer => "Declare the field as Module<Tensor, Tensor>, or build the model with DpTransformerEncoderLayer.",
        TransformerEncoder => "Declare the field as Module<Tensor, Tensor, Tensor, Tensor>, or build the model with DpTransformerEncoder.",
        _ => "Declare the field as Module<Tensor, Tensor>, or build the model with GroupNorm.",
    };
}
