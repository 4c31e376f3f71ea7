using DiffPriv.Experiments.Training;
using ScottPlot;

namespace DiffPriv.Experiments.Reports;

/// <summary>PNG plots of a run: accuracy per epoch and ε per epoch (ScottPlot).</summary>
internal static class RunPlots
{
    private const int Width = 800;
    private const int Height = 500;

    public static void Write(TrainResult r)
    {
        var epochs = r.History.Select(m => (double)m.Epoch).ToArray();
        var accuracy = new Plot();
        var test = accuracy.Add.Scatter(epochs, r.History.Select(m => 100 * m.TestAccuracy).ToArray());
        test.LegendText = "test accuracy";
        var train = accuracy.Add.Scatter(epochs, r.History.Select(m => double.IsFinite(m.TrainAccuracy) ? 100 * m.TrainAccuracy : double.NaN).ToArray());
        train.LegendText = "train accuracy (sampled batches)";
        accuracy.Title($"{r.Settings.DatasetId}{(r.Settings.NoDp ? " (not private)" : "")}: accuracy per epoch");
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy (%)");
        accuracy.ShowLegend(Alignment.LowerRight);
        accuracy.SavePng(Path.Combine(r.RunDir, "accuracy.png"), Width, Height);

        if (r.Settings.NoDp)
        {
            return;
        }

        var eps = new Plot();
        var upper = eps.Add.Scatter(epochs, r.History.Select(m => m.Epsilon ?? double.NaN).ToArray());
        if (r.Settings.Mechanism == MechanismKind.DpFtrl)
        {
            upper.LegendText = "ε (RDP, replace-special)";
        }
        else
        {
            upper.LegendText = "ε (PLD, upper)";
            var lower = eps.Add.Scatter(epochs, r.History.Select(m => m.EpsilonLower ?? double.NaN).ToArray());
            lower.LegendText = "ε (PLD, lower)";
        }

        eps.Title($"{r.Settings.DatasetId}: ε spent per epoch (δ = {PrivacyStatement.Delta(r.Settings.Delta)})");
        eps.XLabel("epoch");
        eps.YLabel("ε");
        eps.ShowLegend(Alignment.LowerRight);
        eps.SavePng(Path.Combine(r.RunDir, "epsilon.png"), Width, Height);
    }
}
