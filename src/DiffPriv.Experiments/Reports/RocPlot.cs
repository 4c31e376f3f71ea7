using System.Globalization;
using DiffPriv.Auditing.MembershipInference;
using ScottPlot;

namespace DiffPriv.Experiments.Reports;

/// <summary>PNG ROC curves of a membership-inference audit (ScottPlot): one linear plot per slice with every attack,
/// and a log-log plot of the "all" slice, where the low-FPR region that matters for privacy is visible.</summary>
public static class RocPlot
{
    private const int Width = 700;
    private const int Height = 600;

    /// <summary>Writes the plots into <paramref name="dir"/> and returns their file names.</summary>
    /// <param name="result">The audit.</param>
    /// <param name="dir">The folder (created if missing).</param>
    /// <returns>The file names written.</returns>
    public static IReadOnlyList<string> Write(AuditResult result, string dir)
    {
        var files = new List<string>();
        foreach (var slice in result.Results.Select(r => r.Slice).Distinct())
        {
            var results = result.Results.Where(r => r.Slice == slice).ToList();
            var name = $"roc-{FileName(slice)}.png";
            Linear(results, slice).SavePng(Path.Combine(dir, name), Width, Height);
            files.Add(name);
            if (slice.Kind == SliceKind.All)
            {
                name = "roc-all-log.png";
                LogLog(results).SavePng(Path.Combine(dir, name), Width, Height);
                files.Add(name);
            }
        }

        return files;
    }

    /// <summary>A file-name-safe form of a slice name: "class=3" → "class-3".</summary>
    /// <param name="slice">The slice.</param>
    /// <returns>The name.</returns>
    public static string FileName(SliceSpec slice) => slice.Name.Replace('=', '-');

    private static Plot Linear(List<AttackResult> results, SliceSpec slice)
    {
        var plot = new Plot();
        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        chance.LegendText = "chance";
        foreach (var r in results)
        {
            var curve = plot.Add.Scatter(
                r.Roc.Points.Select(p => p.FalsePositiveRate).ToArray(),
                r.Roc.Points.Select(p => p.TruePositiveRate).ToArray());
            curve.MarkerSize = 0;
            curve.LegendText = $"{r.Attack.Name()} (AUC {r.Auc.ToString("F3", CultureInfo.InvariantCulture)})";
        }

        var first = results[0];
        plot.Title($"Membership inference, slice {slice.Name} ({first.MemberCount} train / {first.NonMemberCount} test)");
        plot.XLabel("false positive rate (non-members called members)");
        plot.YLabel("true positive rate (members found)");
        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    // Log10 of the rates; zeros are drawn at half a count (0.5/n) so the curve starts on the plot.
    private static Plot LogLog(List<AttackResult> results)
    {
        var plot = new Plot();
        var first = results[0];
        var floor = Math.Log10(0.5 / Math.Max(first.MemberCount, first.NonMemberCount));
        double Log(double rate) => rate > 0 ? Math.Max(Math.Log10(rate), floor) : floor;
        var chance = plot.Add.Line(floor, floor, 0, 0);
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        chance.LegendText = "chance";
        foreach (var r in results)
        {
            var curve = plot.Add.Scatter(
                r.Roc.AllPoints.Select(p => Log(p.FalsePositiveRate)).ToArray(),
                r.Roc.AllPoints.Select(p => Log(p.TruePositiveRate)).ToArray());
            curve.MarkerSize = 0;
            curve.LegendText = $"{r.Attack.Name()} (TPR {Percent(r.TprAtTenthPercentFpr)} at 0.1% FPR)";
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

        plot.Title($"Membership inference, all examples, log-log ({first.MemberCount} train / {first.NonMemberCount} test)");
        plot.XLabel("false positive rate");
        plot.YLabel("true positive rate");
        plot.Axes.SetLimits(floor, 0, floor, 0);
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static string Percent(double rate) => (100 * rate).ToString("G3", CultureInfo.InvariantCulture) + "%";
}
