using DiffPriv.Accounting;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Experiments.Reports;

/// <summary>The end of a DP-SGD run's accounting, shared by every run that trains privately.</summary>
internal static class RunAccounting
{
    /// <summary>
    /// Checks that the ledger holds exactly the steps the optimizer took and the loop counted (a step that skipped the
    /// accountant would make ε too small), then reads ε at δ from the PLD and the RDP accountant.
    /// </summary>
    /// <returns>The steps, the PLD interval, the RDP answer and both as estimates for the privacy statement (PLD first).</returns>
    public static (long Steps, EpsilonInterval Pld, RdpEpsilonResult Rdp, AccountantEstimate[] Estimates) Final(
        PrivacyEngine engine, long optimizerSteps, long loopSteps, double delta)
    {
        var steps = engine.Ledger.TotalCount;
        if (steps != optimizerSteps || steps != loopSteps)
        {
            throw new InvalidOperationException($"The ledger holds {steps} steps but {optimizerSteps} were taken.");
        }

        var pld = ((PldAccountant)engine.Ledger.CreateAccountant(AccountantKind.Pld)).GetEpsilonInterval(delta);
        var rdp = ((RdpAccountant)engine.Ledger.CreateAccountant(AccountantKind.Rdp)).GetEpsilonAndOrder(delta);
        AccountantEstimate[] estimates =
        [
            new("pld", pld.Upper, pld.Lower, null),
            new("rdp", rdp.Epsilon, null, double.IsFinite(rdp.Epsilon) && steps > 0 ? rdp.OptimalOrder : null),
        ];
        return (steps, pld, rdp, estimates);
    }
}
