using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// The per-example gradient hooks (<c>GradSampleHooks</c>) (Book-Keeping): forward hooks keep each trainable layer's input and output; ONE
/// backward of Σ_i ℓ_i restricted to the kept layer outputs gives their gradients; per-example gradient norms are
/// computed per layer (ghost norm or materialised, see <see cref="GradSampleMethod"/>); the sum of clipped per-example
/// gradients is formed directly from the kept tensors weighted by the clip factors. Parameter <c>.grad</c> is never
/// touched. Reference: Bu et al., "Differentially Private Optimization on Large Model at Small Cost" (Book-Keeping), 2023;
/// Goodfellow, "Efficient per-example gradient computations" (ghost norm), 2015.
/// </summary>
/// <remarks>
/// <para>Usage, one step (inside <c>torch.NewDisposeScope()</c>, which the hooks requires to free its tensors):</para>
/// <code>
/// using var scope = torch.NewDisposeScope();
/// using var step = gsm.BeginStep();
/// var losses = F.cross_entropy(model.call(x), y, reduction: Reduction.None); // [B]
/// var result = gsm.ClipAndSum(losses, maxGradNorm: 1.0);
/// </code>
/// <para>Requirements and limitations:</para>
/// <list type="bullet">
/// <item>Every parameter that requires grad must belong to a module whose exact type has a sampler in the registry
/// (checked at construction; frozen parameters are skipped).</item>
/// <item>Layers must be run with <c>module.call(x)</c>: TorchSharp runs forward hooks only from <c>call</c>. A hooked layer
/// that recorded nothing while the loss depends on its parameters raises <see cref="UnrecordedLayerException"/>. Not
/// detected: a layer that is called once through <c>call</c> and <em>again</em> through <c>forward</c> in the same
/// step — the second use is missing from its gradient.</item>
/// <item><c>perExampleLoss[i]</c> must depend on example i only (no batch-mean normalisation, no BatchNorm).</item>
/// <item>Layer inputs and outputs must not be modified in place after the layer (e.g. <c>relu_</c> on a Linear output):
/// the kept tensors would no longer be what the layer saw.</item>
/// <item>While a step is recording, a hooked layer's <c>call</c> returns an alias (a view) of its output, and the hooks
/// keeps the original output handle until the step is disposed (so parents that dispose intermediates, like
/// <c>nn.Sequential</c>, are fine).</item>
/// <item>Not thread-safe; one step at a time.</item>
/// </list>
/// </remarks>
public sealed class GradSampleHooks : IDisposable
{
    private readonly List<HookedLayer> _layers = [];
    private readonly HashSet<string> _trainableNames;
    private readonly GradSampleOptions _options;
    private GradSampleStep? _activeStep;
    private bool _disposed;

    /// <summary>Wraps <paramref name="model"/>: validates coverage and registers forward hooks on the trainable layers.</summary>
    /// <param name="model">The model; it stays owned by the caller (disposing this wrapper only removes the hooks).</param>
    /// <param name="registry">Layer type → sampler, e.g. <see cref="GradSamplerRegistry.Default"/>.</param>
    /// <param name="options">Method and memory budget; defaults when null.</param>
    /// <exception cref="UnsupportedLayerException">A trainable parameter is outside every supported layer.</exception>
    public GradSampleHooks(nn.Module model, GradSamplerRegistry registry, GradSampleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(registry);
        _options = options ?? new GradSampleOptions();
        _options.Validate();
        Module = model;

        using var scope = torch.NewDisposeScope();
        _trainableNames = TrainableNames(model);
        var covered = new HashSet<string>();
        var coveringPrefixes = new List<string>();
        var seen = new Dictionary<nn.Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (path, module) in model.named_modules().Prepend((string.Empty, model)))
        {
            if (!seen.TryAdd(module, path))
            {
                // One module under two names (e.g. registered by its parent and again under a differently named field)
                // would be hooked twice: each forward recorded twice, its gradient counted twice, the clipping bound broken.
                RemoveHooks();
                throw new UnsupportedLayerException(
                    path,
                    module,
                    $"the same module is registered under two paths, '{seen[module]}' and '{path}' (a field whose name differs from the name it " +
                    "was registered under?); its gradient would be counted twice. Register each child once, e.g. with [ComponentName] on the field");
            }

            if (coveringPrefixes.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal)))
            {
                continue; // inside a registered (leaf) module: its sampler covers it
            }

            if (registry.TryGetSampler(module.GetType(), out var sampler))
            {
                coveringPrefixes.Add(path.Length == 0 ? string.Empty : path + ".");
                var local = module.named_parameters().Where(np => np.parameter.requires_grad).Select(np => np.name).ToList();
                if (local.Count == 0)
                {
                    continue;
                }

                if (module is not nn.Module<Tensor, Tensor> hookable)
                {
                    throw new UnsupportedLayerException(path, module, "it is not a Module<Tensor, Tensor>, so it cannot be hooked");
                }

                sampler.Validate(path, module);
                var layer = new HookedLayer(path, hookable, sampler, local);
                layer.Hook = hookable.register_forward_hook((_, input, output) => OnForward(layer, input, output));
                _layers.Add(layer);
                covered.UnionWith(local.Select(name => FullName(path, name)));
                if (path.Length == 0)
                {
                    break; // the root itself is registered: nothing else to walk
                }
            }
            else
            {
                var own = module.named_parameters(recurse: false).Where(np => np.parameter.requires_grad).Select(np => np.name).ToList();
                if (own.Count > 0)
                {
                    RemoveHooks();
                    throw new UnsupportedLayerException(
                        path,
                        module,
                        $"no grad sampler is registered for {module.GetType().Name} (trainable: {string.Join(", ", own)})");
                }
            }
        }

        var missing = _trainableNames.Except(covered).ToList();
        if (missing.Count > 0)
        {
            RemoveHooks();
            throw new InvalidOperationException($"Trainable parameters not covered by any hooked layer: {string.Join(", ", missing)}.");
        }
    }

    /// <summary>The wrapped model.</summary>
    public nn.Module Module { get; }

    /// <summary>Paths of the hooked trainable layers (the keys of per-layer clipping thresholds), in model order.</summary>
    public IReadOnlyList<string> LayerPaths => _layers.Select(l => l.Path).ToList();

    /// <summary>Full names of the trainable parameters (the keys of <see cref="ClippedSumResult.Gradients"/>).</summary>
    public IReadOnlyCollection<string> ParameterNames => _trainableNames;

    /// <summary>
    /// Starts a step: from now until the step is disposed, hooked layers record their inputs and outputs whenever the
    /// model runs with gradients enabled. Dispose the step after <see cref="ClipAndSum(Tensor, ClippingOptions)"/>.
    /// </summary>
    /// <returns>The step; disposing it stops recording and frees what was kept.</returns>
    /// <exception cref="InvalidOperationException">A step is already active.</exception>
    public GradSampleStep BeginStep()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_activeStep is not null)
        {
            throw new InvalidOperationException("A step is already active: dispose it before beginning another.");
        }

        _activeStep = new GradSampleStep(this);
        return _activeStep;
    }

    /// <summary>Flat clipping: <see cref="ClipAndSum(Tensor, ClippingOptions)"/> with <see cref="ClippingOptions.Flat"/>.</summary>
    /// <param name="perExampleLoss">ℓ_i for each example, shape [B], computed from this step's forward.</param>
    /// <param name="maxGradNorm">C ≥ 0 (L2); +∞ means no clipping.</param>
    /// <returns>The clipped sum, norms and clip factors; see <see cref="ClippedSumResult"/> for ownership.</returns>
    public ClippedSumResult ClipAndSum(Tensor perExampleLoss, double maxGradNorm) =>
        ClipAndSum(perExampleLoss, ClippingOptions.Flat(maxGradNorm));

    /// <summary>
    /// Runs the one backward pass of the step and returns Σ_i c_i·∂ℓ_i/∂θ for every trainable parameter, with
    /// c_i = min(1, C / (‖g_i‖ + 1e-6)) (per layer in <see cref="ClippingMode.PerLayer"/>). Can be called once per step.
    /// Same as <see cref="ClipAndSum(Tensor, ClippingOptions, long)"/> with microbatch size 1.
    /// </summary>
    /// <param name="perExampleLoss">ℓ_i for each example, shape [B] (B may be 0), computed from this step's forward;
    /// each ℓ_i must depend on example i only.</param>
    /// <param name="clipping">The thresholds.</param>
    /// <returns>The clipped sum, norms and clip factors; see <see cref="ClippedSumResult"/> for ownership.</returns>
    /// <exception cref="NonFiniteGradientException">A per-example norm is NaN or ±∞; names the examples.</exception>
    /// <exception cref="UnrecordedLayerException">The loss depends on a layer that recorded nothing (called via <c>forward</c>).</exception>
    /// <exception cref="InvalidOperationException">No active step, or it was already used.</exception>
    /// <exception cref="ArgumentException">The loss is not [B], or the layers saw a different batch size.</exception>
    public ClippedSumResult ClipAndSum(Tensor perExampleLoss, ClippingOptions clipping) => ClipAndSum(perExampleLoss, clipping, 1);

    /// <summary>
    /// TF Privacy-style microbatches: the B examples are split into M = B/k consecutive groups of k; the record of group
    /// m is the gradient of its mean loss, g_m = ∂((1/k) Σ_{i∈m} ℓ_i)/∂θ; each record is clipped with
    /// c_m = min(1, C / (‖g_m‖ + 1e-6)) (per layer in <see cref="ClippingMode.PerLayer"/>) and the result is Σ_m c_m·g_m.
    /// Exact, with the same single backward pass as per-example clipping (k = 1). Can be called once per step.
    /// </summary>
    /// <param name="perExampleLoss">ℓ_i for each example, shape [B] (B may be 0), computed from this step's forward;
    /// each ℓ_i must depend on example i only.</param>
    /// <param name="clipping">The thresholds, applied per record.</param>
    /// <param name="microbatchSize">k ≥ 1, the number of examples per record; must divide B. 1 is per-example clipping.</param>
    /// <returns>The clipped sum; <see cref="ClippedSumResult.PerExampleNorms"/>, the clip factors and the layer norms are
    /// per record (a record being a microbatch), length M = B/k. See <see cref="ClippedSumResult"/> for ownership.</returns>
    /// <exception cref="NonFiniteGradientException">A record norm is NaN or ±∞; names the records (microbatch indices).</exception>
    /// <exception cref="UnrecordedLayerException">The loss depends on a layer that recorded nothing (called via <c>forward</c>).</exception>
    /// <exception cref="InvalidOperationException">No active step, or it was already used.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="microbatchSize"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">The loss is not [B], B is not a multiple of <paramref name="microbatchSize"/>,
    /// the layers saw a different batch size, or (k &gt; 1) a layer's sampler does not support microbatches.</exception>
    public ClippedSumResult ClipAndSum(Tensor perExampleLoss, ClippingOptions clipping, long microbatchSize)
    {
        ArgumentNullException.ThrowIfNull(perExampleLoss);
        ArgumentNullException.ThrowIfNull(clipping);
        ArgumentOutOfRangeException.ThrowIfLessThan(microbatchSize, 1L);
        ObjectDisposedException.ThrowIf(_disposed, this);
        clipping.Validate();
        var step = _activeStep ?? throw new InvalidOperationException("ClipAndSum needs an active step: call BeginStep() before the forward.");
        if (step.Used)
        {
            throw new InvalidOperationException("ClipAndSum was already called in this step; begin a new step and run the forward again.");
        }

        if (perExampleLoss.dim() != 1)
        {
            throw new ArgumentException(
                $"perExampleLoss must have shape [B] (one loss per example), got [{string.Join(", ", perExampleLoss.shape)}].",
                nameof(perExampleLoss));
        }

        if (perExampleLoss.shape[0] % microbatchSize != 0)
        {
            throw new ArgumentException(
                $"The batch of {perExampleLoss.shape[0]} examples cannot be split into microbatches of {microbatchSize}: " +
                "the batch size must be a multiple of the microbatch size.",
                nameof(microbatchSize));
        }

        if (microbatchSize > 1)
        {
            var unsupported = _layers.Where(l => l.Sampler.MicrobatchGrouping == MicrobatchGrouping.Unsupported).Select(l => $"'{l.Path}'").ToList();
            if (unsupported.Count > 0)
            {
                throw new ArgumentException(
                    $"Microbatches (k = {microbatchSize}) are not supported by the grad samplers of layer(s) {string.Join(", ", unsupported)}.",
                    nameof(microbatchSize));
            }
        }

        if (clipping.Mode == ClippingMode.PerLayer)
        {
            CheckLayerThresholds(clipping.LayerMaxGradNorms!);
        }

        step.Used = true;
        var b = perExampleLoss.shape[0];
        using var scope = torch.NewDisposeScope();
        CheckTrainableSetUnchanged();
        var parameters = _layers.ToDictionary(l => l, l => l.TrainableParameters());
        var result = b == 0 ? EmptyResult(parameters, clipping) : Compute(perExampleLoss, b, microbatchSize, clipping, parameters);
        scope.MoveToOuter(result.AllTensors());
        return result;
    }

    /// <summary>Removes the hooks; the model itself is not disposed.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _activeStep?.Dispose();
        RemoveHooks();
        _disposed = true;
    }

    /// <summary>Paths of the hooked layers whose samplers cannot group examples into one record (<see cref="MicrobatchGrouping.Unsupported"/>).</summary>
    internal IReadOnlyList<string> LayersWithoutGrouping() =>
        [.. _layers.Where(l => l.Sampler.MicrobatchGrouping == MicrobatchGrouping.Unsupported).Select(l => l.Path)];

    /// <summary>Whether a step is active and not yet used (a forward run now would be recorded).</summary>
    internal bool IsRecording => _activeStep is { Used: false };

    /// <summary>Ends the active step, if any (freeing what it kept), and begins a fresh one.</summary>
    /// <returns>The new step.</returns>
    internal GradSampleStep Rearm()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _activeStep?.Dispose();
        _activeStep = new GradSampleStep(this);
        return _activeStep;
    }

    internal void EndStep(GradSampleStep step)
    {
        if (!ReferenceEquals(step, _activeStep))
        {
            return;
        }

        foreach (var layer in _layers)
        {
            layer.ClearRecords();
        }

        _activeStep = null;
    }

    private static string FullName(string path, string local) => path.Length == 0 ? local : $"{path}.{local}";

    private static HashSet<string> TrainableNames(nn.Module model) =>
        model.named_parameters().Where(np => np.parameter.requires_grad).Select(np => np.name).ToHashSet();

    private Tensor OnForward(HookedLayer layer, Tensor input, Tensor output)
    {
        if (_activeStep is { Used: false } && torch.is_grad_enabled() && output.requires_grad)
        {
            // The hook owns both kept tensors: parents such as nn.Sequential dispose intermediate outputs, so the
            // original output handle is kept (it is the tensor whose gradient backward(inputs:) computes) and the
            // caller continues with an alias of it (a view: gradients flow through it to the kept output).
            layer.Records.Add((input.detach().DetachFromDisposeScope(), output.DetachFromDisposeScope()));
            return output.alias();
        }

        return null!; // keep the output
    }

    private void CheckTrainableSetUnchanged()
    {
        var now = TrainableNames(Module);
        if (!now.SetEquals(_trainableNames))
        {
            throw new InvalidOperationException(
                "The set of trainable parameters changed since the model was wrapped (requires_grad was toggled); " +
                "wrap the model again so that coverage is re-checked.");
        }
    }

    private void CheckLayerThresholds(IReadOnlyDictionary<string, double> thresholds)
    {
        var expected = _layers.Select(l => l.Path).ToHashSet();
        var missing = expected.Except(thresholds.Keys).ToList();
        var extra = thresholds.Keys.Except(expected).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            throw new ArgumentException(
                $"Per-layer clipping needs exactly one threshold per trainable layer ({string.Join(", ", expected.Select(p => $"'{p}'"))}); " +
                $"missing: [{string.Join(", ", missing)}], unknown: [{string.Join(", ", extra)}].",
                nameof(thresholds));
        }
    }

    private ClippedSumResult EmptyResult(Dictionary<HookedLayer, Dictionary<string, Tensor>> parameters, ClippingOptions clipping)
    {
        var gradients = new Dictionary<string, Tensor>();
        var layerNorms = new Dictionary<string, Tensor>();
        var layerFactors = new Dictionary<string, Tensor>();
        var empty = torch.zeros(0, dtype: ScalarType.Float64);
        foreach (var layer in _layers)
        {
            foreach (var (name, p) in parameters[layer])
            {
                gradients[FullName(layer.Path, name)] = torch.zeros_like(p).detach();
            }

            layerNorms[layer.Path] = torch.zeros(0, dtype: ScalarType.Float64);
            layerFactors[layer.Path] = clipping.IsWholeGradient ? empty : torch.zeros(0, dtype: ScalarType.Float64);
        }

        return new ClippedSumResult(gradients, torch.zeros(0, dtype: ScalarType.Float64), clipping.IsWholeGradient ? empty : null, layerNorms, layerFactors);
    }

    private ClippedSumResult Compute(
        Tensor perExampleLoss,
        long b,
        long k,
        ClippingOptions clipping,
        Dictionary<HookedLayer, Dictionary<string, Tensor>> parameters)
    {
        foreach (var layer in _layers)
        {
            foreach (var (input, output) in layer.Records)
            {
                if (input.dim() == 0 || input.shape[0] != b || output.dim() == 0 || output.shape[0] != b)
                {
                    throw new ArgumentException(
                        $"Layer '{layer.Path}' saw input [{string.Join(", ", input.shape)}] and output [{string.Join(", ", output.shape)}], " +
                        $"but the loss has {b} examples: layers need the batch axis first and the loss must be one value per example.",
                        nameof(perExampleLoss));
                }
            }
        }

        var m = b / k; // records: examples (k = 1) or microbatches
        if (_layers.Count == 0)
        {
            return EmptyLike(m, clipping);
        }

        if (!perExampleLoss.requires_grad)
        {
            throw new InvalidOperationException(
                "perExampleLoss does not require grad: run the forward with gradients enabled (not under torch.no_grad()).");
        }

        OneBackward(perExampleLoss, parameters);

        // Per-layer norms.
        var samples = new Dictionary<HookedLayer, ILayerGradSample>();
        var squared = new Dictionary<HookedLayer, Tensor>();
        foreach (var layer in _layers)
        {
            if (layer.Records.Count == 0)
            {
                squared[layer] = torch.zeros(m, dtype: ScalarType.Float64);
                continue;
            }

            var records = layer.Records
                .Select(r => new LayerRecord(r.Input, r.Output.grad ?? torch.zeros_like(r.Output).detach()))
                .ToList();
            var context = k == 1
                ? new GradSampleContext(layer.Path, layer.Module, records, parameters[layer], b, 1, _options.Method, _options.MaterializeBudgetBytes)
                : MicrobatchContext(layer, records, parameters[layer], b, k);
            var sample = layer.Sampler.Compute(context);
            samples[layer] = sample;
            squared[layer] = sample.SquaredNorms.detach().to(ScalarType.Float64);
        }

        var total = torch.stack(squared.Values.ToList()).sum(dim: 0L).sqrt();
        ThrowIfNotFinite(total);
        var layerNorms = _layers.ToDictionary(l => l.Path, l => squared[l].sqrt());

        // Clip factors c_i = min(1, C / (‖g_i‖ + 1e-6)); automatic: c_i = C / (‖g_i‖ + γ).
        Tensor? flatFactors = null;
        var layerFactors = new Dictionary<string, Tensor>();
        if (clipping.IsWholeGradient)
        {
            flatFactors = clipping.Mode == ClippingMode.Automatic
                ? torch.full_like(total, clipping.MaxGradNorm).div(total.add(clipping.StabilityConstant))
                : ClipFactors(total, clipping.MaxGradNorm);
            foreach (var layer in _layers)
            {
                layerFactors[layer.Path] = flatFactors;
            }
        }
        else
        {
            foreach (var layer in _layers)
            {
                layerFactors[layer.Path] = ClipFactors(layerNorms[layer.Path], clipping.LayerMaxGradNorms![layer.Path]);
            }
        }

        // Clipped sums from the kept tensors: no second backward.
        var gradients = new Dictionary<string, Tensor>();
        foreach (var layer in _layers)
        {
            IReadOnlyDictionary<string, Tensor> sums;
            if (samples.TryGetValue(layer, out var sample))
            {
                var c = layerFactors[layer.Path].to(sample.SquaredNorms.dtype);
                sums = sample.ClippedSum(c);
            }
            else
            {
                sums = parameters[layer].ToDictionary(kv => kv.Key, kv => torch.zeros_like(kv.Value).detach());
            }

            foreach (var name in parameters[layer].Keys)
            {
                var sum = sums.TryGetValue(name, out var s)
                    ? s
                    : throw new InvalidOperationException($"The grad sampler of '{layer.Path}' returned no clipped sum for '{name}'.");
                gradients[FullName(layer.Path, name)] = sum.detach();
            }
        }

        return new ClippedSumResult(gradients, total, flatFactors, layerNorms, layerFactors);
    }

    /// <summary>
    /// The context of a microbatched step (k &gt; 1). Output gradients are scaled by 1/k (the record is the gradient of the
    /// group's mean loss); for <see cref="MicrobatchGrouping.ByPositions"/> every record tensor [B, …] becomes [B/k, k, …],
    /// so that the k examples of a group are k positions of one example of a batch of B/k.
    /// </summary>
    private GradSampleContext MicrobatchContext(HookedLayer layer, List<LayerRecord> records, Dictionary<string, Tensor> parameters, long b, long k)
    {
        var scaled = records.Select(r => new LayerRecord(r.Input, r.OutputGradient.div(k))).ToList();
        if (layer.Sampler.MicrobatchGrouping == MicrobatchGrouping.InSampler)
        {
            return new GradSampleContext(layer.Path, layer.Module, scaled, parameters, b, k, _options.Method, _options.MaterializeBudgetBytes);
        }

        var m = b / k;
        var grouped = scaled
            .Select(r => new LayerRecord(r.Input.reshape([m, k, .. r.Input.shape[1..]]), r.OutputGradient.reshape([m, k, .. r.OutputGradient.shape[1..]])))
            .ToList();
        return new GradSampleContext(layer.Path, layer.Module, grouped, parameters, m, 1, _options.Method, _options.MaterializeBudgetBytes);
    }

    private static ClippedSumResult EmptyLike(long b, ClippingOptions clipping)
    {
        var ones = torch.ones(b, dtype: ScalarType.Float64);
        return new ClippedSumResult(
            new Dictionary<string, Tensor>(),
            torch.zeros(b, dtype: ScalarType.Float64),
            clipping.IsWholeGradient ? ones : null,
            new Dictionary<string, Tensor>(),
            new Dictionary<string, Tensor>());
    }

    /// <summary>
    /// backward(Σℓ, inputs: recorded outputs ∪ parameters of layers that recorded nothing). The latter detect layers that
    /// the loss depends on but whose hook never ran; their <c>.grad</c> is saved and restored.
    /// </summary>
    private void OneBackward(Tensor perExampleLoss, Dictionary<HookedLayer, Dictionary<string, Tensor>> parameters)
    {
        var outputs = _layers.SelectMany(l => l.Records.Select(r => r.Output)).ToList();
        var probes = _layers.Where(l => l.Records.Count == 0)
            .SelectMany(l => parameters[l].Values.Select(p => (Layer: l, Parameter: p)))
            .ToList();
        var savedGrads = probes.Select(p => p.Parameter.grad).ToList();
        foreach (var (_, p) in probes)
        {
            p.grad = null;
        }

        var unrecorded = new List<string>();
        try
        {
            perExampleLoss.sum().backward(inputs: outputs.Concat(probes.Select(p => p.Parameter)).ToList());
            foreach (var (layer, p) in probes)
            {
                if (p.grad is not null && !unrecorded.Contains(layer.Path))
                {
                    unrecorded.Add(layer.Path);
                }
            }
        }
        finally
        {
            for (var i = 0; i < probes.Count; i++)
            {
                probes[i].Parameter.grad = savedGrads[i];
            }
        }

        if (unrecorded.Count > 0)
        {
            throw new UnrecordedLayerException(unrecorded);
        }
    }

    internal static Tensor ClipFactors(Tensor norms, double maxGradNorm) =>
        torch.full_like(norms, maxGradNorm).div(norms.add(1e-6)).clamp_max(1.0);

    internal static void ThrowIfNotFinite(Tensor norms)
    {
        var finite = torch.isfinite(norms);
        if (!finite.all().item<bool>())
        {
            var indices = finite.logical_not().nonzero().flatten().data<long>().ToArray();
            throw new NonFiniteGradientException(indices);
        }
    }

    private void RemoveHooks()
    {
        foreach (var layer in _layers)
        {
            layer.Hook?.remove();
            layer.Hook = null;
        }
    }

    private sealed class HookedLayer(string path, nn.Module<Tensor, Tensor> module, IGradSampler sampler, List<string> localTrainable)
    {
        public string Path { get; } = path;

        public nn.Module<Tensor, Tensor> Module { get; } = module;

        public IGradSampler Sampler { get; } = sampler;

        public nn.Module<Tensor, Tensor>.HookRemover? Hook { get; set; }

        public List<(Tensor Input, Tensor Output)> Records { get; } = [];

        /// <summary>Local name → parameter, read afresh (Embedding allocates a wrapper per read; call inside a scope).</summary>
        public Dictionary<string, Tensor> TrainableParameters() =>
            Module.named_parameters()
                .Where(np => np.parameter.requires_grad && localTrainable.Contains(np.name))
                .ToDictionary(np => np.name, np => (Tensor)np.parameter);

        public void ClearRecords()
        {
            foreach (var (input, output) in Records)
            {
                input.Dispose();
                output.Dispose();
            }

            Records.Clear();
        }
    }
}
