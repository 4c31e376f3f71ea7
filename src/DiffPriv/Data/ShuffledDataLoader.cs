using System.Collections;
using DiffPriv.Accounting;
using DiffPriv.Noise;

namespace DiffPriv.Data;

/// <summary>
/// Fixed-size batches for DP-FTRL: every pass over the data (one <c>foreach</c>, an epoch) draws a fresh random order of
/// the N examples and cuts it into ⌈N/B⌉ consecutive batches of B examples (the last one holds the remainder), so every
/// example is in exactly one batch of each pass. There is no Poisson sampling and no amplification by sampling: DP-FTRL's
/// guarantee holds for any order, the shuffle only helps the model.
/// </summary>
/// <remarks>
/// The loader follows its <see cref="Schedule"/> like <see cref="PoissonDataLoader"/>: the plan's passes run exactly its
/// <see cref="StepSchedule.TotalSteps"/> (the last pass shortened to the remainder) and one more pass throws
/// <see cref="StepPlanExceededException"/>. The private optimizer learns each batch's pass, and the tree query starts a new
/// tree with every pass, so a pass left unfinished costs a whole tree of privacy and the next pass still starts afresh.
/// </remarks>
public sealed class ShuffledDataLoader : IEnumerable<LogicalBatch>, IPrivateLoader
{
    private readonly BatchSource _source;
    private readonly NoiseGate _gate;

    internal ShuffledDataLoader(BatchSource source, long batchSize, long maxPhysicalBatchSize, NoiseGate gate, StepSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, source.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPhysicalBatchSize, 1);
        if (schedule.DatasetSize != source.Count || schedule.ExpectedBatchSize != batchSize)
        {
            throw new ArgumentException($"The schedule is for N = {schedule.DatasetSize}, B = {schedule.ExpectedBatchSize}, not N = {source.Count}, B = {batchSize}.", nameof(schedule));
        }

        _source = source;
        _gate = gate;
        BatchSize = batchSize;
        MaxPhysicalBatchSize = maxPhysicalBatchSize;
        Schedule = schedule;
    }

    /// <summary>N, the number of examples.</summary>
    public long DatasetSize => _source.Count;

    /// <summary>B, the size of every batch but the last of a pass (a public constant, the divisor of the noised sum).</summary>
    public long BatchSize { get; }

    /// <summary>The largest physical batch.</summary>
    public long MaxPhysicalBatchSize { get; }

    /// <summary>⌈N/B⌉, the batches of a full pass.</summary>
    public long StepsPerEpoch => Schedule.StepsPerEpoch;

    /// <summary>The plan the passes follow.</summary>
    public StepSchedule Schedule { get; }

    /// <summary>How many batches were drawn so far.</summary>
    public long BatchesDrawn { get; internal set; }

    /// <summary>How many passes (enumerations) were started so far.</summary>
    public long EpochsStarted { get; internal set; }

    /// <inheritdoc />
    long? IPrivateLoader.LatestPass => _latestPass;

    /// <summary>DP-FTRL's fixed batches are of examples: no privacy units.</summary>
    PrivacyUnits? IPrivateLoader.PrivacyUnits => null;

    private long? _latestPass;

    /// <summary>One pass: a fresh order, cut into batches of <see cref="BatchSize"/> (the plan's last pass may be shorter).</summary>
    /// <returns>The batches, drawn lazily.</returns>
    /// <exception cref="StepPlanExceededException">The plan's passes are used up (thrown on the first <c>MoveNext</c>).</exception>
    public IEnumerator<LogicalBatch> GetEnumerator()
    {
        var remaining = Schedule.TotalSteps - BatchesDrawn;
        if (remaining <= 0 && EpochsStarted >= Schedule.Epochs)
        {
            throw new StepPlanExceededException(Schedule);
        }

        var length = Math.Clamp(remaining, 0, StepsPerEpoch);
        var pass = EpochsStarted;
        EpochsStarted++;
        if (length == 0)
        {
            yield break;
        }

        long[] order;
        using (var permutation = _gate.Permutation(DatasetSize))
        {
            order = permutation.data<long>().ToArray();
        }

        for (long i = 0; i < length; i++)
        {
            var start = i * BatchSize;
            var count = (int)Math.Min(BatchSize, DatasetSize - start);
            BatchesDrawn++;
            _latestPass = pass;
            var indices = order.AsSpan((int)start, count).ToArray();
            Array.Sort(indices);
            yield return new LogicalBatch(_source, indices, MaxPhysicalBatchSize, this, BatchesDrawn);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
