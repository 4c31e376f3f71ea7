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
/// batch, noised by the query through the noise gate, divided by the expected batch size q·N, and then handed to the
/// inner optimizer. Each step records <c>PoissonSampledDpEvent(q, event)</c> in the privacy ledger.
/// </summary>
/// <remarks>
/// Typical use: <c>optimizer.Step(batch, (x, y) =&gt; perExampleLoss(model.call(x), y))</c> once per logical batch.
/// The low-level path is <see cref="BeginPhysicalBatch"/> → forward → <see cref="Backward"/> (repeated per physical
/// batch) → <see cref="Step()"/>. Stepping without a completed DP gradient computation throws; ordinary
/// <c>loss.backward()</c> gradients are never used.
/// </remarks>
public sealed class DpOptimizer : IDisposable
{
    private readonly GradSampleHooks _module;
    private readonly IDpQuery _query;
    private readonly NoiseGate _gate;
    private readonly Dictionary<string, TorchSharp.Modules.Parameter> _parameters;
    private readonly Dictionary<string, (long[] Shape, ScalarType Type, Device Device)> _shapes;
    private DpQueryState _state;
    private bool _hasGradient;
    private bool _disposed;

    /// <summary>Creates the optimizer. <see cref="PrivacyEngine.MakePrivate"/> is the usual way to get one.</summary>
    /// <param name="inner">The optimizer over the model's trainable parameters.</param>
    /// <param name="module">The per-example gradient hooks (<c>GradSampleHooks</c>) wrapping the model.</param>
    /// <param name="query">The DP query (e.g. <see cref="GaussianSumQuery"/>).</param>
    /// <param name="gate">The noise source.</param>
    /// <param name="samplingProbability">q of the Poisson sampling that forms each batch, in (0, 1].</param>
    /// <param name="expectedBatchSize">q·N &gt; 0, the public normaliser of the noised sum.</param>
    /// <param name="ledger">Records every step's event.</param>
    /// <param name="microbatches">0 for per-example clipping; M ≥ 1 for M fixed microbatch slots (see <see cref="DpSgdOptions.Microbatches"/>).
    /// With microbatches, the noised sum is divided by M instead of the expected batch size.</param>
    /// <exception cref="ArgumentException">The inner optimizer does not cover exactly the model's trainable parameters, or a value is out of range.</exception>
    public DpOptimizer(
        optim.Optimizer inner,
        GradSampleHooks module,
        IDpQuery query,
        NoiseGate gate,
        double samplingProbability,
        double expectedBatchSize,
        PrivacyLedger ledger,
        long microbatches = 0)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(ledger);
        if (!(samplingProbability > 0 && samplingProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingProbability), samplingProbability, "Sampling probability must be in (0, 1].");
        }

        if (!(expectedBatchSize > 0 && double.IsFinite(expectedBatchSize)))
        {
            throw new ArgumentOutOfRangeException(nameof(expectedBatchSize), expectedBatchSize, "Expected batch size must be a finite number > 0.");
        }

        _module = module;
        _query = query;
        _gate = gate;
        Ledger = ledger;
        InnerOptimizer = inner;
        SamplingProbability = samplingProbability;
        ExpectedBatchSize = expectedBatchSize;
        ArgumentOutOfRangeException.ThrowIfNegative(microbatches);
        Microbatches = microbatches;
        _parameters = module.Module.named_parameters()
            .Where(p => p.parameter.requires_grad)
            .ToDictionary(p => p.name, p => p.parameter);
        _shapes = _parameters.ToDictionary(kv => kv.Key, kv => (kv.Value.shape, kv.Value.dtype, kv.Value.device));

        // Every parameter the inner optimizer updates must get a private gradient, and vice versa.
        // Identify parameters by their storage: some TorchSharp modules (Embedding) hand out a new wrapper per read.
        var optimized = inner.parameters().Select(StorageKey).ToHashSet();
        var missing = _parameters.Where(kv => !optimized.Contains(StorageKey(kv.Value))).Select(kv => kv.Key).ToList();
        if (missing.Count > 0 || optimized.Count != _parameters.Count)
        {
            throw new ArgumentException(
                $"The optimizer must be built over exactly the model's trainable parameters (model.parameters()). " +
                $"Not in the optimizer: [{string.Join(", ", missing)}]; optimizer has {optimized.Count}, model has {_parameters.Count} trainable.",
                nameof(inner));
        }

        _state = query.InitialSampleState();
    }

    /// <summary>The wrapped optimizer (learning-rate schedulers attach to it).</summary>
    public optim.Optimizer InnerOptimizer { get; }

    /// <summary>q, the Poisson sampling probability of each batch.</summary>
    public double SamplingProbability { get; }

    /// <summary>q·N, the divisor of the noised sum.</summary>
    public double ExpectedBatchSize { get; }

    /// <summary>0 for per-example clipping, else the number M of fixed microbatch slots.</summary>
    public long Microbatches { get; }

    /// <summary>The divisor of the noised sum: the expected batch size q·N, or M with microbatches (both public constants).</summary>
    public double Normalizer => Microbatches > 0 ? Microbatches : ExpectedBatchSize;

    /// <summary>Where every step's privacy event is recorded.</summary>
    internal PrivacyLedger Ledger { get; set; }

    /// <summary>Private steps taken so far.</summary>
    public long Steps { get; internal set; }

    /// <summary>Starts a physical batch: layer inputs and outputs are recorded until the returned step is disposed.</summary>
    /// <returns>The step scope; dispose it after <see cref="Backward"/>.</returns>
    public GradSampleStep BeginPhysicalBatch()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _module.BeginStep();
    }

    /// <summary>Clips this physical batch's per-example gradients and adds their sum to the step's total.</summary>
    /// <param name="perExampleLoss">ℓ_i per example, shape [B], from the forward run inside <see cref="BeginPhysicalBatch"/>.</param>
    /// <exception cref="NonFiniteGradientException">A per-example gradient is NaN or infinite (nothing is accumulated).</exception>
    public void Backward(Tensor perExampleLoss)
    {
        if (Microbatches > 0)
        {
            throw new InvalidOperationException("With microbatches, use Step(batch, lossFunction): it forms the microbatch slots.");
        }

        BackwardCore(perExampleLoss, 1);
    }

    private void BackwardCore(Tensor perExampleLoss, long microbatchSize)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = torch.NewDisposeScope();
        var clipped = _module.ClipAndSum(perExampleLoss, _query.RecordClipping, microbatchSize);
        _query.Accumulate(_state, clipped);
        _hasGradient = true;
    }

    /// <summary>
    /// Finishes the logical batch: adds noise, divides by q·N, sets every trainable parameter's gradient, steps the inner
    /// optimizer and records <c>PoissonSampledDpEvent(q, event)</c> in the ledger.
    /// </summary>
    /// <exception cref="InvalidOperationException">No <see cref="Backward"/> since the last step.</exception>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_hasGradient)
        {
            throw new InvalidOperationException(
                "DpOptimizer.Step() needs a DP gradient: call Backward(perExampleLoss) for each physical batch first, " +
                "or use Step(batch, lossFunction), which also handles empty Poisson batches.");
        }

        StepCore();
    }

    /// <summary>One private step over a Poisson-sampled logical batch (which may be empty: then the update is pure noise).</summary>
    /// <param name="batch">The logical batch from <see cref="PoissonDataLoader"/>.</param>
    /// <param name="perExampleLoss">(inputs, targets) → ℓ_i per example, shape [B]; must call the model with <c>.call()</c>.</param>
    /// <returns>The number of examples in the batch (private: for local diagnostics only).</returns>
    public long Step(LogicalBatch batch, Func<Tensor, Tensor, Tensor> perExampleLoss)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(perExampleLoss);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Microbatches > 0)
        {
            MicrobatchBackward(batch, perExampleLoss);
        }
        else
        {
            foreach (var (x, y) in batch.PhysicalBatches())
            {
                using var scope = torch.NewDisposeScope();
                using var step = BeginPhysicalBatch();
                Backward(perExampleLoss(x, y));
            }
        }

        StepCore();
        return batch.Count;
    }

    // Microbatches: example i belongs to slot i mod M. Every slot present in the batch becomes one record: the mean loss
    // of its sampled examples. Slots are padded to the largest slot size K with weight-0 copies so the hooks sees
    // equal groups of K consecutive rows; a group is never split across physical batches.
    private void MicrobatchBackward(LogicalBatch batch, Func<Tensor, Tensor, Tensor> perExampleLoss)
    {
        var indices = batch.Indices.data<long>().ToArray();
        if (indices.Length == 0)
        {
            return;
        }

        var slots = indices.GroupBy(i => i % Microbatches).Select(g => g.ToArray()).ToList();
        var k = slots.Max(g => g.Length);
        var groupsPerChunk = Math.Max(1, batch.Loader.MaxPhysicalBatchSize / k);
        foreach (var chunk in slots.Chunk((int)Math.Min(groupsPerChunk, int.MaxValue)))
        {
            var rows = new List<long>(chunk.Length * k);
            var weights = new List<float>(chunk.Length * k);
            foreach (var group in chunk)
            {
                for (var j = 0; j < k; j++)
                {
                    rows.Add(group[Math.Min(j, group.Length - 1)]);
                    // The hooks averages over the K rows of a group; weight K/|group| turns that into the mean over the group.
                    weights.Add(j < group.Length ? (float)k / group.Length : 0f);
                }
            }

            using var scope = torch.NewDisposeScope();
            using var step = BeginPhysicalBatch();
            var index = torch.tensor(rows.ToArray(), dtype: ScalarType.Int64);
            var (x, y) = (batch.Loader.Inputs.index_select(0, index), batch.Loader.Targets.index_select(0, index));
            var loss = perExampleLoss(x, y);
            BackwardCore(loss * torch.tensor(weights.ToArray(), dtype: loss.dtype, device: loss.device), k);
        }
    }

    /// <summary>Forgets a partially accumulated batch (e.g. after an exception).</summary>
    public void ZeroGrad()
    {
        _state.Dispose();
        _state = _query.InitialSampleState();
        _hasGradient = false;
        InnerOptimizer.zero_grad();
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
        using (var scope = torch.NewDisposeScope())
        {
            var result = _query.GetNoisedResult(_state, _gate, _shapes);
            foreach (var (name, p) in _parameters)
            {
                if (!result.NoisedSum.TryGetValue(name, out var noised))
                {
                    throw new InvalidOperationException($"The DP query released no gradient for parameter '{name}'.");
                }

                p.grad = noised.div(Normalizer);
            }

            // The noised gradient is released to the inner optimizer now: account for it first, so that a failure inside
            // the optimizer's step (after some parameters may already have moved) can never leave a release unaccounted.
            Ledger.Record(new PoissonSampledDpEvent(SamplingProbability, result.Event));
            InnerOptimizer.step();
        }

        Steps++;
        _state.Dispose();
        _state = _query.InitialSampleState();
        _hasGradient = false;
    }

    /// <summary>Frees the accumulated state (the model, inner optimizer and hooks are not disposed).</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _state.Dispose();
            _disposed = true;
        }
    }
}
