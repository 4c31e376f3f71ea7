using System.Globalization;
using System.Security;
using System.Text;

namespace DiffPriv.Experiments.Benchmarks;

/// <summary>
/// The plot of a <see cref="DpStepSweep"/>, written as SVG by hand (no plotting package): two panels, the DP/plain step
/// time ratio above the DP/plain peak memory ratio, against the swept quantity; both axes log2, one polyline with markers
/// per model (<c>class="series"</c>, <c>data-model</c>, <c>data-panel</c>), ratio 1 (no overhead) dashed, a legend.
/// </summary>
internal static class SweepPlot
{
    private const double Left = 80, PlotWidth = 520, PanelHeight = 260, Top = 70, PanelGap = 110, LegendX = Left + PlotWidth + 30;
    private const double Width = LegendX + 200, Height = Top + (2 * PanelHeight) + PanelGap + 70;

    private static readonly Dictionary<string, string> Colors = new()
    {
        ["mnist-cnn"] = "#1f77b4",
        ["embedding-bag"] = "#ff7f0e",
        ["char-lstm"] = "#2ca02c",
        ["transformer"] = "#d62728",
        ["transformer-lora"] = "#9467bd",
    };

    public static string Svg(SweepKind kind, IReadOnlyList<SweepPoint> points, int steps)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{N(Width)}" height="{N(Height)}" viewBox="0 0 {N(Width)} {N(Height)}" font-family="sans-serif" font-size="12">""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="0" y="0" width="{N(Width)}" height="{N(Height)}" fill="white"/>""").Append('\n');
        Text(svg, Left, 24, $"Cost of a DP-SGD step over a plain step vs {DpStepSweep.Name(kind)}", 16, "start", "bold");
        Text(svg, Left, 44, $"median of {steps} interleaved steps per point; peak resident memory growth of each kind of step in its own process", 11, "start");

        var models = points.Select(p => p.Setup.Model).Distinct().ToList();
        var xs = points.Select(p => DpStepSweep.SweptValue(kind, p.Setup)).Where(v => v > 0).Select(v => (double)v).ToList();
        var (xLo, xHi) = Log2Range(xs.Count == 0 ? [1.0] : xs, includeOne: false);
        Panel(svg, kind, points, models, Top, "DP / plain step time (×)", p => p.TimeRatio, "time", xLo, xHi);
        Panel(svg, kind, points, models, Top + PanelHeight + PanelGap, "DP / plain peak memory growth (×)", p => p.MemoryRatio, "memory", xLo, xHi);

        // Legend: one line per model, with its failed points counted.
        Text(svg, LegendX, Top + 4, "model", 12, "start", "bold");
        for (var i = 0; i < models.Count; i++)
        {
            var y = Top + 24 + (i * 22);
            var failed = points.Count(p => p.Setup.Model == models[i] && p.Report is null);
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{N(LegendX)}" y1="{N(y - 4)}" x2="{N(LegendX + 24)}" y2="{N(y - 4)}" stroke="{Color(models[i])}" stroke-width="2"/>""").Append('\n');
            Text(svg, LegendX + 30, y, models[i] + (failed > 0 ? $" ({failed} failed)" : ""), 12, "start");
        }

        var below = Top + 24 + (models.Count * 22) + 10;
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{N(LegendX)}" y1="{N(below - 4)}" x2="{N(LegendX + 24)}" y2="{N(below - 4)}" stroke="#888" stroke-dasharray="5,4"/>""").Append('\n');
        Text(svg, LegendX + 30, below, "1 = no overhead", 12, "start");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Panel(
        StringBuilder svg, SweepKind kind, IReadOnlyList<SweepPoint> points, List<string> models, double top, string title,
        Func<SweepPoint, double> ratio, string panel, double xLo, double xHi)
    {
        var ys = points.Select(ratio).Where(v => double.IsFinite(v) && v > 0).ToList();
        var (yLo, yHi) = Log2Range(ys, includeOne: true);
        var bottom = top + PanelHeight;
        double X(double v) => Left + ((Math.Log2(v) - xLo) / (xHi - xLo) * PlotWidth);
        double Y(double v) => bottom - ((Math.Log2(v) - yLo) / (yHi - yLo) * PanelHeight);

        Text(svg, Left, top - 10, title, 13, "start", "bold");

        // Ticks at powers of two (every other one when there are many), with grid lines.
        foreach (var e in Exponents(xLo, xHi))
        {
            var x = X(Math.Pow(2, e));
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{N(x)}" y1="{N(top)}" x2="{N(x)}" y2="{N(bottom)}" stroke="#e4e4e4"/>""").Append('\n');
            Text(svg, x, bottom + 16, Label(e), 11, "middle");
        }

        foreach (var e in Exponents(yLo, yHi))
        {
            var y = Y(Math.Pow(2, e));
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{N(Left)}" y1="{N(y)}" x2="{N(Left + PlotWidth)}" y2="{N(y)}" stroke="#e4e4e4"/>""").Append('\n');
            Text(svg, Left - 6, y + 4, Label(e), 11, "end");
        }

        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{N(Left)}" y="{N(top)}" width="{N(PlotWidth)}" height="{N(PanelHeight)}" fill="none" stroke="#333"/>""").Append('\n');
        var one = Y(1);
        svg.Append(CultureInfo.InvariantCulture, $"""<line class="one" x1="{N(Left)}" y1="{N(one)}" x2="{N(Left + PlotWidth)}" y2="{N(one)}" stroke="#888" stroke-dasharray="5,4"/>""").Append('\n');
        Text(svg, Left + ((PlotWidth) / 2), bottom + 36, $"{Quantity(kind)} (log₂ scale)", 12, "middle");
        var middle = top + (PanelHeight / 2);
        Text(svg, Left - 50, middle, "ratio (log₂ scale)", 12, "middle", transform: $"rotate(-90 {N(Left - 50)} {N(middle)})");

        foreach (var model in models)
        {
            var series = points
                .Where(p => p.Setup.Model == model && double.IsFinite(ratio(p)) && ratio(p) > 0)
                .Select(p => (X: X(DpStepSweep.SweptValue(kind, p.Setup)), Y: Y(ratio(p))))
                .ToList();
            if (series.Count == 0)
            {
                continue;
            }

            var color = Color(model);
            var coordinates = string.Join(' ', series.Select(s => $"{N(s.X)},{N(s.Y)}"));
            svg.Append(CultureInfo.InvariantCulture, $"""<polyline class="series" data-model="{Escape(model)}" data-panel="{panel}" fill="none" stroke="{color}" stroke-width="2" points="{coordinates}"/>""").Append('\n');
            foreach (var (x, y) in series)
            {
                svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{N(x)}" cy="{N(y)}" r="3" fill="{color}"/>""").Append('\n');
            }
        }
    }

    // [lo, hi] in log2 units, whole powers of two around the values (and 1, for the ratios); at least one octave wide.
    private static (double Lo, double Hi) Log2Range(IReadOnlyList<double> values, bool includeOne)
    {
        var all = includeOne ? values.Append(1.0) : values;
        if (!all.Any())
        {
            return (0, 1);
        }

        var lo = Math.Floor(Math.Log2(all.Min()));
        var hi = Math.Ceiling(Math.Log2(all.Max()));
        return hi > lo ? (lo, hi) : (lo, lo + 1);
    }

    private static IEnumerable<int> Exponents(double lo, double hi)
    {
        var step = hi - lo > 10 ? 2 : 1;
        for (var e = (int)lo; e <= (int)hi; e += step)
        {
            yield return e;
        }
    }

    private static string Label(int exponent) => Math.Pow(2, exponent).ToString("G6", CultureInfo.InvariantCulture);

    private static string Quantity(SweepKind kind) => kind switch
    {
        SweepKind.Batch => "batch size (examples per step)",
        SweepKind.Sequence => "sequence length (tokens per example)",
        _ => "width (CNN channel multiplier; embedding dim; LSTM hidden; d_model)",
    };

    private static string Color(string model) => Colors.GetValueOrDefault(model, "#555555");

    private static void Text(StringBuilder svg, double x, double y, string text, int size, string anchor, string weight = "normal", string? transform = null) =>
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{N(x)}" y="{N(y)}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}"{(transform is null ? "" : $" transform=\"{transform}\"")}>{Escape(text)}</text>""").Append('\n');

    private static string Escape(string text) => SecurityElement.Escape(text);

    private static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
