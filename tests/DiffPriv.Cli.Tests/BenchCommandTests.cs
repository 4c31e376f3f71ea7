using System.Text.Json.Nodes;
using System.Xml.Linq;
using DiffPriv.Cli.Commands;
using DiffPriv.Experiments.Benchmarks;

namespace DiffPriv.Cli.Tests;

/// <summary><c>bench dp-sgd</c>: a tiny run of each model prints the documented JSON; bad options are usage errors.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public void CharLstmTinyRunPrintsTheJsonFields()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "dp-sgd", "--model", "char-lstm", "--batch-size", "2", "--vocabulary-size", "12", "--steps", "3", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!.AsObject();
        Assert.Equal("char-lstm", json["model"]!.GetValue<string>());
        Assert.Equal(2, json["batch_size"]!.GetValue<int>());
        Assert.Equal(12, json["vocabulary_size"]!.GetValue<int>());
        Assert.Equal(80, json["sequence_length"]!.GetValue<int>());
        var plain = json["plain_ms"]!.GetValue<double>();
        var dp = json["dp_ms"]!.GetValue<double>();
        Assert.True(plain > 0 && dp > 0, $"plain {plain} ms, dp {dp} ms");
        AssertRatioOf(dp, plain, json["ratio"]!.GetValue<double>());
        foreach (var key in new[] { "plain_peak_mb", "dp_peak_mb", "threads" })
        {
            Assert.True(json.ContainsKey(key), key);
        }
    }

    [Theory]
    [InlineData("transformer")]
    [InlineData("transformer-lora")]
    public void TransformerTinyRunsPrintTheJsonFields(string model)
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "dp-sgd", "--model", model, "--batch-size", "2", "--steps", "3", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!.AsObject();
        Assert.Equal(model, json["model"]!.GetValue<string>());
        Assert.Equal(2, json["batch_size"]!.GetValue<int>());
        Assert.Equal(256, json["vocabulary_size"]!.GetValue<int>());
        Assert.Equal(128, json["sequence_length"]!.GetValue<int>());
        var plain = json["plain_ms"]!.GetValue<double>();
        var dp = json["dp_ms"]!.GetValue<double>();
        Assert.True(plain > 0 && dp > 0, $"plain {plain} ms, dp {dp} ms");
        AssertRatioOf(dp, plain, json["ratio"]!.GetValue<double>());
        foreach (var key in new[] { "plain_peak_mb", "dp_peak_mb", "threads" })
        {
            Assert.True(json.ContainsKey(key), key);
        }

        // The LoRA run says what its plain step is: the same adapters trained without DP, not the fused model.
        Assert.Equal(model == "transformer-lora" ? "lora-without-dp" : null, json["plain_step"]?.GetValue<string>());
        Assert.Equal(model == "transformer-lora" ? 8 : null, json["lora_rank"]?.GetValue<int>());
    }

    [Fact]
    public void TransformerLoraTextSaysWhatThePlainStepIs()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "dp-sgd", "--model", "transformer-lora", "--batch-size", "1", "--steps", "3");
        Assert.True(code == 0, stderr);
        Assert.Contains("plain = the same LoRA model without DP", stdout);
        Assert.Contains("ratio", stdout);
    }

    [Theory]
    [InlineData("--model", "char-rnn")]
    [InlineData("--vocabulary-size", "1")]
    [InlineData("--batch-size", "0")]
    public void BadOptionsAreUsageErrors(string option, string value)
    {
        string[] model = option == "--model" ? [] : ["--model", "char-lstm"];
        var (code, _, stderr) = CliRunner.Run(["bench", "dp-sgd", .. model, option, value, "--steps", "3"]);
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
    }

    [Fact]
    public void ASingleRunTakesTheSequenceLengthAndWidthAndPassesThemToItsMemoryProcesses()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "dp-sgd", "--model", "embedding-bag", "--batch-size", "2", "--sequence-length", "5", "--width", "8", "--steps", "3", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!.AsObject();
        Assert.Equal(5, json["sequence_length"]!.GetValue<int>());
        Assert.Equal(8, json["width"]!.GetValue<int>());

        // The child processes that measure memory rebuild the same setup from these arguments.
        var arguments = BenchCommand.SetupArguments(new BenchSetup("transformer", 3, 12) { SequenceLength = 5, Width = 16 });
        Assert.Equal(
            ["bench", "dp-sgd", "--model", "transformer", "--batch-size", "3", "--vocabulary-size", "12", "--sequence-length", "5", "--width", "16"],
            arguments);
        Assert.DoesNotContain("--width", BenchCommand.SetupArguments(new BenchSetup("mnist-cnn", 3)));
    }

    [Fact]
    public void ATinySweepWritesTheCsvAndThePlot()
    {
        var dir = Directory.CreateTempSubdirectory("diffpriv-sweep-cli-").FullName;
        try
        {
            var (code, stdout, stderr) = CliRunner.Run(
                "bench", "dp-sgd", "--sweep", "batch", "--model", "mnist-cnn,embedding-bag", "--points", "2", "--steps", "3", "--out", dir);
            Assert.True(code == 0, stderr);
            // One point per model keeps the test short (each point is three processes); DpStepSweepTests checks longer series.
            Assert.Contains("[1/2] mnist-cnn, batch 2", stderr);
            Assert.Contains("[2/2] embedding-bag, batch 2", stderr);
            Assert.Contains("sweep batch", stdout);

            var rows = File.ReadAllLines(Path.Combine(dir, "sweep-batch.csv"));
            Assert.Equal(DpStepSweep.CsvHeader, rows[0]);
            Assert.Equal(["mnist-cnn,2,,1,", "embedding-bag,2,128,64,"], rows[1..].Select(r => string.Join(',', r.Split(',')[..4]) + ","));
            foreach (var row in rows[1..])
            {
                var cells = row.Split(',');
                Assert.Equal(12, cells.Length);
                Assert.Equal("", cells[^1]); // no error
                var plain = double.Parse(cells[4], System.Globalization.CultureInfo.InvariantCulture);
                var dp = double.Parse(cells[5], System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(plain > 0 && dp > 0, row);
                AssertRatioOf(dp, plain, double.Parse(cells[6], System.Globalization.CultureInfo.InvariantCulture));
            }

            var svg = XDocument.Load(Path.Combine(dir, "sweep-batch.svg"));
            var models = svg.Descendants(XName.Get("polyline", "http://www.w3.org/2000/svg"))
                .Where(e => e.Attribute("data-panel")?.Value == "time")
                .Select(e => e.Attribute("data-model")!.Value);
            Assert.Equal(["mnist-cnn", "embedding-bag"], models);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("--sweep", "depth")]
    [InlineData("--points", "0,2")]
    [InlineData("--points", "2,x")]
    [InlineData("--batch-size", "64")]
    [InlineData("--out", "")]
    [InlineData("--json", "")]
    [InlineData("--steps", "2")]
    [InlineData("--model", "mnist-cnn,char-rnn")]
    [InlineData("--width", "64")]
    public void BadSweepOptionsAreUsageErrors(string option, string value)
    {
        string[] args = option switch
        {
            "--out" => ["bench", "dp-sgd", "--sweep", "batch"],
            "--json" => ["bench", "dp-sgd", "--sweep", "batch", "--out", "x", "--json"],
            "--sweep" => ["bench", "dp-sgd", "--sweep", value, "--out", "x"],
            _ => ["bench", "dp-sgd", "--sweep", "batch", "--out", "x", option, value],
        };
        var (code, _, stderr) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
    }

    [Theory]
    [InlineData("--points", "1,2")]
    [InlineData("--out", "x")]
    [InlineData("--sequence-length", "0")]
    [InlineData("--width", "30")]
    public void SweepAndShapeOptionsAreCheckedInASingleRun(string option, string value)
    {
        var (code, _, stderr) = CliRunner.Run("bench", "dp-sgd", "--model", "transformer", option, value, "--steps", "3");
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
    }

    [Fact]
    public void MnistCnnHasNoSequenceLength()
    {
        var (code, _, stderr) = CliRunner.Run("bench", "dp-sgd", "--model", "mnist-cnn", "--sequence-length", "8");
        Assert.Equal(2, code);
        Assert.Contains("--sequence-length does not apply to mnist-cnn", stderr);
    }

    [Fact]
    public void NoiseTinyRunTimesEveryPathAgainstTorchRandn()
    {
        var (code, stdout, stderr) = CliRunner.Run("bench", "noise", "--count", "1001", "--repeats", "3", "--torch-threads", "1", "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!.AsObject();
        Assert.Equal(1001, json["count"]!.GetValue<long>());
        Assert.Equal(1, json["torch_threads"]!.GetValue<int>());
        var paths = json["paths"]!.AsObject();
        Assert.Equal(["secure-release", "secure-noise", "seeded-release", "secure-torch-ops", "torch-randn"], paths.Select(p => p.Key));
        var reference = paths["torch-randn"]!;
        Assert.Equal(1.0, reference["median_ratio"]!.GetValue<double>());
        foreach (var (_, path) in paths)
        {
            var median = path!["median_ms"]!.GetValue<double>();
            var best = path["best_ms"]!.GetValue<double>();
            Assert.True(best > 0 && best <= median, $"best {best} ms, median {median} ms");
            AssertRatioOf(median, reference["median_ms"]!.GetValue<double>(), path["median_ratio"]!.GetValue<double>());
        }
    }

    [Theory]
    [InlineData("--count", "0")]
    [InlineData("--repeats", "2")]
    [InlineData("--torch-threads", "0")]
    public void BadNoiseOptionsAreUsageErrors(string option, string value)
    {
        var (code, _, stderr) = CliRunner.Run("bench", "noise", option, value);
        Assert.Equal(2, code);
        Assert.Contains(option, stderr);
    }

    /// <summary>
    /// The ratio is rounded to 0.001 from the unrounded times, and the times to 0.001 ms: the ratio of the printed times may
    /// differ from the printed ratio by at most those roundings (a fixed number of decimals would flake at a boundary).
    /// </summary>
    private static void AssertRatioOf(double dp, double plain, double ratio)
    {
        var bound = 0.0005 + ((dp / plain) * ((0.0005 / dp) + (0.0005 / plain))) + 1e-9;
        Assert.True(Math.Abs(ratio - (dp / plain)) <= bound, $"ratio {ratio} vs dp/plain = {dp / plain} (bound {bound})");
    }
}
