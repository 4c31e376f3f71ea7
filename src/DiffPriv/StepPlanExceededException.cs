using DiffPriv.Accounting;

namespace DiffPriv;

/// <summary>
/// A private step (or a loader epoch) was requested after the planned steps were all run: σ was calibrated, or the run
/// declared, for <see cref="PlannedSteps"/> steps, and one more would spend privacy beyond the plan.
/// </summary>
public sealed class StepPlanExceededException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="schedule">The plan that is used up.</param>
    public StepPlanExceededException(StepSchedule schedule)
        : base(
            $"The run was planned for {schedule.TotalSteps} private steps" +
            (schedule.PlannedEpochs is { } epochs ? $" ({epochs} epochs of N = {schedule.DatasetSize} at expected batch size {schedule.ExpectedBatchSize})" : string.Empty) +
            $" and all of them have run; another step would spend privacy beyond the plan (and beyond a target ε σ was calibrated for). " +
            "Stop here, or set DpSgdOptions.ContinueBeyondPlan = true to keep going (the ledger then reports the larger ε actually spent).")
    {
        PlannedSteps = schedule.TotalSteps;
    }

    /// <summary>The number of steps the plan allowed.</summary>
    public long PlannedSteps { get; }
}
