using System.Globalization;
using System.Text;

namespace DiffPriv.Experiments.Benchmarks;

/// <summary>
/// How the cost of DP-SGD grows: <see cref="DpStepBenchmark"/>'s DP/plain step time and peak memory ratios at a doubling
/// grid of one quantity (batch size, sequence length or width) per model, every other setting at its default. Each point is
/// measured by the caller (the CLI measures it in a fresh process, which measures each kind of step's memory in one more);
/// a point that fails is recorded with its error, the larger points of that model are skipped (they would need more memory),
/// and the sweep goes on with the next model. After each point it rewrites <c>sweep-&lt;kind&gt;.csv</c> and
/// <c>sweep-&lt;kind&gt;.svg</c>, so an interrupted sweep keeps what it measured.
/// </summary>
public static class DpStepSweep
{
    /// <summary>The CSV's header, one column per <see cref="SweepPoint"/> value, then the error (empty when measured).</summary>
    public const string CsvHeader =
        "model,batch_size,sequence_length,width,plain_ms,dp_ms,time_ratio,plain_peak_mb,dp_peak_mb,memory_ratio,threads,error";

    /// <summary>The models a sweep covers by default: every model for batch and width, the sequence models for sequence.</summary>
    /// <param name="kind">The swept quantity.</param>
    /// <returns>Model names of <see cref="BenchSetup.Model"/>.</returns>
    public static IReadOnlyList<string> Models(SweepKind kind) => kind == SweepKind.Sequence
        ? ["char-lstm", "transformer", "embedding-bag"]
        : ["mnist-cnn", "embedding-bag", "char-lstm", "transformer"];

    /// <summary>
    /// The default grid, doubling: batch 64…4096 (mnist-cnn, embedding-bag) or 16…1024 (char-lstm, transformers);
    /// sequence 32…512; width: CNN channel multiplier 1…8, LSTM hidden 64…1024, d_model 64…512, embedding dimension 16…256.
    /// The grids were chosen for about 24 GiB of memory; the DP step of transformer at batch 1024 alone may need about 16 GB.
    /// </summary>
    /// <param name="kind">The swept quantity.</param>
    /// <param name="model">A model name.</param>
    /// <returns>The increasing values.</returns>
    public static IReadOnlyList<int> DefaultPoints(SweepKind kind, string model) => (kind, model) switch
    {
        (SweepKind.Batch, "mnist-cnn" or "embedding-bag") => Doubling(64, 4096),
        (SweepKind.Batch, _) => Doubling(16, 1024),
        (SweepKind.Sequence, _) => Doubling(32, 512),
        (SweepKind.Width, "mnist-cnn") => Doubling(1, 8),
        (SweepKind.Width, "char-lstm") => Doubling(64, 1024),
        (SweepKind.Width, "embedding-bag") => Doubling(16, 256),
        (SweepKind.Width, _) => Doubling(64, 512),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sweep kind."),
    };

    /// <summary>The name of a sweep kind in the CLI and the file names: <c>batch</c>, <c>sequence</c> or <c>width</c>.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The name.</returns>
    public static string Name(SweepKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>The CSV's file name, <c>sweep-&lt;kind&gt;.csv</c>.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The name.</returns>
    public static string CsvFileName(SweepKind kind) => $"sweep-{Name(kind)}.csv";

    /// <summary>The plot's file name, <c>sweep-&lt;kind&gt;.svg</c>.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The name.</returns>
    public static string SvgFileName(SweepKind kind) => $"sweep-{Name(kind)}.svg";

    /// <summary>The value of the swept quantity in a setup.</summary>
    /// <param name="kind">The swept quantity.</param>
    /// <param name="setup">The setup.</param>
    /// <returns>Its batch size, sequence length (0 for a model without one) or width.</returns>
    public static int SweptValue(SweepKind kind, BenchSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        return kind switch
        {
            SweepKind.Batch => setup.BatchSize,
            SweepKind.Sequence => setup.EffectiveSequenceLength ?? 0,
            _ => setup.EffectiveWidth,
        };
    }

    /// <summary>The setups of a sweep, model by model, each model's points increasing.</summary>
    /// <param name="options">The sweep (validated here).</param>
    /// <returns>One setup per point.</returns>
    public static IReadOnlyList<BenchSetup> Plan(DpStepSweepOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var setups = new List<BenchSetup>();
        foreach (var model in options.Models)
        {
            var sequenceModel = DpStepBenchmark.DefaultSequenceLength(model) is not null;
            var batch = options.BatchSize ?? (model is "mnist-cnn" or "embedding-bag" ? 256 : 64);
            foreach (var point in options.Points ?? DefaultPoints(options.Kind, model))
            {
                setups.Add(new BenchSetup(model, options.Kind == SweepKind.Batch ? point : batch, options.VocabularySize)
                {
                    SequenceLength = !sequenceModel ? null : options.Kind == SweepKind.Sequence ? point : options.SequenceLength,
                    Width = options.Kind == SweepKind.Width ? point : options.Width,
                });
            }
        }

        return setups;
    }

    /// <summary>Measures every point of the sweep and writes the CSV and the plot after each.</summary>
    /// <param name="options">The sweep.</param>
    /// <param name="measure">
    /// Measures one point with the given number of timed steps (normally <see cref="DpStepBenchmark.Run"/> in a fresh
    /// process); an exception marks the point as failed.
    /// </param>
    /// <param name="progress">One message per point (k of n, the model, the setting) and its ratios; may be null.</param>
    /// <returns>The points, in the order measured.</returns>
    public static IReadOnlyList<SweepPoint> Run(DpStepSweepOptions options, Func<BenchSetup, int, BenchReport> measure, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(measure);
        var plan = Plan(options);
        Directory.CreateDirectory(options.OutputDirectory);
        var csv = Path.Combine(options.OutputDirectory, CsvFileName(options.Kind));
        var svg = Path.Combine(options.OutputDirectory, SvgFileName(options.Kind));
        var points = new List<SweepPoint>(plan.Count);
        var failedAt = new Dictionary<string, int>();
        var inv = CultureInfo.InvariantCulture;
        var name = Name(options.Kind);
        for (var k = 0; k < plan.Count; k++)
        {
            var setup = plan[k];
            var value = SweptValue(options.Kind, setup);
            progress?.Report(ProgressUpdate.Message($"[{k + 1}/{plan.Count}] {setup.Model}, {name} {value} ({Describe(setup)})"));
            SweepPoint point;
            if (failedAt.TryGetValue(setup.Model, out var failed))
            {
                point = new SweepPoint(setup, null, $"skipped: the smaller {name} {failed} failed");
            }
            else
            {
                try
                {
                    point = new SweepPoint(setup, measure(setup, options.Steps), null);
                }
#pragma warning disable CA1031 // any failure of one point (out of memory, a crashed process) is recorded and the sweep goes on
                catch (Exception e)
#pragma warning restore CA1031
                {
                    point = new SweepPoint(setup, null, e.Message);
                    failedAt[setup.Model] = value;
                }
            }

            points.Add(point);
            progress?.Report(point.Report is null
                ? ProgressUpdate.Warning($"{setup.Model}, {name} {value}: {point.Error}")
                : ProgressUpdate.Message(
                    $"  time ×{point.TimeRatio.ToString("F2", inv)}, memory ×{point.MemoryRatio.ToString("F2", inv)}"));
            File.WriteAllText(csv, ToCsv(points));
            File.WriteAllText(svg, SweepPlot.Svg(options.Kind, points, options.Steps));
        }

        return points;
    }

    /// <summary>The CSV text: <see cref="CsvHeader"/>, then one row per point (numbers invariant; empty cells for what a
    /// point lacks: no sequence length for mnist-cnn, no measurements for a failed point, no memory off Linux).</summary>
    /// <param name="points">The points.</param>
    /// <returns>The text, lines ending in \n.</returns>
    public static string ToCsv(IEnumerable<SweepPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var text = new StringBuilder(CsvHeader).Append('\n');
        foreach (var p in points)
        {
            var s = p.Setup;
            var r = p.Report;
            string[] cells =
            [
                s.Model,
                Cell(s.BatchSize),
                s.EffectiveSequenceLength is { } t ? Cell(t) : "",
                Cell(s.EffectiveWidth),
                Cell(r?.PlainMs, "F3"),
                Cell(r?.DpMs, "F3"),
                Cell(p.TimeRatio, "F3"),
                Cell(r?.PlainPeakMb, "F1"),
                Cell(r?.DpPeakMb, "F1"),
                Cell(p.MemoryRatio, "F3"),
                r is null ? "" : Cell(r.Threads),
                Quote(p.Error ?? ""),
            ];
            text.AppendJoin(',', cells).Append('\n');
        }

        return text.ToString();
    }

    private static string Describe(BenchSetup s) =>
        $"batch {s.BatchSize}" + (s.EffectiveSequenceLength is { } t ? $", sequence {t}" : "") + $", width {s.EffectiveWidth}";

    private static List<int> Doubling(int first, int last)
    {
        var values = new List<int>();
        for (var v = first; v <= last; v *= 2)
        {
            values.Add(v);
        }

        return values;
    }

    private static string Cell(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Cell(double? value, string format) =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "";

    private static string Quote(string text) =>
        text.Length == 0 ? "" : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal).ReplaceLineEndings(" ") + "\"";
}
