using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Data;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using DiffPriv.Queries;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Optim;

/// <summary>
/// Wraps any TorchSharp optimizer (SGD, Adam, AdamW, Adagrad, RMSprop, …) so that every step uses a differentially
/// private gradient: per-example gradients clipped (by the <see cref="GradSampleHooks"/>), summed over the Poisson
/// batch, noised by the DP query through the noise gate, divided by the expected batch size q·N, and then handed to the
/// inner optimizer. Every event the query emits is recorded in the privacy ledger before the update is applied.
/// </summary>
/// <remarks>
/// <para>It is a TorchSharp <c>Optimizer</c>: <c>zero_grad()</c> and <c>step()</c> work as in an ordinary loop and
/// learning-rate schedulers attach to it (they change the inner optimizer's rates). The one difference in the loop is the
/// backward: compute a per-example loss (<c>reduction: none</c>) and call <see cref="Backward"/> instead of
/// <c>loss.backward()</c>:</para>
/// <code>
/// optimizer.zero_grad();
/// var loss = functional.cross_entropy(model.call(batch["data"]), batch["label"], reduction: nn.Reduction.None);
/// optimizer.Backward(loss);
/// optimizer.step();
/// </code>
/// <para>That loop runs each logical batch's forward at once. <see cref="Step(LogicalBatch, Func{IReadOnlyDictionary{string, Tensor}, Tensor})"/>
/// runs it in physical chunks of at most <see cref="DpSgdOptions.MaxPhysicalBatchSize"/> examples, so memory stays bounded
/// for any draw. With <see cref="DpSgdOptions.PrivacyUnits"/> (user-level DP) it is the only way: it makes each sampled
/// unit's examples one record, the gradient of their mean loss clipped as a whole, and <see cref="Backward"/> refuses.</para>
/// <para>Forwards are recorded (for the per-example gradients) whenever gradients are enabled; evaluate under
/// <c>torch.no_grad()</c> as usual (a forward with gradients that is never backpropagated stays recorded until the next
/// backward or step, which then fails with a clear message if batch sizes disagree). <c>zero_grad()</c> discards the DP
/// gradient accumulated since the last step. Stepping without a completed DP backward throws; ordinary <c>loss.backward()</c> gradients are never used.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1708", Justification = "zero_grad()/step() are TorchSharp's inherited names; Step(batch, loss) is the chunked step.")]
public sealed class DpOptimizer : optim.Optimizer
{
    private readonly GradSampleHooks _hooks;
    private readonly NoiseGate _gate;
    private readonly Dictionary<string, TorchSharp.Modules.Parameter> _parameters;
    private readonly Dictionary<string, (long[] Shape, ScalarType Type, Device Device)> _shapes;
    private readonly List<IDisposable> _owned = [];
    private readonly Action<DpEvent> _record;
    private DpSampleParameters? _sampleParameters;
    private DpQueryState? _state;
    private bool _hasGradient;
    private bool _disposed;
    private IPrivateLoader? _loader;
    private long _consumedDraws;

    /// <summary>Creates the optimizer. <see cref="PrivacyEngine.MakePrivate(nn.Module, optim.Optimizer, Tensor, Tensor, DpSgdOptions)"/> is the usual way to get one.</summary>
    /// <param name="inner">The optimizer over exactly the model's trainable parameters: <c>model.parameters()</c>, or
    /// <c>model.parameters().Where(p =&gt; p.requires_grad)</c> when some are frozen (e.g. after <see cref="Layers.Lora.Apply"/>).</param>
    /// <param name="hooks">The per-example gradient hooks (<c>GradSampleHooks</c>) on the model.</param>
    /// <param name="query">The DP query (e.g. <see cref="GaussianSumQuery"/>).</param>
    /// <param name="gate">The noise source.</param>
    /// <param name="samplingProbability">q of the Poisson sampling that forms each batch, in (0, 1].</param>
    /// <param name="expectedBatchSize">q·N &gt; 0, the public normaliser of the noised sum.</param>
    /// <param name="ledger">Records every event the query emits.</param>
    /// <param name="microbatches">0 for per-example clipping; M ≥ 1 for M fixed microbatch slots (see <see cref="DpSgdOptions.Microbatches"/>).
    /// With microbatches, the noised sum is divided by M instead of the expected batch size.</param>
    /// <param name="schedule">The planned steps; stepping past them throws unless <paramref name="continueBeyondPlan"/>. Null: no plan, no guard.</param>
    /// <param name="continueBeyondPlan">Allow steps past the plan (their privacy cost is recorded like any other).</param>
    /// <exception cref="ArgumentException">The inner optimizer does not cover exactly the model's trainable parameters, or a value is out of range.</exception>
    public DpOptimizer(
        optim.Optimizer inner,
        GradSampleHooks hooks,
        IDpQuery query,
        NoiseGate gate,
        double samplingProbability,
        double expectedBatchSize,
        PrivacyLedger ledger,
        long microbatches = 0,
        StepSchedule? schedule = null,
        bool continueBeyondPlan = false)
        : this(inner, hooks, query, gate, samplingProbability, expectedBatchSize, Recorder(ledger), microbatches, schedule, continueBeyondPlan)
    {
    }

    /// <summary>The constructor behind the public one, recording events through <paramref name="record"/> (a ledger of another relation).</summary>
    internal DpOptimizer(
        optim.Optimizer inner,
        GradSampleHooks hooks,
        IDpQuery query,
        NoiseGate gate,
        double samplingProbability,
        double expectedBatchSize,
        Action<DpEvent> record,
        long microbatches,
        StepSchedule? schedule,
        bool continueBeyondPlan)
        : base(IntPtr.Zero)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(hooks);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(record);
        if (!(samplingProbability > 0 && samplingProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingProbability), samplingProbability, "Sampling probability must be in (0, 1].");
        }

        if (!(expectedBatchSize > 0 && double.IsFinite(expectedBatchSize)))
        {
            throw new ArgumentOutOfRangeException(nameof(expectedBatchSize), expectedBatchSize, "Expected batch size must be a finite number > 0.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(microbatches);
        _hooks = hooks;
        Query = query;
        _gate = gate;
        _record = record;
        InnerOptimizer = inner;
        SamplingProbability = samplingProbability;
        ExpectedBatchSize = expectedBatchSize;
        Microbatches = microbatches;
        Schedule = schedule;
        ContinueBeyondPlan = continueBeyondPlan;
        _parameters = hooks.Module.named_parameters()
            .Where(p => p.parameter.requires_grad)
            .ToDictionary(p => p.name, p => p.parameter);
        _shapes = _parameters.ToDictionary(kv => kv.Key, kv => (kv.Value.shape, kv.Value.dtype, kv.Value.device));

        // Every parameter the inner optimizer updates must get a private gradient, and vice versa.
        // Identify parameters by their storage: some TorchSharp modules (Embedding) hand out a new wrapper per read.
        var optimized = inner.parameters().Select(StorageKey).ToHashSet();
        var missing = _parameters.Where(kv => !optimized.Contains(StorageKey(kv.Value))).Select(kv => kv.Key).ToList();
        if (missing.Count > 0 || optimized.Count != _parameters.Count)
        {
            // Frozen parameters in the optimizer (e.g. model.parameters() after Lora.Apply) would be stepped without a private gradient.
            var frozen = hooks.Module.named_parameters()
                .Where(p => !p.parameter.requires_grad && optimized.Contains(StorageKey(p.parameter)))
                .Select(p => p.name)
                .ToList();
            throw new ArgumentException(
                $"The optimizer must be built over exactly the model's trainable parameters (model.parameters(), or " +
                $"model.parameters().Where(p => p.requires_grad) when some are frozen, e.g. after Lora.Apply). " +
                $"Not in the optimizer: [{string.Join(", ", missing)}]; frozen but in the optimizer: [{string.Join(", ", frozen)}]; " +
                $"optimizer has {optimized.Count}, model has {_parameters.Count} trainable.",
                nameof(inner));
        }

        GlobalState = query.InitialGlobalState();
        _hooks.Rearm();
    }

    /// <summary>The wrapped optimizer (its parameter groups are this optimizer's: schedulers change its rates).</summary>
    public optim.Optimizer InnerOptimizer { get; }

    /// <summary>The DP query that clips, noises and accounts every step.</summary>
    public IDpQuery Query { get; }

    /// <summary>The query's global state after the last step (null for queries without one).</summary>
    public object? GlobalState { get; internal set; }

    /// <summary>q, the Poisson sampling probability of each batch.</summary>
    public double SamplingProbability { get; }

    /// <summary>q·N, the divisor of the noised sum.</summary>
    public double ExpectedBatchSize { get; }

    /// <summary>0 for per-example clipping, else the number M of fixed microbatch slots.</summary>
    public long Microbatches { get; }

    /// <summary>The divisor of the noised sum: the expected batch size q·N, or M with microbatches (both public constants).</summary>
    public double Normalizer => Microbatches > 0 ? Microbatches : ExpectedBatchSize;

    /// <summary>The planned steps, or null when training has no plan.</summary>
    public StepSchedule? Schedule { get; }

    /// <summary>Whether steps past <see cref="Schedule"/> are allowed.</summary>
    public bool ContinueBeyondPlan { get; }

    /// <summary>In a data-parallel job: adds the processes' sums where the noise is drawn and shares the release; null in a single process.</summary>
    internal IReleaseCoordinator? Coordinator { get; set; }

    /// <summary>Private steps taken so far.</summary>
    public long Steps { get; internal set; }

    /// <summary>Parameter groups of the inner optimizer: learning-rate schedulers built on this optimizer change them.</summary>
    public override IEnumerable<optim.ILearningRateController> ParamGroups => InnerOptimizer.ParamGroups;

    private static Action<DpEvent> Recorder(PrivacyLedger ledger)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        return dpEvent => ledger.Record(dpEvent);
    }

    /// <summary>
    /// Ties this optimizer to the loader whose batches it releases: every step must then use exactly one batch newly drawn
    /// from it (no batch reused, none combined, none from elsewhere), which is what the accounted Poisson sampling (or,
    /// for fixed-size batches, one pass per tree) means.
    /// </summary>
    internal void LinkLoader(IPrivateLoader loader)
    {
        _loader = loader;
        _consumedDraws = loader.BatchesDrawn;
    }

    /// <summary>Marks every batch drawn so far as used (after a step, a failed step or a checkpoint restore).</summary>
    internal void ConsumeDraws() => _consumedDraws = _loader?.BatchesDrawn ?? 0;

    private void ThrowUnlessOneFreshDraw(LogicalBatch? batch)
    {
        if (_loader is null)
        {
            return;
        }

        var fresh = _loader.BatchesDrawn - _consumedDraws;
        if (fresh != 1 || (batch is not null && (!ReferenceEquals(batch.Loader, _loader) || batch.DrawIndex != _loader.BatchesDrawn)))
        {
            throw new InvalidOperationException(
                $"Each private step must use exactly one batch newly drawn from its private loader ({fresh} drawn since the last step" +
                (batch is null ? "" : ", and the batch given is not the latest one drawn") +
                "). Reusing a batch, combining batches or feeding batches from another loader would break the sampling (Poisson, or one " +
                "batch per example and pass) that the accountant assumes, so ε would be wrong.");
        }
    }

    /// <summary>The parameters the inner optimizer updates.</summary>
    /// <returns>The parameters.</returns>
    public override IEnumerable<TorchSharp.Modules.Parameter> parameters() => InnerOptimizer.parameters();

    /// <summary>Starts a physical batch explicitly (the low-level path): layer inputs and outputs recorded so far are dropped.</summary>
    /// <returns>The step scope; dispose it after <see cref="Backward"/>.</returns>
    public GradSampleStep BeginPhysicalBatch()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _hooks.Rearm();
    }

    /// <summary>
    /// The DP backward: clips the per-example gradients of the forward just run and adds their sum to the step's total
    /// (call it once per forward; several calls before <c>step()</c> accumulate one logical batch in pieces).
    /// </summary>
    /// <param name="perExampleLoss">ℓ_i per example, shape [B] (<c>reduction: none</c>), from the last forward.</param>
    /// <exception cref="NonFiniteGradientException">A per-example gradient is NaN or infinite (nothing is accumulated).</exception>
    /// <exception cref="InvalidOperationException">No forward was recorded, or microbatches are on (they need <see cref="Step(LogicalBatch, Func{IReadOnlyDictionary{string, Tensor}, Tensor})"/>).</exception>
    public void Backward(Tensor perExampleLoss)
    {
        ArgumentNullException.ThrowIfNull(perExampleLoss);
        if (Microbatches > 0)
        {
            throw new InvalidOperationException("With microbatches, use Step(batch, lossFunction): it forms the microbatch slots.");
        }

        if (_loader?.PrivacyUnits is { } units)
        {
            throw new InvalidOperationException(
                $"With privacy units (one record per {units.Name}), use Step(batch, lossFunction): it makes each sampled {units.Name}'s examples one clipped record.");
        }

        BackwardCore(perExampleLoss, 1);
    }

    /// <summary>
    /// Discards the DP gradient accumulated since the last step and zeroes the inner optimizer's gradients. A forward
    /// already run (and not yet backpropagated) stays recorded, so zero_grad may come before or after the forward.
    /// </summary>
    public override void zero_grad()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        DiscardStep();
        InnerOptimizer.zero_grad();
    }

    /// <summary>
    /// Finishes the logical batch: the query adds noise, the result is divided by <see cref="Normalizer"/> and set as every
    /// trainable parameter's gradient, the event is recorded and the inner optimizer steps.
    /// </summary>
    /// <param name="closure">Optional: runs the forward and <see cref="Backward"/> and returns the loss (as TorchSharp's closures do).</param>
    /// <returns>The closure's loss, or null.</returns>
    /// <exception cref="InvalidOperationException">No <see cref="Backward"/> since the last step.</exception>
    /// <exception cref="StepPlanExceededException">The planned steps have all run.</exception>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfPlanUsedUp();
        Tensor? loss = null;
        if (closure is not null)
        {
            using (torch.enable_grad())
            {
                loss = closure();
            }
        }

        if (!_hasGradient)
        {
            throw new InvalidOperationException(
                "The private step needs a DP gradient: call optimizer.Backward(perExampleLoss) after the forward (instead of loss.backward()), " +
                "or use Step(batch, lossFunction), which runs the forward and backward itself.");
        }

        ThrowUnlessOneFreshDraw(null);

        StepCore();
        return loss!;
    }

    /// <summary>
    /// One private step over a logical batch, its forward and backward run in physical chunks of at most
    /// <see cref="LogicalBatch.MaxPhysicalBatchSize"/> examples (memory stays bounded for any draw). An empty batch is
    /// released as pure noise.
    /// </summary>
    /// <param name="batch">The logical batch from <see cref="PoissonDataLoader"/>.</param>
    /// <param name="perExampleLoss">Chunk → ℓ_i per example, shape [k]; must call the model with <c>.call()</c>.</param>
    /// <returns>The number of examples in the batch (private: for local diagnostics only).</returns>
    /// <exception cref="StepPlanExceededException">The planned steps have all run.</exception>
    public long Step(LogicalBatch batch, Func<IReadOnlyDictionary<string, Tensor>, Tensor> perExampleLoss)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(perExampleLoss);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfPlanUsedUp();
        if (_hasGradient)
        {
            throw new InvalidOperationException(
                "A DP gradient from Backward is pending: finish it with step() or drop it with zero_grad() before Step(batch, lossFunction).");
        }

        ThrowUnlessOneFreshDraw(batch);
        try
        {
            if (batch.UnitGroups() is { } units)
            {
                // Largest units first, so that units of similar size share a physical batch and little is padded.
                GroupedBackward(batch, [.. units.OrderByDescending(g => g.Length)], perExampleLoss);
            }
            else if (Microbatches > 0)
            {
                GroupedBackward(batch, [.. batch.Indices.GroupBy(i => i % Microbatches).Select(g => g.ToArray())], perExampleLoss);
            }
            else
            {
                foreach (var chunk in batch.PhysicalBatches())
                {
                    using var scope = torch.NewDisposeScope();
                    using var step = BeginPhysicalBatch();
                    Backward(perExampleLoss(chunk));
                }
            }
        }
        catch
        {
            AbandonStep();
            throw;
        }

        StepCore();
        return batch.Count;
    }

    /// <summary>
    /// <see cref="Step(LogicalBatch, Func{IReadOnlyDictionary{string, Tensor}, Tensor})"/> for batches with the keys
    /// <see cref="PoissonDataLoader.InputKey"/> and <see cref="PoissonDataLoader.TargetKey"/> (data sets made from an
    /// (inputs, targets) pair of tensors).
    /// </summary>
    /// <param name="batch">The logical batch.</param>
    /// <param name="perExampleLoss">(inputs, targets) → ℓ_i per example.</param>
    /// <returns>The number of examples in the batch (private).</returns>
    public long Step(LogicalBatch batch, Func<Tensor, Tensor, Tensor> perExampleLoss)
    {
        ArgumentNullException.ThrowIfNull(perExampleLoss);
        return Step(batch, chunk => perExampleLoss(chunk[PoissonDataLoader.InputKey], chunk[PoissonDataLoader.TargetKey]));
    }

    /// <summary>Frees the accumulated state, and the hooks and noise gate when this optimizer owns them (the model and inner optimizer stay).</summary>
    /// <param name="disposing">True from <c>Dispose()</c>.</param>
    protected override void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            DiscardStep();
            DisposeIfReplaced(GlobalState, null);
            foreach (var owned in _owned)
            {
                owned.Dispose();
            }

            _disposed = true;
        }

        base.Dispose(disposing);
    }

    /// <summary>Makes this optimizer dispose <paramref name="resource"/> with itself.</summary>
    internal void Own(IDisposable resource) => _owned.Add(resource);

    private void ThrowIfPlanUsedUp()
    {
        if (Schedule is { } plan && !ContinueBeyondPlan && Steps >= plan.TotalSteps)
        {
            DiscardStep();
            ConsumeDraws();
            throw new StepPlanExceededException(plan);
        }
    }

    private DpStepInfo StepInfo => new(Steps, SamplingProbability, ExpectedBatchSize) { Pass = _loader?.LatestPass };

    private (DpSampleParameters Parameters, DpQueryState State) CurrentStep()
    {
        if (_sampleParameters is null || _state is null)
        {
            _sampleParameters = Query.DeriveSampleParameters(GlobalState, StepInfo)
                ?? throw new InvalidOperationException($"{Query.GetType().Name}.DeriveSampleParameters returned null.");
            _state = Query.InitialSampleState(_sampleParameters)
                ?? throw new InvalidOperationException($"{Query.GetType().Name}.InitialSampleState returned null.");
        }

        return (_sampleParameters, _state);
    }

    private void DiscardStep()
    {
        _state?.Dispose();
        _state = null;
        _sampleParameters = null;
        _hasGradient = false;
    }

    private void BackwardCore(Tensor perExampleLoss, long microbatchSize)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowUnlessOneFreshDraw(null);
        if (!_hooks.IsRecording)
        {
            throw new InvalidOperationException(
                "No forward was recorded for this backward: run the model (with .call(), gradients enabled) after zero_grad() or the last step, then call Backward once.");
        }

        var (parameters, state) = CurrentStep();
        try
        {
            using var scope = torch.NewDisposeScope();
            var clipped = _hooks.ClipAndSum(perExampleLoss, parameters.RecordClipping, microbatchSize);
            Query.Accumulate(state, parameters, clipped);
        }
        catch
        {
            // A logical batch is released whole or not at all: drop what it accumulated so far, and its draw.
            AbandonStep();
            throw;
        }
        finally
        {
            _hooks.Rearm();
        }

        _hasGradient = true;
    }

    // Groups of examples, each one record: a microbatch slot (example i belongs to slot i mod M) or a privacy unit's
    // examples. Every group present in the batch becomes the mean loss of its examples. In each physical batch the groups
    // are padded to the largest one's size K with weight-0 copies, so the hooks see equal groups of K consecutive rows; a
    // group is never split across physical batches.
    private void GroupedBackward(LogicalBatch batch, IReadOnlyList<long[]> groups, Func<IReadOnlyDictionary<string, Tensor>, Tensor> perExampleLoss)
    {
        CurrentStep();
        if (groups.Count == 0)
        {
            _hasGradient = true;
            return;
        }

        foreach (var chunk in ChunkGroups(groups, batch.MaxPhysicalBatchSize))
        {
            var k = chunk.Max(g => g.Length);
            var rows = new List<long>(chunk.Count * k);
            var weights = new List<float>(chunk.Count * k);
            foreach (var group in chunk)
            {
                for (var j = 0; j < k; j++)
                {
                    rows.Add(group[Math.Min(j, group.Length - 1)]);
                    // The hooks average over the K rows of a group; weight K/|group| turns that into the mean over the group.
                    weights.Add(j < group.Length ? (float)k / group.Length : 0f);
                }
            }

            using var scope = torch.NewDisposeScope();
            using var step = BeginPhysicalBatch();
            var loss = perExampleLoss(batch.Rows(rows));
            BackwardCore(loss * torch.tensor(weights.ToArray(), dtype: loss.dtype, device: loss.device), k);
        }
    }

    /// <summary>
    /// Consecutive groups per physical batch while (groups · largest group) ≤ <paramref name="maxRows"/>; a group larger
    /// than that is a physical batch of its own.
    /// </summary>
    internal static List<List<long[]>> ChunkGroups(IReadOnlyList<long[]> groups, long maxRows)
    {
        var chunks = new List<List<long[]>>();
        List<long[]>? current = null;
        var largest = 0;
        foreach (var group in groups)
        {
            var k = Math.Max(largest, group.Length);
            if (current is null || (long)(current.Count + 1) * k > maxRows)
            {
                current = [group];
                chunks.Add(current);
                largest = group.Length;
            }
            else
            {
                current.Add(group);
                largest = k;
            }
        }

        return chunks;
    }

    private static (IntPtr Data, long Offset) StorageKey(Tensor p) => p.dtype switch
    {
        ScalarType.Float32 => (p.storage<float>().data_ptr(), p.storage_offset()),
        ScalarType.Float64 => (p.storage<double>().data_ptr(), p.storage_offset()),
        ScalarType.Float16 => (p.storage<Half>().data_ptr(), p.storage_offset()),
        _ => throw new NotSupportedException($"Parameters of type {p.dtype} are not supported."),
    };

    private void StepCore()
    {
        var (_, state) = CurrentStep();
        using var scope = torch.NewDisposeScope();
        DpQueryRelease? release = null;
        try
        {
            release = Coordinator is { } coordinator
                ? coordinator.Release(state, _shapes, Release)
                : Release(state);
            var missing = _parameters.Keys.Where(name => !release.NoisedSum.ContainsKey(name)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidOperationException($"The DP query released no gradient for parameter(s) {string.Join(", ", missing.Select(m => $"'{m}'"))}.");
            }

            // Account for the release before anything of it reaches the model, so that no failure after this point can
            // leave a release unaccounted.
            if (release.Event is { } dpEvent)
            {
                _record(dpEvent);
            }
        }
        catch
        {
            // A global state that owns tensors (the tree query's) and was made for this release goes with it.
            if (release is not null)
            {
                DisposeIfReplaced(release.GlobalState, GlobalState);
            }

            AbandonStep();
            throw;
        }

        // From here the release counts as a step whatever happens: if the inner optimizer throws, its sum must not be
        // released again, or carried into the next step's, and the plan guard must see it.
        try
        {
            foreach (var (name, p) in _parameters)
            {
                p.grad = release.NoisedSum[name].div(Normalizer);
            }

            var previous = GlobalState;
            GlobalState = release.GlobalState;
            DisposeIfReplaced(previous, GlobalState);
            InnerOptimizer.step();
        }
        finally
        {
            Steps++;
            AbandonStep();
        }
    }

    private DpQueryRelease Release(DpQueryState state) =>
        Query.GetNoisedResult(state, GlobalState, StepInfo, _gate, _shapes)
            ?? throw new InvalidOperationException($"{Query.GetType().Name}.GetNoisedResult returned null.");

    /// <summary>Disposes a global state that owns resources once <paramref name="current"/> has replaced it.</summary>
    private static void DisposeIfReplaced(object? replaced, object? current)
    {
        if (!ReferenceEquals(replaced, current) && replaced is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    /// <summary>Ends the current step without (further) release: drops its state, its recorded forward and its draw.</summary>
    private void AbandonStep()
    {
        DiscardStep();
        ConsumeDraws();
        _hooks.Rearm();
    }
}
