namespace DiffPriv.Accounting;

/// <summary>
/// The steps of a planned DP-SGD run, shared by calibration, the data loader and the privacy report so that the loop
/// runs exactly the steps σ was calibrated for. The rule is TF Privacy's (and <c>diffpriv epsilon</c>'s):
/// ⌈epochs·N/B⌉ steps in all, ⌈N/B⌉ per epoch, the last epoch shortened to the remainder.
/// </summary>
/// <remarks>
/// Example: N = 1000, B = 300, 10 epochs gives ⌈33.3⌉ = 34 steps, 4 per epoch: 8 epochs of 4, a ninth of 2 and a tenth
/// with none left (10 epochs of 4 would be 40 steps, 6 more than calibrated). A loop over the 10 epochs asked for runs
/// exactly the 34 steps.
/// </remarks>
public sealed record StepSchedule
{
    private StepSchedule(long datasetSize, double expectedBatchSize, long totalSteps, double? epochs)
    {
        DatasetSize = datasetSize;
        ExpectedBatchSize = expectedBatchSize;
        TotalSteps = totalSteps;
        PlannedEpochs = epochs;
        StepsPerEpoch = StepsPerEpochOf(datasetSize, expectedBatchSize);
    }

    /// <summary>N, the number of examples.</summary>
    public long DatasetSize { get; }

    /// <summary>B, the expected batch size (q = B/N).</summary>
    public double ExpectedBatchSize { get; }

    /// <summary>q = B/N, the probability that an example joins a step's batch.</summary>
    public double SamplingProbability => ExpectedBatchSize / DatasetSize;

    /// <summary>The number of steps of the whole run.</summary>
    public long TotalSteps { get; }

    /// <summary>⌈N/B⌉, the steps of every epoch but the last.</summary>
    public long StepsPerEpoch { get; }

    /// <summary>The epochs asked for, when the schedule was made from epochs (null when made from a step count).</summary>
    public double? PlannedEpochs { get; }

    /// <summary>
    /// How many passes over the loader the plan has: ⌈epochs⌉ when made from epochs, else ⌈<see cref="TotalSteps"/> /
    /// <see cref="StepsPerEpoch"/>⌉. Trailing passes may have no step left (<see cref="StepsInEpoch"/> is then 0), because
    /// ⌈N/B⌉ rounds each epoch up.
    /// </summary>
    public long Epochs => PlannedEpochs is { } epochs ? Math.Max((long)Math.Ceiling(epochs), EpochsWithSteps) : EpochsWithSteps;

    /// <summary>How many epochs have at least one step: ⌈<see cref="TotalSteps"/> / <see cref="StepsPerEpoch"/>⌉.</summary>
    public long EpochsWithSteps => (TotalSteps + StepsPerEpoch - 1) / StepsPerEpoch;

    /// <summary>
    /// ⌈N/B⌉, the steps of a full epoch (at least 1): the one rule for every epoch, planned or not. A quotient within 1e-9
    /// above an integer counts as that integer, so a B recomputed as q·N in floating point does not add a step.
    /// </summary>
    /// <param name="datasetSize">N ≥ 1.</param>
    /// <param name="expectedBatchSize">B &gt; 0.</param>
    /// <returns>Steps per epoch.</returns>
    public static long StepsPerEpochOf(long datasetSize, double expectedBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(datasetSize, 1);
        if (!(expectedBatchSize > 0 && double.IsFinite(expectedBatchSize)))
        {
            throw new ArgumentOutOfRangeException(nameof(expectedBatchSize), expectedBatchSize, "The expected batch size must be a finite number > 0.");
        }

        return Math.Max(1, (long)Math.Ceiling((datasetSize / expectedBatchSize) - 1e-9));
    }

    /// <summary>The schedule of <paramref name="epochs"/> epochs: ⌈epochs·N/B⌉ steps.</summary>
    /// <param name="datasetSize">N ≥ 1.</param>
    /// <param name="expectedBatchSize">B ∈ [1, N].</param>
    /// <param name="epochs">A finite number &gt; 0 (fractions allowed).</param>
    /// <returns>The schedule.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public static StepSchedule FromEpochs(long datasetSize, double expectedBatchSize, double epochs)
    {
        Validate(datasetSize, expectedBatchSize);
        if (!(epochs > 0 && double.IsFinite(epochs)))
        {
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Epochs must be a finite number > 0.");
        }

        var steps = (long)Math.Ceiling(epochs * datasetSize / expectedBatchSize);
        return new StepSchedule(datasetSize, expectedBatchSize, Math.Max(1, steps), epochs);
    }

    /// <summary>A schedule of exactly <paramref name="steps"/> steps.</summary>
    /// <param name="datasetSize">N ≥ 1.</param>
    /// <param name="expectedBatchSize">B ∈ [1, N].</param>
    /// <param name="steps">≥ 1.</param>
    /// <returns>The schedule.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public static StepSchedule FromSteps(long datasetSize, double expectedBatchSize, long steps)
    {
        Validate(datasetSize, expectedBatchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return new StepSchedule(datasetSize, expectedBatchSize, steps, null);
    }

    /// <summary>The number of steps of epoch <paramref name="epoch"/> (0-based): ⌈N/B⌉, the remainder for the last with steps, 0 after it.</summary>
    /// <param name="epoch">≥ 0.</param>
    /// <returns>Steps in that epoch.</returns>
    public long StepsInEpoch(long epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return epoch >= EpochsWithSteps ? 0 : Math.Min(StepsPerEpoch, TotalSteps - (epoch * StepsPerEpoch));
    }

    private static void Validate(long datasetSize, double expectedBatchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(datasetSize, 1);
        if (!(expectedBatchSize >= 1 && expectedBatchSize <= datasetSize))
        {
            throw new ArgumentOutOfRangeException(nameof(expectedBatchSize), expectedBatchSize, $"The expected batch size B must be in [1, N = {datasetSize}].");
        }
    }
}
