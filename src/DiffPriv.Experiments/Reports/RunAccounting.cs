using System.Globalization;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Experiments.Reports;

/// <summary>The end of a DP-SGD run's accounting, shared by every run that trains privately.</summary>
internal static class RunAccounting
{
    /// <summary>
    /// Checks that the ledger holds exactly the steps the optimizer took and the loop counted (a step that skipped the
    /// accountant would make ε too small), and that they are the steps of the run's plan (σ was calibrated, and the
    /// statement is written, for that plan), then reads ε at δ from the PLD and the RDP accountant.
    /// </summary>
    /// <param name="engine">The engine that made <paramref name="training"/>.</param>
    /// <param name="training">The finished training; its <see cref="PrivateTraining.Schedule"/> is the plan.</param>
    /// <param name="loopSteps">The steps the training loop counted.</param>
    /// <param name="delta">δ.</param>
    /// <returns>The steps, the PLD interval, the RDP answer and both as estimates for the privacy statement (PLD first).</returns>
    public static (long Steps, EpsilonInterval Pld, RdpEpsilonResult Rdp, AccountantEstimate[] Estimates) Final(
        PrivacyEngine engine, PrivateTraining training, long loopSteps, double delta)
    {
        var steps = engine.Ledger.TotalCount;
        var optimizerSteps = training.Optimizer.Steps;
        if (steps != optimizerSteps || steps != loopSteps)
        {
            throw new InvalidOperationException($"The ledger holds {steps} steps but the optimizer took {optimizerSteps} and the loop counted {loopSteps}.");
        }

        if (training.Schedule is { } plan && steps != plan.TotalSteps)
        {
            throw new InvalidOperationException($"The run took {steps} steps but was planned for {plan.TotalSteps}; the loop must run exactly the loader's epochs.");
        }

        var pld = engine.GetEpsilonInterval(delta);
        var rdp = ((RdpAccountant)engine.Ledger.CreateAccountant(AccountantKind.Rdp)).GetEpsilonAndOrder(delta);
        AccountantEstimate[] estimates =
        [
            new("pld", pld.Upper, pld.Lower, null),
            new("rdp", rdp.Epsilon, null, double.IsFinite(rdp.Epsilon) && steps > 0 ? rdp.OptimalOrder : null),
        ];
        return (steps, pld, rdp, estimates);
    }

    /// <summary>
    /// The end of a DP-FTRL run's accounting: the optimizer, the loop and the plan agree on the steps, and the engine
    /// recorded exactly one tree per pass that had steps (each counted complete); then ε at δ by RDP under replace-special.
    /// </summary>
    /// <param name="engine">The replace-special engine that made <paramref name="training"/>.</param>
    /// <param name="training">The finished training.</param>
    /// <param name="loopSteps">The steps the training loop counted.</param>
    /// <param name="delta">δ.</param>
    /// <returns>The steps, the trees and the RDP answer.</returns>
    public static (long Steps, long Trees, RdpEpsilonResult Rdp) FinalFtrl(PrivacyEngine engine, PrivateFtrlTraining training, long loopSteps, double delta)
    {
        var steps = training.Optimizer.Steps;
        var plan = training.Schedule;
        if (steps != loopSteps || steps != plan.TotalSteps)
        {
            throw new InvalidOperationException($"The optimizer took {steps} steps, the loop counted {loopSteps} and the plan has {plan.TotalSteps}.");
        }

        var recorded = engine.LedgerEvent;
        var trees = recorded.Events.Sum(e => e switch
        {
            SelfComposedDpEvent { Event: SingleEpochTreeAggregationDpEvent } c => c.Count,
            SingleEpochTreeAggregationDpEvent => 1L,
            _ => throw new InvalidOperationException($"A DP-FTRL run recorded {e}, which is not a tree."),
        });
        if (trees != plan.EpochsWithSteps)
        {
            throw new InvalidOperationException($"The engine recorded {trees} trees for {plan.EpochsWithSteps} passes with steps.");
        }

        var accountant = new RdpAccountant(neighboringRelation: NeighboringRelation.ReplaceSpecial);
        accountant.Compose(recorded);
        var rdp = accountant.GetEpsilonAndOrder(delta);
        return (steps, trees, rdp);
    }

    /// <summary>
    /// The plan in words: "242 steps = ⌈36 epochs · N/B⌉, in 35 passes over the data of ⌈N/B⌉ = 7 steps, the last 4".
    /// </summary>
    /// <param name="plan">The run's schedule.</param>
    /// <returns>The description.</returns>
    public static string Describe(StepSchedule plan) =>
        $"{plan.TotalSteps.ToString(CultureInfo.InvariantCulture)} steps{(Origin(plan) is { } origin ? $" = {origin}" : "")}, {Passes(plan)}";

    /// <summary>Writes the statement's lines on the steps: those that ran are the planned ones, and how the loader spread them.</summary>
    /// <param name="w">The statement.</param>
    /// <param name="plan">The run's schedule (<see cref="Final"/> has checked that exactly its steps ran).</param>
    /// <param name="calibrated">Whether σ was calibrated for this plan.</param>
    public static void WriteSteps(TextWriter w, StepSchedule plan, bool calibrated)
    {
        var origin = Origin(plan) is { } o ? $" = {o}" : "";
        w.WriteLine($"  - Exactly the planned steps ran: {plan.TotalSteps.ToString(CultureInfo.InvariantCulture)}{origin}{(calibrated ? ", the number σ was calibrated for" : "")},");
        w.WriteLine($"    {Passes(plan)}.");
    }

    private static string? Origin(StepSchedule plan) =>
        plan.PlannedEpochs is { } epochs ? $"⌈{epochs.ToString("G6", CultureInfo.InvariantCulture)} {(epochs == 1 ? "epoch" : "epochs")} · N/B⌉" : null;

    private static string Passes(StepSchedule plan)
    {
        var inv = CultureInfo.InvariantCulture;
        var withSteps = plan.EpochsWithSteps;
        var last = plan.StepsInEpoch(withSteps - 1);
        var text = withSteps == 1
            ? $"in 1 pass over the data of {last.ToString(inv)} step{(last == 1 ? "" : "s")}"
            : $"in {withSteps.ToString(inv)} passes over the data of ⌈N/B⌉ = {plan.StepsPerEpoch.ToString(inv)} steps" +
              (last == plan.StepsPerEpoch ? "" : $", the last {last.ToString(inv)}");
        var empty = plan.Epochs - withSteps;
        return empty <= 0 ? text : text + $" (the plan's last {(empty == 1 ? "epoch" : $"{empty.ToString(inv)} epochs")} had no step left)";
    }
}
