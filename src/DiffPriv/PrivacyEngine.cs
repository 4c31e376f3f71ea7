using System.Runtime.InteropServices;
using System.Text;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;
using DiffPriv.Data;
using DiffPriv.IO;
using DiffPriv.Noise;
using DiffPriv.Optim;
using DiffPriv.PerSample;
using DiffPriv.Queries;
using DiffPriv.Validation;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv;

/// <summary>
/// The one-call entry point: turns an ordinary TorchSharp model, optimizer and data set into their private counterparts
/// and keeps the privacy ledger of everything they do. The accountant is chosen here, once.
/// </summary>
/// <remarks>
/// <code>
/// var engine = new PrivacyEngine();
/// var (optimizer, loader) = engine.MakePrivateWithEpsilon(model, optim.SGD(model.parameters(), 0.1), dataset,
///     new DpSgdOptions { MaxGradNorm = 1.0, ExpectedBatchSize = 256 }, targetEpsilon: 3, targetDelta: 1e-5, epochs: 10);
/// for (var epoch = 0; epoch &lt; 10; epoch++)
///     foreach (var batch in loader)
///     {
///         optimizer.zero_grad();
///         var loss = functional.cross_entropy(model.call(batch["data"]), batch["label"], reduction: nn.Reduction.None);
///         optimizer.Backward(loss);
///         optimizer.step();
///     }
/// Console.WriteLine(engine.GetEpsilon(1e-5));
/// </code>
/// </remarks>
public sealed class PrivacyEngine
{
    private const string CheckpointMagic = "DiffPriv.Checkpoint.v4";

    /// <summary>The format before DP-FTRL checkpoints: v4 without the tree kind of query state (read the same way).</summary>
    private const string CheckpointMagicV3 = "DiffPriv.Checkpoint.v3";

    /// <summary>The format before query states, read as v3 without a query state.</summary>
    private const string CheckpointMagicV2 = "DiffPriv.Checkpoint.v2";

    // The kinds of query state a checkpoint holds: none, a number (an adaptive clip norm), a tree between two passes.
    private const byte NoQueryState = 0;
    private const byte NumberQueryState = 1;
    private const byte TreeBetweenPasses = 2;

    /// <summary>Creates an engine whose ε is reported by <paramref name="accountant"/>, under add-or-remove-one adjacency.</summary>
    /// <param name="accountant">PLD (default, tightest) or RDP. Calibration (<c>MakePrivateWithEpsilon</c>) uses it too.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The shipped constructor keeps its optional accountant; the relation overload has no optional parameter, so no call can become ambiguous.")]
    public PrivacyEngine(AccountantKind accountant = AccountantKind.Pld)
        : this(accountant, NeighboringRelation.AddOrRemoveOne)
    {
    }

    /// <summary>
    /// Creates an engine whose guarantee holds under <paramref name="neighboringRelation"/>. DP-FTRL
    /// (<see cref="MakePrivateFtrl(nn.Module, optim.Optimizer, Tensor, Tensor, DpFtrlOptions)"/>) needs
    /// <c>new PrivacyEngine(AccountantKind.Rdp, NeighboringRelation.ReplaceSpecial)</c> (or PLD, which analyses its trees exactly).
    /// </summary>
    /// <param name="accountant">PLD or RDP, both under any relation (each analyses the events it supports under it).</param>
    /// <param name="neighboringRelation">The adjacency of the guarantee: add-or-remove-one (DP-SGD with Poisson sampling) or
    /// replace-special (DP-FTRL: one example replaced by a zero example, Kairouz et al. 2021, Definition 1.1).</param>
    /// <exception cref="ArgumentException">The accountant does not work under the relation.</exception>
    public PrivacyEngine(AccountantKind accountant, NeighboringRelation neighboringRelation)
    {
        TorchRuntime.EnsureLoaded();
        Accountant = accountant;
        NeighboringRelation = neighboringRelation;
        Ledger = new PrivacyLedger(accountant, neighboringRelation);
    }

    /// <summary>Every private release made through this engine, under <see cref="NeighboringRelation"/>.</summary>
    public PrivacyLedger Ledger { get; }

    /// <summary>The accountant that reports ε and calibrates σ.</summary>
    public AccountantKind Accountant { get; }

    /// <summary>The adjacency under which this engine's ε holds; reports must name it, since ε under different relations are different units.</summary>
    public NeighboringRelation NeighboringRelation { get; }

    /// <summary>Everything this engine recorded, as one event: runs of identical events as <see cref="SelfComposedDpEvent"/>.</summary>
    public ComposedDpEvent LedgerEvent => Ledger.ToEvent();

    private Action<DpEvent> Record => e => Ledger.Record(e);

    /// <summary>
    /// Makes a model trainable with DP-SGD over in-memory tensors: validates it (<see cref="ModuleValidator"/>), attaches
    /// the per-example gradient hooks, wraps the optimizer and builds a Poisson-sampling loader whose batches have the
    /// keys <see cref="PoissonDataLoader.InputKey"/> ("data") and <see cref="PoissonDataLoader.TargetKey"/> ("label").
    /// </summary>
    /// <param name="model">The model; its trainable layers must all have per-example gradient methods.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters: <c>model.parameters()</c>, or <c>model.parameters().Where(p =&gt; p.requires_grad)</c> when some are frozen (e.g. after <see cref="Layers.Lora.Apply"/>).</param>
    /// <param name="inputs">Training examples, first dimension N.</param>
    /// <param name="targets">Labels, first dimension N.</param>
    /// <param name="options">C, σ, the expected batch size and, optionally, the planned epochs or steps.</param>
    /// <returns>The private model, optimizer and loader; dispose it (or the optimizer) when training ends.</returns>
    /// <exception cref="ArgumentException">A hyperparameter is out of range.</exception>
    /// <exception cref="InvalidModuleException">The model contains BatchNorm or an unsupported trainable layer.</exception>
    public PrivateTraining MakePrivate(nn.Module model, optim.Optimizer optimizer, Tensor inputs, Tensor targets, DpSgdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Build(model, optimizer, PoissonDataLoader.PairSource(inputs, targets, options.Device), options);
    }

    /// <summary>
    /// Makes a model trainable with DP-SGD over a TorchSharp data set (a dictionary of tensors per example): any
    /// <c>Dataset</c> subclass, or <see cref="IndexedDataset.Create"/>. Only the sampled examples are read; batches stack
    /// each key and keep the data set's keys, so models with several inputs work.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters: <c>model.parameters()</c>, or <c>model.parameters().Where(p =&gt; p.requires_grad)</c> when some are frozen (e.g. after <see cref="Layers.Lora.Apply"/>).</param>
    /// <param name="dataset">The examples.</param>
    /// <param name="options">C, σ, the expected batch size and, optionally, the plan.</param>
    /// <returns>The private model, optimizer and loader.</returns>
    public PrivateTraining MakePrivate(nn.Module model, optim.Optimizer optimizer, utils.data.Dataset dataset, DpSgdOptions options) =>
        MakePrivate(model, optimizer, dataset, IndexedDataset.Stack, options);

    /// <summary>
    /// Makes a model trainable with DP-SGD over any TorchSharp <c>Dataset&lt;T&gt;</c>, batches formed by
    /// <paramref name="collate"/> from the sampled examples (e.g. to pad sequences).
    /// </summary>
    /// <typeparam name="T">The data set's example type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters: <c>model.parameters()</c>, or <c>model.parameters().Where(p =&gt; p.requires_grad)</c> when some are frozen (e.g. after <see cref="Layers.Lora.Apply"/>).</param>
    /// <param name="dataset">The examples.</param>
    /// <param name="collate">Examples and device → a dictionary batch whose tensors have the example axis first.</param>
    /// <param name="options">C, σ, the expected batch size and, optionally, the plan.</param>
    /// <returns>The private model, optimizer and loader.</returns>
    public PrivateTraining MakePrivate<T>(
        nn.Module model,
        optim.Optimizer optimizer,
        utils.data.Dataset<T> dataset,
        Func<IReadOnlyList<T>, Device, Dictionary<string, Tensor>> collate,
        DpSgdOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(collate);
        ArgumentNullException.ThrowIfNull(options);
        return Build(model, optimizer, new DatasetBatchSource<T>(dataset, collate, options.Device), options);
    }

    /// <summary>
    /// Like <see cref="MakePrivate(nn.Module, optim.Optimizer, Tensor, Tensor, DpSgdOptions)"/>, but chooses the
    /// smallest noise multiplier σ for which <paramref name="epochs"/> epochs (⌈epochs·N/B⌉ steps, see
    /// <see cref="StepSchedule"/>) stay within (<paramref name="targetEpsilon"/>, <paramref name="targetDelta"/>), by this
    /// engine's accountant. The loader's epochs run exactly those steps; one more throws <see cref="StepPlanExceededException"/>.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters: <c>model.parameters()</c>, or <c>model.parameters().Where(p =&gt; p.requires_grad)</c> when some are frozen (e.g. after <see cref="Layers.Lora.Apply"/>).</param>
    /// <param name="inputs">Training examples, first dimension N.</param>
    /// <param name="targets">Labels.</param>
    /// <param name="options">C and the expected batch size (σ, Epochs and Steps are replaced; a custom <see cref="DpSgdOptions.Query"/> gets the calibrated σ).</param>
    /// <param name="targetEpsilon">ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <param name="epochs">&gt; 0.</param>
    /// <returns>The private trio; <see cref="PrivateTraining.Options"/> holds the calibrated σ (and query) and the plan.</returns>
    public PrivateTraining MakePrivateWithEpsilon(
        nn.Module model, optim.Optimizer optimizer, Tensor inputs, Tensor targets, DpSgdOptions options, double targetEpsilon, double targetDelta, double epochs)
    {
        ArgumentNullException.ThrowIfNull(options);
        return BuildCalibrated(model, optimizer, PoissonDataLoader.PairSource(inputs, targets, options.Device), options, targetEpsilon, targetDelta, epochs);
    }

    /// <summary>
    /// <see cref="MakePrivateWithEpsilon(nn.Module, optim.Optimizer, Tensor, Tensor, DpSgdOptions, double, double, double)"/>
    /// over a TorchSharp data set of dictionary examples.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters: <c>model.parameters()</c>, or <c>model.parameters().Where(p =&gt; p.requires_grad)</c> when some are frozen (e.g. after <see cref="Layers.Lora.Apply"/>).</param>
    /// <param name="dataset">The examples.</param>
    /// <param name="options">C and the expected batch size.</param>
    /// <param name="targetEpsilon">ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <param name="epochs">&gt; 0.</param>
    /// <returns>The private trio.</returns>
    public PrivateTraining MakePrivateWithEpsilon(
        nn.Module model, optim.Optimizer optimizer, utils.data.Dataset dataset, DpSgdOptions options, double targetEpsilon, double targetDelta, double epochs) =>
        MakePrivateWithEpsilon(model, optimizer, dataset, IndexedDataset.Stack, options, targetEpsilon, targetDelta, epochs);

    /// <summary>
    /// <see cref="MakePrivateWithEpsilon(nn.Module, optim.Optimizer, Tensor, Tensor, DpSgdOptions, double, double, double)"/>
    /// over any TorchSharp <c>Dataset&lt;T&gt;</c> with a collate function.
    /// </summary>
    /// <typeparam name="T">The data set's example type.</typeparam>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters: <c>model.parameters()</c>, or <c>model.parameters().Where(p =&gt; p.requires_grad)</c> when some are frozen (e.g. after <see cref="Layers.Lora.Apply"/>).</param>
    /// <param name="dataset">The examples.</param>
    /// <param name="collate">Examples and device → a dictionary batch.</param>
    /// <param name="options">C and the expected batch size.</param>
    /// <param name="targetEpsilon">ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <param name="epochs">&gt; 0.</param>
    /// <returns>The private trio.</returns>
    public PrivateTraining MakePrivateWithEpsilon<T>(
        nn.Module model,
        optim.Optimizer optimizer,
        utils.data.Dataset<T> dataset,
        Func<IReadOnlyList<T>, Device, Dictionary<string, Tensor>> collate,
        DpSgdOptions options,
        double targetEpsilon,
        double targetDelta,
        double epochs)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(collate);
        ArgumentNullException.ThrowIfNull(options);
        return BuildCalibrated(model, optimizer, new DatasetBatchSource<T>(dataset, collate, options.Device), options, targetEpsilon, targetDelta, epochs);
    }

    /// <summary>
    /// Makes a model trainable with DP-FTRL (Kairouz et al. 2021) over in-memory tensors: fixed-size batches of a fresh
    /// shuffled order per pass (no Poisson sampling), per-example clipping, and a <see cref="TreeResidualSumQuery"/> that
    /// adds tree-aggregation noise to the cumulative sum of the clipped gradients, restarting the tree with every pass. With
    /// <c>optim.SGD(…, lr: η)</c> the parameters follow θ_t = θ_0 − η·(noisy cumulative sum)/B; with momentum, DP-FTRLM.
    /// </summary>
    /// <param name="model">The model; its trainable layers must all have per-example gradient methods.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters (SGD for DP-FTRL proper; any
    /// optimizer only post-processes the private residuals).</param>
    /// <param name="inputs">Training examples, first dimension N.</param>
    /// <param name="targets">Labels, first dimension N.</param>
    /// <param name="options">Clipping, σ, B and the passes.</param>
    /// <returns>The private model, optimizer and loader; dispose it when training ends.</returns>
    /// <exception cref="InvalidOperationException">The engine is not replace-special (create it with
    /// <c>new PrivacyEngine(AccountantKind.Rdp, NeighboringRelation.ReplaceSpecial)</c>).</exception>
    /// <exception cref="ArgumentException">A hyperparameter is out of range.</exception>
    /// <remarks>Each pass is one tree, recorded as <see cref="SingleEpochTreeAggregationDpEvent"/>(σ, [⌈N/B⌉]) with its
    /// first step: a run of E passes costs E trees under replace-special, by the RDP accountant.</remarks>
    public PrivateFtrlTraining MakePrivateFtrl(nn.Module model, optim.Optimizer optimizer, Tensor inputs, Tensor targets, DpFtrlOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return BuildFtrl(model, optimizer, PoissonDataLoader.PairSource(inputs, targets, options.Device), options);
    }

    /// <summary>
    /// <see cref="MakePrivateFtrl(nn.Module, optim.Optimizer, Tensor, Tensor, DpFtrlOptions)"/> over a TorchSharp data set of
    /// dictionary examples (only each batch's examples are read).
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters.</param>
    /// <param name="dataset">The examples.</param>
    /// <param name="options">Clipping, σ, B and the passes.</param>
    /// <returns>The private trio.</returns>
    public PrivateFtrlTraining MakePrivateFtrl(nn.Module model, optim.Optimizer optimizer, utils.data.Dataset dataset, DpFtrlOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        return BuildFtrl(model, optimizer, new DatasetBatchSource<Dictionary<string, Tensor>>(dataset, IndexedDataset.Stack, options.Device), options);
    }

    /// <summary>
    /// Like <see cref="MakePrivateFtrl(nn.Module, optim.Optimizer, Tensor, Tensor, DpFtrlOptions)"/>, but chooses the
    /// smallest σ for which the run's ⌈epochs⌉ trees stay within (<paramref name="targetEpsilon"/>,
    /// <paramref name="targetDelta"/>) under replace-special, by the RDP accountant.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters.</param>
    /// <param name="inputs">Training examples, first dimension N.</param>
    /// <param name="targets">Labels.</param>
    /// <param name="options">Clipping, B and the passes (σ is replaced).</param>
    /// <param name="targetEpsilon">ε &gt; 0 (replace-special).</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <returns>The private trio; <see cref="PrivateFtrlTraining.Options"/> holds the calibrated σ.</returns>
    public PrivateFtrlTraining MakePrivateFtrlWithEpsilon(
        nn.Module model, optim.Optimizer optimizer, Tensor inputs, Tensor targets, DpFtrlOptions options, double targetEpsilon, double targetDelta)
    {
        ArgumentNullException.ThrowIfNull(options);
        var source = PoissonDataLoader.PairSource(inputs, targets, options.Device);
        return BuildFtrl(model, optimizer, source, CalibratedFtrl(options, source.Count, targetEpsilon, targetDelta));
    }

    /// <summary>
    /// <see cref="MakePrivateFtrlWithEpsilon(nn.Module, optim.Optimizer, Tensor, Tensor, DpFtrlOptions, double, double)"/>
    /// over a TorchSharp data set of dictionary examples.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">An optimizer over exactly the model's trainable parameters.</param>
    /// <param name="dataset">The examples.</param>
    /// <param name="options">Clipping, B and the passes (σ is replaced).</param>
    /// <param name="targetEpsilon">ε &gt; 0 (replace-special).</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <returns>The private trio.</returns>
    public PrivateFtrlTraining MakePrivateFtrlWithEpsilon(
        nn.Module model, optim.Optimizer optimizer, utils.data.Dataset dataset, DpFtrlOptions options, double targetEpsilon, double targetDelta)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        var source = new DatasetBatchSource<Dictionary<string, Tensor>>(dataset, IndexedDataset.Stack, options.Device);
        return BuildFtrl(model, optimizer, source, CalibratedFtrl(options, source.Count, targetEpsilon, targetDelta));
    }

    /// <summary>
    /// The smallest σ for which DP-FTRL with <paramref name="options"/> over <paramref name="datasetSize"/> examples (one tree
    /// per pass, each counted complete) stays within (<paramref name="targetEpsilon"/>, <paramref name="targetDelta"/>) under
    /// replace-special, by the RDP accountant.
    /// </summary>
    /// <param name="options">Clipping, B and the passes (σ is ignored).</param>
    /// <param name="datasetSize">N ≥ B.</param>
    /// <param name="targetEpsilon">ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <returns>σ and the ε it achieves (≤ target).</returns>
    public static NoiseCalibrationResult CalibrateFtrlNoiseMultiplier(DpFtrlOptions options, long datasetSize, double targetEpsilon, double targetDelta)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(datasetSize, requireNoiseMultiplier: false);
        var schedule = options.Schedule(datasetSize);
        var query = new TreeResidualSumQuery(options.Clipping, 1.0, schedule.StepsPerEpoch, options.EfficientTree);
        return NoiseCalibration.CalibrateNoiseMultiplier(
            () => new RdpAccountant(neighboringRelation: NeighboringRelation.ReplaceSpecial),
            sigma => query.WithNoiseMultiplier(sigma).PlannedEvent(schedule.SamplingProbability, schedule.TotalSteps),
            targetEpsilon,
            targetDelta);
    }

    private static DpFtrlOptions CalibratedFtrl(DpFtrlOptions options, long datasetSize, double targetEpsilon, double targetDelta) =>
        options with { NoiseMultiplier = CalibrateFtrlNoiseMultiplier(options, datasetSize, targetEpsilon, targetDelta).NoiseMultiplier };

    private PrivateFtrlTraining BuildFtrl(nn.Module model, optim.Optimizer optimizer, BatchSource source, DpFtrlOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (NeighboringRelation != NeighboringRelation.ReplaceSpecial)
        {
            throw new InvalidOperationException(
                $"DP-FTRL's guarantee holds under the replace-special relation, and this engine accounts under {NeighboringRelation}: " +
                "create it with new PrivacyEngine(AccountantKind.Rdp, NeighboringRelation.ReplaceSpecial).");
        }

        var n = source.Count;
        options.Validate(n);
        ModuleValidator.ThrowIfInvalid(model, options.Registry);
        var schedule = options.Schedule(n);
        var query = new TreeResidualSumQuery(options.Clipping, options.NoiseMultiplier, schedule.StepsPerEpoch, options.EfficientTree);
        var gate = options.Seed is { } seed ? NoiseGate.CreateSeeded(seed) : NoiseGate.CreateSecure();
        GradSampleHooks? hooks = null;
        try
        {
            hooks = new GradSampleHooks(model, options.Registry, options.GradSample);
            var loader = new ShuffledDataLoader(source, options.BatchSize, options.MaxPhysicalBatchSize, gate, schedule);
            var dpOptimizer = new DpOptimizer(
                optimizer, hooks, query, gate, (double)options.BatchSize / n, options.BatchSize, Record, 0, schedule, continueBeyondPlan: false);
            dpOptimizer.LinkLoader(loader);
            dpOptimizer.Own(hooks);
            dpOptimizer.Own(gate);
            return new PrivateFtrlTraining(model, dpOptimizer, loader, hooks, gate, options);
        }
        catch
        {
            hooks?.Dispose();
            gate.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The smallest σ for which <paramref name="query"/> run over <paramref name="schedule"/> stays within
    /// (<paramref name="targetEpsilon"/>, <paramref name="targetDelta"/>) by <paramref name="accountant"/>.
    /// </summary>
    /// <param name="query">The query whose σ is searched (its own σ is ignored).</param>
    /// <param name="schedule">The planned steps and the sampling probability.</param>
    /// <param name="targetEpsilon">ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <param name="accountant">The accountant that decides.</param>
    /// <returns>σ and the ε it achieves (≤ target).</returns>
    public static NoiseCalibrationResult CalibrateNoiseMultiplier(IDpQuery query, StepSchedule schedule, double targetEpsilon, double targetDelta, AccountantKind accountant)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(schedule);
        return NoiseCalibration.CalibrateNoiseMultiplier(
            sigma => query.WithNoiseMultiplier(sigma).PlannedEvent(schedule.SamplingProbability, schedule.TotalSteps), targetEpsilon, targetDelta, accountant);
    }

    private PrivateTraining BuildCalibrated(
        nn.Module model, optim.Optimizer optimizer, BatchSource source, DpSgdOptions options, double targetEpsilon, double targetDelta, double epochs)
    {
        var n = source.Count;
        options.Validate(n, requireNoiseMultiplier: false);
        var schedule = StepSchedule.FromEpochs(options.UnitCount(n), options.ExpectedBatchSize, epochs);
        var baseQuery = options.Query ?? new GaussianSumQuery(options.Clipping, 1.0, recordsAreMicrobatches: options.Microbatches > 0);
        var sigma = CalibrateNoiseMultiplier(baseQuery, schedule, targetEpsilon, targetDelta, Accountant).NoiseMultiplier;
        var calibrated = options with
        {
            NoiseMultiplier = sigma,
            Epochs = epochs,
            Steps = null,
            AllowNoNoise = false,
            Query = options.Query?.WithNoiseMultiplier(sigma),
        };
        return Build(model, optimizer, source, calibrated);
    }

    private PrivateTraining Build(nn.Module model, optim.Optimizer optimizer, BatchSource source, DpSgdOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        var n = source.Count;
        options.Validate(n);
        ModuleValidator.ThrowIfInvalid(model, options.Registry);
        if (options.Microbatches > 0 && options.Query is not null and not GaussianSumQuery { RecordsAreMicrobatches: true })
        {
            throw new ArgumentException(
                "With Microbatches, a record is a microbatch gradient and one example can move it by 2C: a custom Query must be a " +
                "GaussianSumQuery made with recordsAreMicrobatches: true (accounted at σ/2); other queries cannot be combined with microbatches.");
        }

        var query = options.Query ?? new GaussianSumQuery(options.Clipping, options.NoiseMultiplier, recordsAreMicrobatches: options.Microbatches > 0, allowNoNoise: options.AllowNoNoise);
        var schedule = options.Schedule(n);

        var gate = options.Seed is { } seed ? NoiseGate.CreateSeeded(seed) : NoiseGate.CreateSecure();
        GradSampleHooks? hooks = null;
        try
        {
            hooks = new GradSampleHooks(model, options.Registry, options.GradSample);
            if (options.PrivacyUnits is { } units && hooks.LayersWithoutGrouping() is { Count: > 0 } ungrouped)
            {
                throw new ArgumentException(
                    $"PrivacyUnits clips each {units.Name}'s examples as one record, which needs grad samplers that group examples; " +
                    $"the sampler of layer(s) {string.Join(", ", ungrouped.Select(p => $"'{p}'"))} cannot (MicrobatchGrouping.Unsupported).");
            }

            var q = options.ExpectedBatchSize / options.UnitCount(n);
            var loader = new PoissonDataLoader(source, q, options.MaxPhysicalBatchSize, gate, schedule, options.ContinueBeyondPlan, options.PrivacyUnits);
            var dpOptimizer = new DpOptimizer(
                optimizer, hooks, query, gate, q, options.ExpectedBatchSize, Record, options.Microbatches, schedule, options.ContinueBeyondPlan);
            dpOptimizer.LinkLoader(loader);
            dpOptimizer.Own(hooks);
            dpOptimizer.Own(gate);
            return new PrivateTraining(model, dpOptimizer, loader, hooks, gate, options with { NoiseMultiplier = query.NoiseMultiplier });
        }
        catch
        {
            hooks?.Dispose();
            gate.Dispose();
            throw;
        }
    }

    /// <summary>ε spent so far at <paramref name="delta"/> (0 before the first step).</summary>
    /// <param name="delta">δ ∈ (0, 1).</param>
    /// <returns>ε.</returns>
    public double GetEpsilon(double delta) => Ledger.GetEpsilon(delta);

    /// <summary>
    /// The exact ε of everything recorded, bracketed by the PLD accountant (whatever <see cref="Accountant"/> is): the
    /// upper end is a valid guarantee, the width is the discretisation error.
    /// </summary>
    /// <param name="delta">δ ∈ (0, 1).</param>
    /// <returns>[lower, upper] around the exact ε (both +∞ after a non-private step), under <see cref="NeighboringRelation"/>.</returns>
    /// <exception cref="UnsupportedDpEventException">The PLD accountant cannot analyse a recorded event under the engine's relation.</exception>
    public EpsilonInterval GetEpsilonInterval(double delta) =>
        ((PldAccountant)Ledger.CreateAccountant(AccountantKind.Pld)).GetEpsilonInterval(delta);

    /// <summary>
    /// Saves everything needed to resume exactly: model parameters and buffers, the inner optimizer's state, the privacy
    /// ledger, the step and loader counters and the random generator state (seeded runs; a secure generator has no state
    /// and a resumed secure run draws fresh randomness, which is equally private).
    /// </summary>
    /// <param name="path">The checkpoint file, written atomically: whole into a temporary file beside it, flushed to the
    /// disk, then renamed over it, so a crash or a failed write leaves the previous checkpoint intact.</param>
    /// <param name="training">The training to save.</param>
    /// <exception cref="NotSupportedException">The DP query has a global state other than a number (e.g. the adaptive
    /// clip norm), which checkpoints cannot save yet.</exception>
    /// <exception cref="IOException">The file could not be written (the previous checkpoint, if any, is unchanged).</exception>
    public void SaveCheckpoint(string path, PrivateTraining training)
    {
        ArgumentNullException.ThrowIfNull(path);
        var target = Target(training);
        AtomicFile.Write(path, stream => WriteCheckpoint(stream, target));
    }

    /// <summary>
    /// Saves a DP-FTRL training between two passes, like <see cref="SaveCheckpoint(string, PrivateTraining)"/>: the model,
    /// the optimizer state, the ledger, the step and pass counters and the seeded generator (which the next pass's shuffle
    /// and tree noise come from). The tree restarts with every pass, so between passes it holds nothing to save.
    /// </summary>
    /// <param name="path">The checkpoint file, written atomically (see <see cref="SaveCheckpoint(string, PrivateTraining)"/>).</param>
    /// <param name="training">The training to save.</param>
    /// <exception cref="NotSupportedException">A pass is in progress: its tree's noise and its shuffled order are not saved,
    /// so save after the last batch of a pass (at the end of an epoch's <c>foreach</c>).</exception>
    /// <exception cref="IOException">The file could not be written (the previous checkpoint, if any, is unchanged).</exception>
    public void SaveCheckpoint(string path, PrivateFtrlTraining training)
    {
        ArgumentNullException.ThrowIfNull(path);
        var target = Target(training);
        AtomicFile.Write(path, stream => WriteCheckpoint(stream, target));
    }

    /// <summary>Writes a checkpoint (see <see cref="SaveCheckpoint(string, PrivateTraining)"/>) to a stream, for containers that hold more.</summary>
    /// <param name="stream">A writable stream; left open, positioned after the checkpoint.</param>
    /// <param name="training">The training to save.</param>
    /// <exception cref="NotSupportedException">The DP query's global state cannot be saved.</exception>
    public void SaveCheckpoint(Stream stream, PrivateTraining training)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteCheckpoint(stream, Target(training));
    }

    /// <summary>Writes a DP-FTRL checkpoint (see <see cref="SaveCheckpoint(string, PrivateFtrlTraining)"/>) to a stream.</summary>
    /// <param name="stream">A writable stream; left open, positioned after the checkpoint.</param>
    /// <param name="training">The training to save, between two passes.</param>
    /// <exception cref="NotSupportedException">A pass is in progress.</exception>
    public void SaveCheckpoint(Stream stream, PrivateFtrlTraining training)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteCheckpoint(stream, Target(training));
    }

    /// <summary>
    /// Restores a checkpoint written by <see cref="SaveCheckpoint(string, PrivateTraining)"/> into a training built the same way. Either everything
    /// is restored or nothing changes. The ledger only ever grows: into a fresh engine the checkpoint's ledger is copied;
    /// into an engine that already recorded more (a roll-back to an earlier checkpoint), the model and optimizer go back but
    /// the ledger, the step count and the plan guard keep every release made since, because those were released.
    /// Checkpoints of versions 2 and 3 are read too.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="training">The training to restore into (same model architecture and optimizer type).</param>
    /// <exception cref="InvalidDataException">The file is not a DiffPriv checkpoint, is truncated or does not fit the training.</exception>
    /// <exception cref="InvalidOperationException">The engine recorded releases that the checkpoint's ledger does not start with (another run).</exception>
    public void LoadCheckpoint(string path, PrivateTraining training)
    {
        ArgumentNullException.ThrowIfNull(path);
        var target = Target(training);
        using var stream = File.OpenRead(path);
        ReadCheckpoint(stream, path, target);
    }

    /// <summary>
    /// Restores a DP-FTRL checkpoint written by <see cref="SaveCheckpoint(string, PrivateFtrlTraining)"/> into a training
    /// built the same way, like <see cref="LoadCheckpoint(string, PrivateTraining)"/>; the next pass starts a new tree.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="training">The training to restore into.</param>
    /// <exception cref="InvalidDataException">The file is not a DiffPriv DP-FTRL checkpoint, is truncated or does not fit the training.</exception>
    /// <exception cref="InvalidOperationException">The engine recorded releases that the checkpoint's ledger does not start with.</exception>
    public void LoadCheckpoint(string path, PrivateFtrlTraining training)
    {
        ArgumentNullException.ThrowIfNull(path);
        var target = Target(training);
        using var stream = File.OpenRead(path);
        ReadCheckpoint(stream, path, target);
    }

    /// <summary>Reads a checkpoint written by <see cref="SaveCheckpoint(Stream, PrivateTraining)"/> (see <see cref="LoadCheckpoint(string, PrivateTraining)"/>).</summary>
    /// <param name="stream">A readable stream positioned at the checkpoint; left open, positioned after it.</param>
    /// <param name="training">The training to restore into.</param>
    /// <exception cref="InvalidDataException">The data are not a DiffPriv checkpoint, are truncated or do not fit the training.</exception>
    /// <exception cref="InvalidOperationException">The engine recorded releases that the checkpoint's ledger does not start with.</exception>
    public void LoadCheckpoint(Stream stream, PrivateTraining training)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ReadCheckpoint(stream, "checkpoint", Target(training));
    }

    /// <summary>Reads a DP-FTRL checkpoint written by <see cref="SaveCheckpoint(Stream, PrivateFtrlTraining)"/>.</summary>
    /// <param name="stream">A readable stream positioned at the checkpoint; left open, positioned after it.</param>
    /// <param name="training">The training to restore into.</param>
    /// <exception cref="InvalidDataException">The data are not a DiffPriv DP-FTRL checkpoint, are truncated or do not fit the training.</exception>
    /// <exception cref="InvalidOperationException">The engine recorded releases that the checkpoint's ledger does not start with.</exception>
    public void LoadCheckpoint(Stream stream, PrivateFtrlTraining training)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ReadCheckpoint(stream, "checkpoint", Target(training));
    }

    private static CheckpointTarget Target(PrivateTraining training)
    {
        ArgumentNullException.ThrowIfNull(training);
        var loader = training.Loader;
        return new CheckpointTarget(training.Model, training.Optimizer, training.Gate, Ftrl: false,
            () => (loader.BatchesDrawn, loader.EpochsStarted), (drawn, epochs) => (loader.BatchesDrawn, loader.EpochsStarted) = (drawn, epochs));
    }

    private static CheckpointTarget Target(PrivateFtrlTraining training)
    {
        ArgumentNullException.ThrowIfNull(training);
        var loader = training.Loader;
        return new CheckpointTarget(training.Model, training.Optimizer, training.Gate, Ftrl: true,
            () => (loader.BatchesDrawn, loader.EpochsStarted), (drawn, epochs) => (loader.BatchesDrawn, loader.EpochsStarted) = (drawn, epochs));
    }

    private void WriteCheckpoint(Stream stream, CheckpointTarget training)
    {
        var (drawn, epochs) = training.Counters();
        if (training.Ftrl)
        {
            var schedule = training.Optimizer.Schedule!;
            var passEnd = Math.Min(epochs * schedule.StepsPerEpoch, schedule.TotalSteps);
            if (drawn != passEnd || training.Optimizer.Steps != drawn)
            {
                throw new NotSupportedException(
                    $"A DP-FTRL checkpoint is taken between two passes, and pass {epochs} is in progress ({drawn} of its batches' {passEnd} drawn, " +
                    $"{training.Optimizer.Steps} steps taken): the tree's noise and the pass's shuffled order are not saved. Save after a pass's last batch.");
            }
        }
        else if (training.Optimizer.GlobalState is not (null or double))
        {
            throw new NotSupportedException(
                $"The DP query {training.Optimizer.Query.GetType().Name} has a global state of type {training.Optimizer.GlobalState.GetType().Name}, " +
                "which checkpoints cannot save yet (only a number, such as an adaptive clip norm); a resumed run would restart it.");
        }

        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(CheckpointMagic);
        writer.Write(Ledger.ToJson());
        writer.Write(training.Optimizer.Steps);
        writer.Write(drawn);
        writer.Write(epochs);
        var state = training.Gate.GetState();
        writer.Write(state?.Length ?? -1);
        if (state is not null)
        {
            writer.Write(state);
        }

        if (training.Ftrl)
        {
            writer.Write(TreeBetweenPasses);
        }
        else if (training.Optimizer.GlobalState is double number)
        {
            writer.Write(NumberQueryState);
            writer.Write(number);
        }
        else
        {
            writer.Write(NoQueryState);
        }

        WriteModelAndOptimizer(writer, training);
        writer.Flush();
    }

    private void ReadCheckpoint(Stream stream, string path, CheckpointTarget training)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        PrivacyLedger saved;
        long steps, drawn, epochs;
        byte[]? state;
        var queryState = NoQueryState;
        double? globalNumber = null;
        try
        {
            var magic = reader.ReadString();
            if (magic != CheckpointMagic && magic != CheckpointMagicV3 && magic != CheckpointMagicV2)
            {
                throw new InvalidDataException($"{path} is not a DiffPriv checkpoint of a version this library reads ({CheckpointMagic}, v3 or v2).");
            }

            saved = PrivacyLedger.FromJson(reader.ReadString());
            steps = reader.ReadInt64();
            drawn = reader.ReadInt64();
            epochs = reader.ReadInt64();
            var stateLength = reader.ReadInt32();
            state = stateLength >= 0 ? reader.ReadBytes(stateLength) : null;
            if (magic != CheckpointMagicV2)
            {
                queryState = reader.ReadByte();
                switch (queryState)
                {
                    case NoQueryState:
                        break;
                    case NumberQueryState:
                        globalNumber = reader.ReadDouble();
                        break;
                    case TreeBetweenPasses when magic == CheckpointMagic:
                        break;
                    default:
                        throw new InvalidDataException($"The checkpoint {path} holds a query state of unknown kind {queryState}.");
                }
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"The checkpoint {path} is truncated.", e);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"The checkpoint {path} holds no readable privacy ledger.", e);
        }

        if ((queryState == TreeBetweenPasses) != training.Ftrl)
        {
            throw new InvalidDataException(
                $"The checkpoint {path} was saved from a {(training.Ftrl ? "DP-SGD" : "DP-FTRL")} training and this is a {(training.Ftrl ? "DP-FTRL" : "DP-SGD")} one; nothing was changed.");
        }

        if (!training.Ftrl && (globalNumber is null) != (training.Optimizer.GlobalState is null))
        {
            throw new InvalidDataException(
                $"The checkpoint {path} {(globalNumber is null ? "has no" : "has a")} DP query state and this training's query {(globalNumber is null ? "has one" : "has none")}: " +
                "it was saved from another kind of training; nothing was changed.");
        }

        if (saved.NeighboringRelation != NeighboringRelation)
        {
            throw new InvalidDataException(
                $"The checkpoint {path} accounts under {saved.NeighboringRelation} and this engine under {NeighboringRelation}; nothing was changed.");
        }

        var current = Ledger.Entries;
        var rollBack = current.Count > 0;
        if (rollBack && !IsPrefix(saved.Entries, current))
        {
            throw new InvalidOperationException(
                $"This engine has recorded releases that the checkpoint {path} does not start with: it belongs to another run. " +
                "Load it into a new PrivacyEngine.");
        }

        // Apply the model and optimizer state, or restore what was there if the file does not fit.
        using var backup = new MemoryStream();
        using (var backupWriter = new BinaryWriter(backup, Encoding.UTF8, leaveOpen: true))
        {
            WriteModelAndOptimizer(backupWriter, training);
        }

        try
        {
            training.Model.load(reader);
            InnerState(training.Optimizer).load_state_dict(reader);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidDataException or ExternalException)
        {
            backup.Position = 0;
            using var backupReader = new BinaryReader(backup, Encoding.UTF8);
            training.Model.load(backupReader);
            InnerState(training.Optimizer).load_state_dict(backupReader);
            throw new InvalidDataException($"The checkpoint {path} does not fit this training (or is truncated); nothing was changed.", e);
        }

        training.Optimizer.zero_grad();
        if (globalNumber is { } number)
        {
            // The query's state goes back with the model (it only depends on what was already released).
            training.Optimizer.GlobalState = number;
        }

        if (!rollBack)
        {
            foreach (var (dpEvent, count) in saved.Entries)
            {
                Ledger.Record(dpEvent, count);
            }

            training.Optimizer.Steps = steps;
            training.SetCounters(drawn, epochs);
            if (training.Ftrl)
            {
                // Between passes the tree holds nothing: the next pass (numbered after the restored ones) starts a fresh one.
                var previous = training.Optimizer.GlobalState;
                training.Optimizer.GlobalState = training.Optimizer.Query.InitialGlobalState();
                (previous as IDisposable)?.Dispose();
            }

            if (state is not null && !training.Gate.IsSecure)
            {
                training.Gate.SetState(state);
            }
        }

        training.Optimizer.ConsumeDraws();
    }

    /// <summary>What a checkpoint saves and restores, for either kind of training.</summary>
    private sealed record CheckpointTarget(
        nn.Module Model, DpOptimizer Optimizer, NoiseGate Gate, bool Ftrl, Func<(long Drawn, long Epochs)> Counters, Action<long, long> SetCounters);

    private static bool IsPrefix(IReadOnlyList<(DpEvent Event, long Count)> prefix, IReadOnlyList<(DpEvent Event, long Count)> whole)
    {
        // Entries merge consecutive equal events, so compare the expanded sequences: the prefix's runs must match the
        // whole's, except that its last run may be shorter.
        if (prefix.Count > whole.Count)
        {
            return false;
        }

        for (var i = 0; i < prefix.Count; i++)
        {
            var last = i == prefix.Count - 1;
            if (!prefix[i].Event.Equals(whole[i].Event) || (last ? prefix[i].Count > whole[i].Count : prefix[i].Count != whole[i].Count))
            {
                return false;
            }
        }

        return true;
    }

    private static void WriteModelAndOptimizer(BinaryWriter writer, CheckpointTarget training)
    {
        training.Model.save(writer);
        InnerState(training.Optimizer).save_state_dict(writer);
    }

    private static OptimizerHelper InnerState(DpOptimizer optimizer) =>
        optimizer.InnerOptimizer as OptimizerHelper
        ?? throw new NotSupportedException($"Checkpoints need a TorchSharp built-in optimizer; {optimizer.InnerOptimizer.GetType().Name} cannot save its state.");
}
