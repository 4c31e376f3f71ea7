using System.Globalization;
using DiffPriv.Auditing.Lira;
using ScottPlot;

namespace DiffPriv.Experiments.Reports;

/// <summary>The ROC curves of a LiRA audit on log-log axes (ScottPlot): every test, so the low-FPR region shows.</summary>
public static class LiraPlot
{
    /// <summary>Writes the PNG.</summary>
    /// <param name="result">The LiRA tests.</param>
    /// <param name="path">The PNG file to write.</param>
    public static void Write(LiraResult result, string path)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = new Plot();
        var first = result.Online.Roc;

        // Zeros are drawn at half a count, so the curves start on the plot.
        var floor = Math.Log10(0.5 / Math.Max(first.MemberCount, first.NonMemberCount));
        double Log(double rate) => rate > 0 ? Math.Max(Math.Log10(rate), floor) : floor;
        var chance = plot.Add.Line(floor, floor, 0, 0);
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        chance.LegendText = "chance";
        foreach (var a in result.Attacks)
        {
            var curve = plot.Add.Scatter(
                a.Roc.AllPoints.Select(p => Log(p.FalsePositiveRate)).ToArray(),
                a.Roc.AllPoints.Select(p => Log(p.TruePositiveRate)).ToArray());
            curve.MarkerSize = 0;
            curve.LegendText = string.Create(
                CultureInfo.InvariantCulture,
                $"{a.Name} (AUC {a.Auc:F3}, TPR {100 * a.TprAtTenthPercentFpr:G3}% at 0.1% FPR)");
            if (a.Variance == LiraVariance.PerExample)
            {
                curve.LinePattern = LinePattern.Dotted;
            }
        }

        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = v => Math.Pow(10, v).ToString("G3", CultureInfo.InvariantCulture),
            };
        }

        plot.Title(string.Create(CultureInfo.InvariantCulture, $"LiRA, {result.Models} models, log-log ({first.MemberCount} member / {first.NonMemberCount} non-member pairs)"));
        plot.XLabel("false positive rate");
        plot.YLabel("true positive rate");
        plot.Axes.SetLimits(floor, 0, floor, 0);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 700, 600);
    }
}
