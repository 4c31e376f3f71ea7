using System.Globalization;
using System.Xml.Linq;
using DiffPriv.Experiments.Benchmarks;

namespace DiffPriv.Experiments.Tests;

/// <summary>
/// The sweep's plan, its failure handling and its files, with a stand-in measurement (no model is trained here; the CLI
/// test runs a real tiny sweep).
/// </summary>
public sealed class DpStepSweepTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-sweep-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheDefaultGridsDoubleOverTheDocumentedRanges()
    {
        Assert.Equal([64, 128, 256, 512, 1024, 2048, 4096], DpStepSweep.DefaultPoints(SweepKind.Batch, "mnist-cnn"));
        Assert.Equal([64, 128, 256, 512, 1024, 2048, 4096], DpStepSweep.DefaultPoints(SweepKind.Batch, "embedding-bag"));
        Assert.Equal([16, 32, 64, 128, 256, 512, 1024], DpStepSweep.DefaultPoints(SweepKind.Batch, "char-lstm"));
        Assert.Equal([16, 32, 64, 128, 256, 512, 1024], DpStepSweep.DefaultPoints(SweepKind.Batch, "transformer"));
        Assert.Equal([32, 64, 128, 256, 512], DpStepSweep.DefaultPoints(SweepKind.Sequence, "char-lstm"));
        Assert.Equal([1, 2, 4, 8], DpStepSweep.DefaultPoints(SweepKind.Width, "mnist-cnn"));
        Assert.Equal([16, 32, 64, 128, 256], DpStepSweep.DefaultPoints(SweepKind.Width, "embedding-bag"));
        Assert.Equal([64, 128, 256, 512, 1024], DpStepSweep.DefaultPoints(SweepKind.Width, "char-lstm"));
        Assert.Equal([64, 128, 256, 512], DpStepSweep.DefaultPoints(SweepKind.Width, "transformer"));
        Assert.Equal(["char-lstm", "transformer", "embedding-bag"], DpStepSweep.Models(SweepKind.Sequence));
        Assert.Equal(["mnist-cnn", "embedding-bag", "char-lstm", "transformer"], DpStepSweep.Models(SweepKind.Width));
    }

    [Fact]
    public void ThePlanVariesOnlyTheSweptQuantity()
    {
        var sequence = DpStepSweep.Plan(Options(SweepKind.Sequence, ["char-lstm", "embedding-bag"], [8, 16]) with { BatchSize = 5 });
        Assert.Equal(
            [("char-lstm", 5, 8, 256), ("char-lstm", 5, 16, 256), ("embedding-bag", 5, 8, 64), ("embedding-bag", 5, 16, 64)],
            sequence.Select(s => (s.Model, s.BatchSize, s.EffectiveSequenceLength ?? 0, s.EffectiveWidth)));

        var batch = DpStepSweep.Plan(Options(SweepKind.Batch, ["mnist-cnn", "transformer"], [2, 4]) with { SequenceLength = 9 });
        Assert.Equal(
            [("mnist-cnn", 2, (int?)null, 1), ("mnist-cnn", 4, null, 1), ("transformer", 2, 9, 128), ("transformer", 4, 9, 128)],
            batch.Select(s => (s.Model, s.BatchSize, s.EffectiveSequenceLength, s.EffectiveWidth)));

        // Without --points each model gets its own grid; the batch not swept is the single run's default.
        var width = DpStepSweep.Plan(Options(SweepKind.Width, ["mnist-cnn", "char-lstm"], null));
        Assert.Equal([1, 2, 4, 8, 64, 128, 256, 512, 1024], width.Select(s => s.EffectiveWidth));
        Assert.Equal([256, 256, 256, 256, 64, 64, 64, 64, 64], width.Select(s => s.BatchSize));
    }

    [Fact]
    public void AFailedPointIsAnErrorRowTheLargerPointsOfItsModelAreSkippedAndTheSweepGoesOn()
    {
        var measured = new List<(string, int)>();
        BenchReport Measure(BenchSetup s, int steps)
        {
            Assert.Equal(4, steps);
            measured.Add((s.Model, s.BatchSize));
            if (s.Model == "char-lstm" && s.BatchSize == 4)
            {
                throw new InvalidOperationException("the measurement process was killed (exit 137, SIGKILL: out of memory?)");
            }

            // Time ratio 1 + b/4 and memory ratio 2 for char-lstm, b/2 (and a zero plain peak at b = 8: no memory ratio) otherwise.
            var plainPeak = s.Model == "transformer" && s.BatchSize == 8 ? 0.0 : 10.0;
            return new BenchReport(s.Model, s.BatchSize, 2.0, 2.0 * (1 + (s.BatchSize / 4.0)), plainPeak, s.Model == "char-lstm" ? 20 : 5.0 * s.BatchSize, 2);
        }

        var points = DpStepSweep.Run(Options(SweepKind.Batch, ["char-lstm", "transformer"], [2, 4, 8]) with { Steps = 4 }, Measure);

        Assert.Equal([("char-lstm", 2), ("char-lstm", 4), ("transformer", 2), ("transformer", 4), ("transformer", 8)], measured);
        Assert.Equal(6, points.Count);
        Assert.Contains("out of memory", points[1].Error);
        Assert.Equal("skipped: the smaller batch 4 failed", points[2].Error);
        Assert.Null(points[2].Report);

        var lines = File.ReadAllText(Path.Combine(_dir, "sweep-batch.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            [
                "model,batch_size,sequence_length,width,plain_ms,dp_ms,time_ratio,plain_peak_mb,dp_peak_mb,memory_ratio,threads,error",
                "char-lstm,2,80,256,2.000,3.000,1.500,10.0,20.0,2.000,2,",
                "char-lstm,4,80,256,,,,,,,,\"the measurement process was killed (exit 137, SIGKILL: out of memory?)\"",
                "char-lstm,8,80,256,,,,,,,,\"skipped: the smaller batch 4 failed\"",
                "transformer,2,128,128,2.000,3.000,1.500,10.0,10.0,1.000,2,",
                "transformer,4,128,128,2.000,4.000,2.000,10.0,20.0,2.000,2,",
                "transformer,8,128,128,2.000,6.000,3.000,0.0,40.0,,2,",
            ],
            lines);

        // The plot: one polyline per model and panel through its measured points; ratio 1 marked in each panel.
        var svg = XDocument.Load(Path.Combine(_dir, "sweep-batch.svg"));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var series = svg.Descendants(ns + "polyline").Where(e => (string?)e.Attribute("class") == "series").ToList();
        Assert.Equal(
            ["char-lstm/time", "transformer/time", "char-lstm/memory", "transformer/memory"],
            series.Select(e => $"{e.Attribute("data-model")!.Value}/{e.Attribute("data-panel")!.Value}"));
        Assert.Equal([1, 3, 1, 2], series.Select(e => e.Attribute("points")!.Value.Split(' ').Length));
        Assert.Equal(2, svg.Descendants(ns + "line").Count(e => (string?)e.Attribute("class") == "one"));
        var texts = svg.Descendants(ns + "text").Select(e => e.Value).ToList();
        Assert.Contains("char-lstm (2 failed)", texts);
        Assert.Contains("batch size (examples per step) (log₂ scale)", texts);
        Assert.Contains("1 = no overhead", texts);

        // Along the x axis the points are one octave apart: equal steps on a log2 axis.
        var xs = series[1].Attribute("points")!.Value.Split(' ').Select(p => double.Parse(p.Split(',')[0], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(xs[1] - xs[0], xs[2] - xs[1], 6);
    }

    [Theory]
    [InlineData(SweepKind.Batch, "mnist-cnn", "0,2", null, null, null, "--points")]
    [InlineData(SweepKind.Batch, "mnist-cnn", "4,2", null, null, null, "increase")]
    [InlineData(SweepKind.Batch, "mnist-cnn", null, 64, null, null, "--batch-size cannot be given with --sweep batch")]
    [InlineData(SweepKind.Sequence, "char-lstm", null, null, 40, null, "--sequence-length cannot be given with --sweep sequence")]
    [InlineData(SweepKind.Width, "char-lstm", null, null, null, 64, "--width cannot be given with --sweep width")]
    [InlineData(SweepKind.Sequence, "mnist-cnn", null, null, null, null, "covers")]
    [InlineData(SweepKind.Width, "transformer", "30,60", null, null, null, "multiple")]
    [InlineData(SweepKind.Batch, "char-lstm,transformer", null, null, null, 64, "single --model")]
    [InlineData(SweepKind.Batch, "char-lstm,char-lstm", null, null, null, null, "twice")]
    [InlineData(SweepKind.Width, "mnist-cnn", null, null, 40, null, "--sequence-length does not apply to mnist-cnn")]
    public void BadOptionsAreRefused(SweepKind kind, string models, string? points, int? batch, int? sequence, int? width, string message)
    {
        var options = Options(kind, models.Split(','), points?.Split(',').Select(int.Parse).ToList()) with
        {
            BatchSize = batch,
            SequenceLength = sequence,
            Width = width,
        };
        var e = Assert.ThrowsAny<ArgumentException>(options.Validate);
        Assert.Contains(message, e.Message);
    }

    private DpStepSweepOptions Options(SweepKind kind, IReadOnlyList<string> models, IReadOnlyList<int>? points) => new()
    {
        Kind = kind,
        Models = models,
        Points = points,
        Steps = 3,
        OutputDirectory = _dir,
    };
}
