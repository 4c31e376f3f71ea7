using DiffPriv.Validation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// Private fine-tuning with low-rank adapters (LoRA; Hu et al., ICLR 2022; for DP: Yu et al., "Differentially Private
/// Fine-tuning of Language Models", ICLR 2022): <see cref="Apply"/> wraps chosen <c>nn.Linear</c> layers of a model in
/// <see cref="LoraLinear"/> and freezes everything else, so that DP-SGD clips and noises only the adapters;
/// <see cref="Merge"/> folds them back for deployment.
/// </summary>
/// <remarks>
/// <para>With the privacy engine, the optimizer is built over the trainable parameters only (the frozen ones would make
/// <see cref="Optim.DpOptimizer"/> refuse it: it must cover exactly the parameters that get a private gradient):</para>
/// <code>
/// var lora = Lora.Apply(model, new LoraOptions { Rank = 8, Targets = ["q_proj", "v_proj"] });
/// var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters().Where(p =&gt; p.requires_grad), 0.5),
///     dataset, new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 1.0, ExpectedBatchSize = 256 });
/// // … the usual loop: zero_grad, Backward(per-example loss), step …
/// Lora.Merge(model); // plain nn.Linear layers again
/// </code>
/// <para>Noise is added to <see cref="LoraResult.TrainableParameters"/> coordinates instead of the whole model's, which is
/// why LoRA helps DP-SGD: the noise norm grows as σC·√d with the dimension d, the signal does not.</para>
/// </remarks>
public static class Lora
{
    private const string ApplyAdvice =
        "TorchSharp's Linear is sealed, so a field declared as Linear cannot hold a LoraLinear: declare it as " +
        "nn.Module<Tensor, Tensor>, or wrap the layer yourself (new LoraLinear(linear, rank)).";

    private const string MergeAdvice =
        "Declare the field as nn.Module<Tensor, Tensor>, or merge the layer yourself (LoraLinear.Merge()).";

    /// <summary>
    /// Adds a <see cref="LoraLinear"/> adapter to every <c>nn.Linear</c> that <see cref="LoraOptions.Targets"/> selects
    /// (replacing it in its parent: a field or <c>nn.Sequential</c> slot) and freezes every other parameter of the model
    /// (requires_grad = false), so that afterwards <c>model.parameters().Where(p =&gt; p.requires_grad)</c> are exactly
    /// the adapters' A and B weights. All or nothing: when a layer cannot be replaced, the model is left as it was.
    /// </summary>
    /// <param name="model">The model; changed in place. Its layers must be called with <c>call</c> through the field or
    /// list that holds them (a parent that reads a layer's weight directly does not see the adapter).</param>
    /// <param name="options">The rank, α, dropout and targets.</param>
    /// <returns>The adapted paths and the trainable and total parameter counts.</returns>
    /// <exception cref="ArgumentException">An option is out of range, no <c>nn.Linear</c> matches the targets (the
    /// message names the targets and the model's <c>nn.Linear</c> paths), a target matches a module that is not an
    /// <c>nn.Linear</c>, or the rank exceeds min(in, out) of a selected layer.</exception>
    /// <exception cref="InvalidOperationException">The model already has LoRA adapters.</exception>
    /// <exception cref="NotSupportedException">A selected layer is held in a field that cannot hold a <see cref="LoraLinear"/>
    /// (e.g. declared as <c>Linear</c>); nothing was changed.</exception>
    public static LoraResult Apply(nn.Module model, LoraOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var modules = model.named_modules().ToList();
        var existing = modules.Prepend((string.Empty, model)).Where(m => m.Item2 is LoraLinear).Select(m => $"'{m.Item1}'").ToList();
        if (existing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The model already has LoRA adapters ({string.Join(", ", existing)}): Apply would freeze them. " +
                "Merge them first (Lora.Merge), or adapt every layer in one Apply.");
        }

        var selected = Select(model, modules, options.Targets);
        foreach (var (path, linear) in selected)
        {
            var weight = linear.weight!;
            LoraLinear.CheckRank(options.Rank, weight.shape[1], weight.shape[0], $"'{path}'");
        }

        var byPath = modules.ToDictionary(m => m.name, m => m.module);
        byPath[string.Empty] = model;
        var flags = RequiresGrad(model);
        var replacements = new List<Replacement>();
        try
        {
            foreach (var (path, linear) in selected)
            {
                replacements.Add(new Replacement(Parent(byPath, path), Name(path), linear, new LoraLinear(linear, options.Rank, options.Alpha, options.Dropout)));
            }

            ReplaceAll(replacements, ApplyAdvice);
        }
        catch
        {
            foreach (var lora in replacements.Select(r => (LoraLinear)r.New))
            {
                lora.LoraA.Dispose();
                lora.LoraB.Dispose();
            }

            SetRequiresGrad(model, name => flags[name]); // the LoraLinear constructors froze the bases
            throw;
        }

        var adapters = replacements
            .Select(r => (LoraLinear)r.New)
            .SelectMany(l => new[] { l.LoraA.weight!, l.LoraB.weight! })
            .ToList();
        SetRequiresGrad(model, _ => false);
        foreach (var adapter in adapters)
        {
            adapter.requires_grad = true;
        }

        var (trainable, total) = Count(model);
        return new LoraResult(selected.Select(s => s.Path).ToList(), trainable, total);
    }

    /// <summary>
    /// Replaces every <see cref="LoraLinear"/> inside <paramref name="model"/> by its <see cref="LoraLinear.Merge"/>d
    /// <c>nn.Linear</c> (weight W₀ + (α/r)·B·A, bias b₀, frozen like the base). The model then computes what the adapted
    /// model computes in evaluation mode, with the original architecture and no adapter cost. Other parameters keep
    /// their requires_grad flags; the replaced layers are not disposed. All or nothing, like <see cref="Apply"/>.
    /// </summary>
    /// <param name="model">The model; changed in place. A model that is itself a <see cref="LoraLinear"/> is not
    /// replaced: call its <see cref="LoraLinear.Merge"/>.</param>
    /// <returns>The merged paths, in <c>named_modules()</c> order (empty when the model has no adapters).</returns>
    /// <exception cref="NotSupportedException">An adapter is held in a field that cannot hold an <c>nn.Linear</c>; nothing was changed.</exception>
    public static IReadOnlyList<string> Merge(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var modules = model.named_modules().ToList();
        var byPath = modules.ToDictionary(m => m.name, m => m.module);
        byPath[string.Empty] = model;
        var adapted = modules.Where(m => m.module is LoraLinear).Select(m => (Path: m.name, Layer: (LoraLinear)m.module)).ToList();
        var replacements = adapted.Select(a => new Replacement(Parent(byPath, a.Path), Name(a.Path), a.Layer, a.Layer.Merge())).ToList();
        try
        {
            ReplaceAll(replacements, MergeAdvice);
        }
        catch (NotSupportedException)
        {
            foreach (var r in replacements)
            {
                r.New.Dispose();
            }

            throw;
        }

        return adapted.Select(a => a.Path).ToList();
    }

    /// <summary>Makes every replacement, or none: when one fails, those already made (and the failed one's partial field
    /// changes) are undone before the exception propagates.</summary>
    private static void ReplaceAll(List<Replacement> replacements, string advice)
    {
        for (var i = 0; i < replacements.Count; i++)
        {
            var r = replacements[i];
            try
            {
                ModuleReplacement.Replace(r.Parent, r.Name, r.Old, r.New, advice);
            }
            catch (NotSupportedException)
            {
                for (var j = i; j >= 0; j--)
                {
                    var done = replacements[j];
                    try
                    {
                        ModuleReplacement.Replace(done.Parent, done.Name, done.New, done.Old, advice);
                    }
                    catch (NotSupportedException) when (j == i)
                    {
                        // The failed replacement changed no field: nothing of it to undo.
                    }
                }

                throw;
            }
        }
    }

    /// <summary>The layers the targets select, in <c>named_modules()</c> order; null targets: every nn.Linear.</summary>
    private static List<(string Path, Linear Layer)> Select(nn.Module model, List<(string name, nn.Module module)> modules, IReadOnlyList<string>? targets)
    {
        var selected = new List<(string Path, Linear Layer)>();
        foreach (var (path, module) in modules)
        {
            var target = targets is null ? null : targets.FirstOrDefault(t => Matches(path, t));
            if (targets is not null && target is null)
            {
                continue;
            }

            if (module is Linear linear)
            {
                selected.Add((path, linear));
            }
            else if (target is not null)
            {
                throw new ArgumentException(
                    $"LoRA target \"{target}\" matches '{path}', a {module.GetType().Name}: only nn.Linear layers can be adapted. " +
                    "Name its nn.Linear children instead (e.g. \"q_proj\" for the query projection of an attention layer).");
            }
        }

        if (selected.Count == 0)
        {
            var linears = modules.Where(m => m.module is Linear).Select(m => $"'{m.name}'").ToList();
            var searched = targets is null ? "any nn.Linear" : $"the targets [{string.Join(", ", targets.Select(t => $"\"{t}\""))}]";
            var root = model is Linear ? " The model itself is an nn.Linear: wrap it directly (new LoraLinear(model, rank))." : string.Empty;
            throw new ArgumentException(
                $"No layer of the model matches {searched}: a target matches a module path equal to it or ending in \".\" followed by it. " +
                $"The model's nn.Linear paths: [{string.Join(", ", linears)}].{root}");
        }

        return selected;
    }

    private static bool Matches(string path, string target) =>
        path.Length > 0 && (path == target || path.EndsWith("." + target, StringComparison.Ordinal));

    private static nn.Module Parent(Dictionary<string, nn.Module> byPath, string path)
    {
        var dot = path.LastIndexOf('.');
        return byPath[dot < 0 ? string.Empty : path[..dot]];
    }

    private static string Name(string path) => path[(path.LastIndexOf('.') + 1)..];

    private static Dictionary<string, bool> RequiresGrad(nn.Module model)
    {
        using var scope = torch.NewDisposeScope(); // Embedding hands out a new Parameter wrapper per read
        return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad);
    }

    private static void SetRequiresGrad(nn.Module model, Func<string, bool> requiresGrad)
    {
        using var scope = torch.NewDisposeScope();
        foreach (var (name, parameter) in model.named_parameters())
        {
            parameter.requires_grad = requiresGrad(name);
        }
    }

    private static (long Trainable, long Total) Count(nn.Module model)
    {
        using var scope = torch.NewDisposeScope();
        var parameters = model.parameters().ToList();
        return (parameters.Where(p => p.requires_grad).Sum(p => p.numel()), parameters.Sum(p => p.numel()));
    }

    private sealed record Replacement(nn.Module Parent, string Name, nn.Module Old, nn.Module New);
}
