using System.Collections;
using DiffPriv.Accounting;
using DiffPriv.Noise;
using static TorchSharp.torch;

namespace DiffPriv.Data;

/// <summary>
/// Poisson-sampled batches: at every step each example joins the batch independently with probability q, so batch sizes
/// vary (and may be 0). This is the sampling the accountant's <c>PoissonSampledDpEvent</c> describes; shuffled
/// fixed-size batches would not be. Enumerate it like a TorchSharp <c>DataLoader</c>: one <c>foreach</c> is one epoch.
/// </summary>
/// <remarks>
/// <para>With <see cref="DpSgdOptions.PrivacyUnits"/>, units (users) are sampled instead: each unit joins with probability q
/// and brings all its examples, and the batch lists them unit after unit (see <see cref="PrivacyUnits"/>).</para>
/// <para>Only the sampled examples are read from the data set. A logical batch can be split into physical batches of at
/// most <see cref="MaxPhysicalBatchSize"/> examples (<see cref="LogicalBatch.PhysicalBatches"/>) so memory stays bounded
/// whatever the draw.</para>
/// <para>With a <see cref="Schedule"/>, each <c>foreach</c> yields ⌈N/B⌉ batches, the last epoch only the remainder (and
/// a trailing epoch of the plan none), so a loop over the plan's <see cref="StepSchedule.Epochs"/> runs exactly its
/// <see cref="StepSchedule.TotalSteps"/>; an epoch beyond those throws <see cref="StepPlanExceededException"/> unless the
/// plan may be exceeded. Without a schedule every epoch has ⌈N/B⌉ batches.</para>
/// </remarks>
public sealed class PoissonDataLoader : IEnumerable<LogicalBatch>, IPrivateLoader
{
    /// <summary>The key of the inputs in batches made from an (inputs, targets) pair of tensors.</summary>
    public const string InputKey = "data";

    /// <summary>The key of the targets in batches made from an (inputs, targets) pair of tensors.</summary>
    public const string TargetKey = "label";

    private readonly NoiseGate _gate;
    private readonly BatchSource _source;
    private readonly PrivacyUnits? _units;

    /// <summary>Creates a loader over in-memory tensors, with keys <see cref="InputKey"/> and <see cref="TargetKey"/> and no plan.</summary>
    /// <param name="inputs">Examples, first dimension N (e.g. [N, 1, 28, 28]).</param>
    /// <param name="targets">Labels, first dimension N.</param>
    /// <param name="samplingProbability">q ∈ (0, 1].</param>
    /// <param name="maxPhysicalBatchSize">The largest physical batch, ≥ 1.</param>
    /// <param name="gate">The randomness source (secure in production; seeded in tests).</param>
    /// <exception cref="ArgumentException">Shapes disagree or a value is out of range.</exception>
    public PoissonDataLoader(Tensor inputs, Tensor targets, double samplingProbability, long maxPhysicalBatchSize, NoiseGate gate)
        : this(PairSource(inputs, targets, null), samplingProbability, maxPhysicalBatchSize, gate, null, false)
    {
    }

    internal PoissonDataLoader(
        BatchSource source, double samplingProbability, long maxPhysicalBatchSize, NoiseGate gate, StepSchedule? schedule, bool continueBeyondPlan, PrivacyUnits? units = null)
    {
        ArgumentNullException.ThrowIfNull(gate);
        if (units is not null && units.ExampleCount != source.Count)
        {
            throw new ArgumentException($"The privacy units cover {units.ExampleCount} examples, the data set has {source.Count}.", nameof(units));
        }

        if (!(samplingProbability > 0 && samplingProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingProbability), samplingProbability, "Sampling probability must be in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxPhysicalBatchSize, 1);
        _source = source;
        SamplingProbability = samplingProbability;
        MaxPhysicalBatchSize = maxPhysicalBatchSize;
        Schedule = schedule;
        ContinueBeyondPlan = continueBeyondPlan;
        _gate = gate;
        _units = units;
    }

    /// <summary>N, the number of examples.</summary>
    public long DatasetSize => _source.Count;

    /// <summary>The privacy units that are sampled (user-level DP), or null when every example is its own unit.</summary>
    public PrivacyUnits? PrivacyUnits => _units;

    /// <summary>The number of units sampled from: U with <see cref="PrivacyUnits"/>, else N (every example is a unit).</summary>
    public long UnitCount => _units?.Count ?? DatasetSize;

    /// <summary>q, the probability that a unit (an example, or a user with <see cref="PrivacyUnits"/>) is in a step's batch.</summary>
    public double SamplingProbability { get; }

    /// <summary>q·N (q·U with <see cref="PrivacyUnits"/>), the expected number of units per batch: a public constant, used to normalise the noised sum.</summary>
    public double ExpectedBatchSize => SamplingProbability * UnitCount;

    /// <summary>The largest physical batch.</summary>
    public long MaxPhysicalBatchSize { get; }

    /// <summary>⌈N/B⌉ = ⌈1/q⌉ steps per epoch, N counting units (the last epoch of a plan may be shorter).</summary>
    public long StepsPerEpoch => Schedule?.StepsPerEpoch ?? StepSchedule.StepsPerEpochOf(UnitCount, ExpectedBatchSize);

    /// <summary>The plan the epochs follow, or null (no plan: every epoch is ⌈N/B⌉ steps and nothing is guarded).</summary>
    public StepSchedule? Schedule { get; }

    /// <summary>Whether epochs may continue past the plan.</summary>
    public bool ContinueBeyondPlan { get; }

    /// <summary>How many logical batches were drawn so far (restored from checkpoints).</summary>
    public long BatchesDrawn { get; internal set; }

    /// <summary>How many epochs (enumerations) were started so far (restored from checkpoints).</summary>
    public long EpochsStarted { get; internal set; }

    /// <inheritdoc />
    long? IPrivateLoader.LatestPass => null;

    /// <summary>In a data-parallel job: draws on one process and gives each its share of every batch; null in a single process.</summary>
    internal IBatchDistributor? Distributor { get; set; }

    /// <summary>Draws the next logical batch (not guarded by the plan; the private optimizer's step is).</summary>
    /// <returns>The batch; nothing is loaded until it is read.</returns>
    public LogicalBatch NextBatch()
    {
        long[] indices = Distributor is { } distributor ? distributor.Share(Draw) : Draw();

        int[]? unitSizes = null;
        if (_units is not null)
        {
            (indices, unitSizes) = _units.Expand(indices);
        }

        BatchesDrawn++;
        return new LogicalBatch(_source, indices, MaxPhysicalBatchSize, this, BatchesDrawn, unitSizes);
    }

    private long[] Draw()
    {
        using var sample = _gate.PoissonSample(UnitCount, SamplingProbability);
        return sample.data<long>().ToArray();
    }

    /// <summary>One epoch (same as enumerating the loader).</summary>
    /// <returns>The batches, drawn lazily.</returns>
    public IEnumerable<LogicalBatch> Epoch() => this;

    /// <summary>One epoch: ⌈N/B⌉ (N counting units) independently drawn logical batches, or the plan's remainder in its last epoch.</summary>
    /// <returns>The batches, drawn lazily.</returns>
    /// <exception cref="StepPlanExceededException">The plan's steps and epochs are used up (thrown on the first <c>MoveNext</c>).</exception>
    public IEnumerator<LogicalBatch> GetEnumerator()
    {
        var length = StepsPerEpoch;
        if (Schedule is { } plan)
        {
            // The plan's own epochs always follow it (the last shortened, trailing ones empty); only epochs after the
            // plan are full length, and only when continuing was asked for.
            var remaining = plan.TotalSteps - BatchesDrawn;
            if (remaining > 0 || EpochsStarted < plan.Epochs)
            {
                length = Math.Clamp(remaining, 0, length);
            }
            else if (!ContinueBeyondPlan)
            {
                throw new StepPlanExceededException(plan);
            }
        }

        EpochsStarted++;

        for (long i = 0; i < length; i++)
        {
            yield return NextBatch();
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal static BatchSource PairSource(Tensor inputs, Tensor targets, Device? device)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.dim() == 0 || targets.dim() == 0 || inputs.shape[0] != targets.shape[0])
        {
            throw new ArgumentException($"inputs and targets must share their first dimension N (got {inputs.shape.FirstOrDefault()} and {targets.shape.FirstOrDefault()}).", nameof(targets));
        }

        return new TensorBatchSource(new Dictionary<string, Tensor> { [InputKey] = inputs, [TargetKey] = targets }, device);
    }
}
