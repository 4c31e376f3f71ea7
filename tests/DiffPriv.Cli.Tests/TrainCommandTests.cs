using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPriv.Datasets;

namespace DiffPriv.Cli.Tests;

/// <summary>A fact that needs the real MNIST files: skipped, with the reason, when they cannot be fetched here.</summary>
public sealed class MnistFactAttribute : FactAttribute
{
    internal static readonly Lazy<string?> Unavailable = new(() => DatasetAvailability.Unavailable(DatasetName.Mnist));

    public MnistFactAttribute()
    {
        if (Unavailable.Value is { } reason)
        {
            Skip = $"MNIST cannot be fetched on this machine ({reason}); the data-independent train tests still run.";
        }
    }
}

// One class: the tests that point DIFFPRIV_DATA at a broken cache must not run beside the ones that read the real cache.
public sealed partial class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-train-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double Number(JsonNode? node) => node!.GetValue<double>();

    /// <summary>
    /// Every clipping mode keeps the sensitivity at C (flat: the clip; per-layer: C/√L per layer; automatic: below C; adaptive:
    /// the count paid out of σ), so the calibrated σ and the ε equal the flat run's; the weights differ (checkpoints of two
    /// same-seed flat runs are byte-identical, so the check can fail), and the report names the mode.
    /// </summary>
    [MnistTheory]
    [InlineData("per-layer", "per layer: each trainable layer clipped at C/√L")]
    [InlineData("automatic", "automatic clipping")]
    [InlineData("adaptive", "adaptive (quantile 0.5")]
    public void EveryClippingModeKeepsSigmaAndEpsilonAndSaysWhatItDid(string mode, string reported)
    {
        var flatDir = Path.Combine(_dir, "flat");
        // The CNN: with per-layer clipping its 4 layers are clipped at C/2 each (the linear model's one layer at C, as flat).
        var flat = JsonNode.Parse(CliRunner.Run("train", "mnist", "--model", "cnn", "--smoke", "--json", "--seed", "7", "--out", flatDir).Stdout.TrimEnd().Split('\n')[^1])!;
        var runDir = Path.Combine(_dir, mode);
        string[] extra = mode == "adaptive" ? ["--max-grad-norm", "1"] : [];
        var (code, stdout, stderr) = CliRunner.Run(["train", "mnist", "--model", "cnn", "--smoke", "--clipping", mode, .. extra, "--json", "--seed", "7", "--out", runDir]);
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.Equal("flat", flat["clipping"]!.GetValue<string>());
        Assert.Equal(mode, json["clipping"]!.GetValue<string>());
        Assert.Equal(Number(flat["noise_multiplier"]), Number(json["noise_multiplier"]));
        Assert.Equal(Number(flat["epsilon"]), Number(json["epsilon"]));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(flatDir, "checkpoint.bin")), File.ReadAllBytes(Path.Combine(runDir, "checkpoint.bin")));
        Assert.Contains(reported, File.ReadAllText(Path.Combine(runDir, "report.md")), StringComparison.Ordinal);
        if (mode == "adaptive")
        {
            // The clip moved from its start, and the checkpoint (with the clip in it) was written.
            var finalClip = Number(json["final_clip"]);
            Assert.NotEqual(1.0, finalClip);
            Assert.InRange(finalClip, 1e-3, 10.0);
        }
        else
        {
            Assert.Null(json["final_clip"]);
        }
    }

    [MnistFact]
    public void SmokeRunEndToEndPrintsJsonWritesTheRunFolderAndItsEpsilonEqualsTheEpsilonCommand()
    {
        var runDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--smoke", "--json", "--seed", "7", "--out", runDir);
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!.AsObject();
        foreach (var key in new[] { "dataset", "test_accuracy", "epsilon", "epsilon_lower", "delta", "noise_multiplier", "max_grad_norm", "sampling_probability", "steps", "epochs", "wall_seconds", "run_dir" })
        {
            Assert.True(json.ContainsKey(key), key);
        }

        Assert.Equal("mnist", json["dataset"]!.GetValue<string>());
        Assert.Equal("dp-sgd", json["mechanism"]!.GetValue<string>());
        Assert.Equal("add-or-remove-one", json["neighboring_relation"]!.GetValue<string>());
        Assert.Equal(runDir, json["run_dir"]!.GetValue<string>());
        Assert.Equal(8, json["steps"]!.GetValue<long>()); // ceil(1 epoch · 2000 / 256)
        Assert.Equal(256.0 / 2000, Number(json["sampling_probability"]));
        Assert.InRange(Number(json["test_accuracy"]), 0.0, 1.0);
        Assert.InRange(Number(json["epsilon"]), 2.5, 3.0); // calibrated to the default target ε = 3
        Assert.True(Number(json["epsilon_lower"]) <= Number(json["epsilon"]));
        Assert.Contains("seeded noise", stderr.Replace("\n", " ", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);

        foreach (var file in new[] { "report.md", "metrics.json", "accuracy.png", "epsilon.png", "checkpoint.bin", "command.txt" })
        {
            Assert.True(File.Exists(Path.Combine(runDir, file)), file);
        }

        Assert.StartsWith("./diffpriv train mnist --smoke", File.ReadAllText(Path.Combine(runDir, "command.txt")), StringComparison.Ordinal);
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "metrics.json")))!;
        Assert.Single(metrics["per_epoch"]!.AsArray());
        Assert.Equal(Number(json["epsilon"]), Number(metrics["per_epoch"]![0]!["epsilon"]));
        Assert.Contains("Privacy statement", File.ReadAllText(Path.Combine(runDir, "report.md")), StringComparison.Ordinal);

        // The ε printed is the ε of `diffpriv epsilon` for the same q, σ and steps actually taken.
        var inv = CultureInfo.InvariantCulture;
        var (epsCode, epsOut, epsErr) = CliRunner.Run(
            "epsilon", "--sampling-probability", Number(json["sampling_probability"]).ToString("R", inv),
            "--noise-multiplier", Number(json["noise_multiplier"]).ToString("R", inv),
            "--steps", json["steps"]!.GetValue<long>().ToString(inv),
            "--delta", Number(json["delta"]).ToString("R", inv), "--accountant", "pld", "--json");
        Assert.True(epsCode == 0, epsErr);
        var pld = JsonNode.Parse(epsOut)!["results"]![0]!;
        Assert.Equal(Number(pld["epsilon"]), Number(json["epsilon"]));
        Assert.Equal(Number(pld["epsilon_lower"]), Number(json["epsilon_lower"]));
    }

    [MnistFact]
    public void RunWhosePlanEndsAPassEarlyRunsExactlyThePlannedStepsAndSaysSo()
    {
        // N = 2000, B = 1900, 3 epochs: ⌈3.16⌉ = 4 steps, ⌈N/B⌉ = 2 per pass, so 2 passes run the plan's steps and the
        // third epoch has none left (running 2 more would be steps beyond what σ was calibrated for).
        var runDir = Path.Combine(_dir, "short-plan");
        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--smoke", "--epochs", "3", "--batch-size", "1900", "--json", "--seed", "3", "--out", runDir);
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.Equal(4, json["steps"]!.GetValue<long>());
        Assert.InRange(Number(json["epsilon"]), 2.5, 3.0);
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "metrics.json")))!;
        Assert.Equal([2L, 4L, 4L], metrics["per_epoch"]!.AsArray().Select(e => e!["steps"]!.GetValue<long>()));
        var report = File.ReadAllText(Path.Combine(runDir, "report.md"));
        Assert.Contains("Exactly the planned steps ran: 4 = ⌈3 epochs · N/B⌉, the number σ was calibrated for,", report, StringComparison.Ordinal);
        Assert.Contains("in 2 passes over the data of ⌈N/B⌉ = 2 steps (the plan's last epoch had no step left).", report, StringComparison.Ordinal);
    }

    /// <summary>
    /// DP-FTRL's smoke run: 2000 examples in fixed batches of 256, ⌈2000/256⌉ = 8 steps in one tree; σ calibrated so that
    /// one SingleEpochTreeAggregation(σ, [8]) has ε ≤ 3 under replace-special by RDP, which the test recomputes from the
    /// printed σ. The JSON and the report name the mechanism and the relation, and the model (not a checkpoint) is saved.
    /// </summary>
    [MnistFact]
    public void FtrlSmokeRunIsAccountedAsOneTreeUnderReplaceSpecialAndSaysSo()
    {
        var runDir = Path.Combine(_dir, "ftrl");
        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--smoke", "--mechanism", "dp-ftrl", "--json", "--seed", "5", "--out", runDir);
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.Equal("dp-ftrl", json["mechanism"]!.GetValue<string>());
        Assert.Equal("replace-special", json["neighboring_relation"]!.GetValue<string>());
        Assert.Equal("rdp", json["accountant"]!.GetValue<string>());
        Assert.Null(json["sampling_probability"]);
        Assert.Null(json["epsilon_lower"]);
        Assert.Equal(8, json["steps"]!.GetValue<long>());
        var sigma = Number(json["noise_multiplier"]);
        var tree = new DiffPriv.Accounting.Events.SingleEpochTreeAggregationDpEvent(sigma, [8]);
        var expected = new DiffPriv.Accounting.Rdp.RdpAccountant(neighboringRelation: DiffPriv.Accounting.NeighboringRelation.ReplaceSpecial)
            .Compose(tree).GetEpsilon(Number(json["delta"]));
        Assert.Equal(expected, Number(json["epsilon"]), 12);
        Assert.InRange(Number(json["epsilon"]), 2.99, 3.0); // calibrated to the default target ε = 3
        // The same σ with the smallest tree depth that fits 8 steps would be wrong: ⌈log2 9⌉ = 4 levels, not 3.
        Assert.True(new DiffPriv.Accounting.Rdp.RdpAccountant(neighboringRelation: DiffPriv.Accounting.NeighboringRelation.ReplaceSpecial)
            .Compose(new DiffPriv.Accounting.Events.SingleEpochTreeAggregationDpEvent(sigma, [7])).GetEpsilon(1e-5) < 2.9);
        // The ε printed is the ε of `diffpriv epsilon --event` for the tree that ran, under replace-special.
        var eventFile = Path.Combine(_dir, "ftrl-event.json");
        var inv = CultureInfo.InvariantCulture;
        File.WriteAllText(eventFile, $$"""{ "type": "single_epoch_tree_aggregation", "noise_multiplier": {{sigma.ToString("R", inv)}}, "step_counts": [8] }""");
        var (epsCode, epsOut, epsErr) = CliRunner.Run(
            "epsilon", "--event", eventFile, "--neighboring-relation", "replace-special", "--accountant", "rdp",
            "--delta", Number(json["delta"]).ToString("R", inv), "--json");
        Assert.True(epsCode == 0, epsErr);
        Assert.Equal(Number(json["epsilon"]), Number(JsonNode.Parse(epsOut)!["results"]![0]!["epsilon"]), 12);
        var report = File.ReadAllText(Path.Combine(runDir, "report.md"));
        Assert.Contains("under the **replace-special** relation", report, StringComparison.Ordinal);
        Assert.Contains("| neighbouring relation | replace-special", report, StringComparison.Ordinal);
        Assert.Contains("DP-FTRL (fixed batches over a fresh shuffle per pass", report, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(runDir, "checkpoint.bin"))); // a DP-FTRL checkpoint (between passes)
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "metrics.json")))!;
        Assert.Equal("replace-special", metrics["neighboring_relation"]!.GetValue<string>());
        Assert.Equal(Number(json["epsilon"]), Number(metrics["per_epoch"]![0]!["epsilon"]));
    }

    /// <summary>
    /// <c>--model scatternet-linear</c> on the smoke subset (2000 train / 1000 test examples): the features are computed (or
    /// read from the data cache), and a short run learns far above chance (10%).
    /// </summary>
    [MnistFact]
    public void ScatterNetLinearSmokeRunLearnsAboveChance()
    {
        var (code, stdout, stderr) = CliRunner.Run(
            "train", "mnist", "--model", "scatternet-linear", "--smoke", "--batch-size", "200", "--epochs", "3",
            "--noise-multiplier", "0.5", "--json", "--seed", "3", "--out", Path.Combine(_dir, "scatter"));
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.True(Number(json["test_accuracy"]) > 0.5, $"accuracy {Number(json["test_accuracy"])}");
        Assert.Contains("ScatterNet features", stderr, StringComparison.Ordinal);
        Assert.Contains("--model scatternet-linear", File.ReadAllText(Path.Combine(_dir, "scatter", "command.txt")), StringComparison.Ordinal);
    }

    [MnistFact]
    public void NoDpSmokeRunIsLabelledNotPrivate()
    {
        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--smoke", "--no-dp", "--json", "--seed", "1", "--out", Path.Combine(_dir, "plain"));
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.Equal("inf", json["epsilon"]!.GetValue<string>());
        Assert.Null(json["noise_multiplier"]);
        Assert.Equal("none", json["mechanism"]!.GetValue<string>());
        Assert.Null(json["neighboring_relation"]);
        Assert.Contains("NOT PRIVATE", stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "plain", "model.bin")));
    }

    [MnistFact]
    public void AuditAddsThePrivacyAuditToTheReportAndTheJsonAndItsLowerBoundStaysBelowTheAccountantsEpsilon()
    {
        var runDir = Path.Combine(_dir, "audited");
        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--smoke", "--audit", "--json", "--seed", "11", "--out", runDir);
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        var audit = json["audit"]!;
        Assert.Equal(1000, audit["members"]!.GetValue<int>()); // min(2000 train, 1000 test) of each
        Assert.Equal(1000, audit["non_members"]!.GetValue<int>());
        Assert.Equal(["loss-threshold", "confidence-threshold", "entropy-threshold", "logistic-regression", "mlp"], audit["results"]!.AsArray().Select(r => r!["attack"]!.GetValue<string>()));
        foreach (var r in audit["results"]!.AsArray())
        {
            Assert.InRange(Number(r!["auc"]), 0.0, 1.0);
        }

        // One short DP epoch at ε ≤ 3: the empirical lower bound cannot honestly exceed the accountant's upper bound.
        var lower = Number(audit["epsilon_lower_bound"]);
        Assert.InRange(lower, 0.0, Number(json["epsilon"]));
        var report = File.ReadAllText(Path.Combine(runDir, "report.md"));
        Assert.Contains("## Privacy audit", report, StringComparison.Ordinal);
        Assert.Contains("loss-threshold", report, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(runDir, "audit", "roc-all.png")));
        Assert.True(File.Exists(Path.Combine(runDir, "audit", "roc-all-log.png")));
        Assert.Contains("Privacy audit", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedIdxFileInTheCacheGivesOneClearLineAndExitCode1()
    {
        var mnist = WriteSyntheticMnist();
        var images = Path.Combine(mnist, "train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..^100]);

        var (code, stdout, stderr) = RunWithData("train", "mnist", "--smoke", "--json", "--out", Path.Combine(_dir, "never"));
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        var lines = stderr.TrimEnd().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(images, lines[0], StringComparison.Ordinal);
        Assert.Contains("truncated", lines[0], StringComparison.Ordinal);
        Assert.Contains("diffpriv fetch", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", stderr.Replace("at most", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void WellFormedFileWithTheWrongChecksumIsRejected()
    {
        WriteSyntheticMnist();
        var (code, _, stderr) = RunWithData("train", "mnist", "--smoke", "--out", Path.Combine(_dir, "never"));
        Assert.Equal(1, code);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains("does not match the pinned", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--noise-multiplier", "train", "mnist", "--noise-multiplier", "1", "--target-epsilon", "3")]
    [InlineData("--noise-multiplier", "train", "mnist", "--noise-multiplier", "-1")]
    [InlineData("--target-epsilon", "train", "mnist", "--target-epsilon", "0")]
    [InlineData("--delta", "train", "mnist", "--delta", "1")]
    [InlineData("--max-grad-norm", "train", "mnist", "--max-grad-norm", "0")]
    [InlineData("--batch-size", "train", "mnist", "--batch-size", "0")]
    [InlineData("--epochs", "train", "mnist", "--epochs", "0")]
    [InlineData("--learning-rate", "train", "mnist", "--learning-rate", "-0.1")]
    [InlineData("--optimizer", "train", "mnist", "--optimizer", "rmsprop")]
    [InlineData("--momentum", "train", "mnist", "--momentum", "1")]
    [InlineData("--momentum", "train", "mnist", "--optimizer", "adam", "--momentum", "0.9")]
    [InlineData("--activation", "train", "mnist", "--activation", "gelu")]
    [InlineData("--no-dp", "train", "mnist", "--no-dp", "--noise-multiplier", "1")]
    [InlineData("cifar10", "train", "cifar10")]
    [InlineData("--clip-quantile", "train", "mnist", "--clip-quantile", "0.9")]
    [InlineData("--clip-quantile", "train", "mnist", "--clipping", "adaptive", "--clip-quantile", "1.5")]
    [InlineData("--clipping", "train", "mnist", "--clipping", "sometimes")]
    [InlineData("--clipping", "train", "mnist", "--no-dp", "--clipping", "automatic")]
    [InlineData("--epochs", "train", "mnist", "--epochs", "many")]
    [InlineData("--train-examples", "train", "mnist", "--train-examples", "0")]
    [InlineData("--train-examples", "train", "mnist", "--train-examples", "100", "--smoke")]
    [InlineData("--mechanism", "train", "mnist", "--mechanism", "dp-adam")]
    [InlineData("--mechanism", "train", "mnist", "--no-dp", "--mechanism", "dp-ftrl")]
    [InlineData("--clipping adaptive is not supported with --mechanism dp-ftrl", "train", "mnist", "--mechanism", "dp-ftrl", "--clipping", "adaptive")]
    [InlineData("--device must be cpu, cuda or cuda:N (got 'gpu')", "train", "mnist", "--device", "gpu")]
    [InlineData("TorchSharp-cuda-linux", "train", "fashion-mnist", "--smoke", "--device", "cuda")] // no CUDA here: the message names the package
    [InlineData("the experiments run on the CPU only so far", "experiment", "secret-sharer", "--device", "cuda:0")]
    [InlineData("the benchmarks run on the CPU only so far", "bench", "dp-sgd", "--device", "cuda")]
    [InlineData("--model must be cnn, scatternet-linear or scatternet-cnn (got 'resnet')", "train", "mnist", "--model", "resnet")]
    [InlineData("--ema must be in [0, 1)", "train", "mnist", "--ema", "1")]
    [InlineData("--ema averages", "train", "mnist", "--no-dp", "--ema", "0.9")]
    [InlineData("--activation applies to --model cnn only", "train", "fashion-mnist", "--model", "scatternet-cnn", "--activation", "relu")]
    public void InvalidOptionsExitWithCode2AndOneLineNamingTheOption(string named, params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains(named, stderr, StringComparison.Ordinal);
    }

    [MnistFact]
    public void BatchLargerThanTheDataSetIsAUsageError()
    {
        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--smoke", "--batch-size", "5000", "--out", Path.Combine(_dir, "never"));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("--batch-size must be in [1, N = 2000]", stderr, StringComparison.Ordinal);
    }

    private (int, string, string) RunWithData(params string[] args)
    {
        var previous = Environment.GetEnvironmentVariable(DataCache.EnvironmentVariable);
        Environment.SetEnvironmentVariable(DataCache.EnvironmentVariable, _dir);
        try
        {
            return CliRunner.Run(args);
        }
        finally
        {
            Environment.SetEnvironmentVariable(DataCache.EnvironmentVariable, previous);
        }
    }

    /// <summary>A well-formed but fake MNIST cache (64 train / 32 test images) under the test folder.</summary>
    private string WriteSyntheticMnist()
    {
        var mnist = Path.Combine(_dir, "mnist");
        Directory.CreateDirectory(mnist);
        File.WriteAllBytes(Path.Combine(mnist, "train-images-idx3-ubyte"), Images(64));
        File.WriteAllBytes(Path.Combine(mnist, "train-labels-idx1-ubyte"), Labels(64));
        File.WriteAllBytes(Path.Combine(mnist, "t10k-images-idx3-ubyte"), Images(32));
        File.WriteAllBytes(Path.Combine(mnist, "t10k-labels-idx1-ubyte"), Labels(32));
        return mnist;
    }

    private static byte[] Images(int count)
    {
        var bytes = new byte[16 + count * 784];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 28);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), 28);
        return bytes;
    }

    private static byte[] Labels(int count)
    {
        var bytes = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        return bytes;
    }

    /// <summary>
    /// A private search: every run's σ is calibrated for the whole search (repeat-and-select), so the reported ε is what the
    /// accountant gives for that event and exceeds one run's; the folder keeps the selected run only and never states K.
    /// </summary>
    [MnistFact]
    public void ASearchCalibratesSigmaForTheWholeSearchAndKeepsOnlyTheSelectedRun()
    {
        var dir = Path.Combine(_dir, "search");
        var (code, stdout, stderr) = CliRunner.Run(
            "train", "mnist", "--smoke", "--tune-lr", "0.25,0.5", "--tune-runs-mean", "2", "--target-epsilon", "3", "--seed", "5", "--json", "--out", dir);
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        var sigma = Number(json["noise_multiplier"]);
        var q = Number(json["sampling_probability"]);
        var steps = (long)Number(json["steps"]);
        var run = DiffPriv.Accounting.Calibration.DpSgdCalibration.RunEvent(q, sigma, steps);
        var search = new DiffPriv.Accounting.Events.RepeatAndSelectDpEvent(run, 2.0, 1.0);
        var epsilon = new DiffPriv.Accounting.Rdp.RdpAccountant().Compose(search).GetEpsilon(1e-5);
        Assert.Equal(epsilon, Number(json["epsilon"]), 9);
        Assert.InRange(epsilon, 2.5, 3.0);
        Assert.True(Number(json["run_epsilon"]) < epsilon, "one run costs less than the search");
        Assert.Contains(Number(json["selected"]!["learning_rate"]), new[] { 0.25, 0.5 });
        Assert.Equal(500, (int)Number(json["validation_examples"]));
        Assert.Equal(500, (int)Number(json["test_examples"]));

        // Only the selected run's folder is left, and nothing states how many runs there were.
        Assert.True(File.Exists(Path.Combine(dir, "selected", "checkpoint.bin")));
        // No resume files in a search's runs: settings.json would name the run's folder (its index) and seed, a bound on K.
        Assert.False(File.Exists(Path.Combine(dir, "selected", "settings.json")));
        Assert.False(File.Exists(Path.Combine(dir, "selected", "resume.bin")));
        Assert.False(Directory.Exists(Path.Combine(dir, "runs")));
        Assert.Equal(["command.txt", "report.md", "search.json", "selected"], Directory.EnumerateFileSystemEntries(dir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray());
        Assert.Contains("repeat_and_select", File.ReadAllText(Path.Combine(dir, "report.md")), StringComparison.Ordinal);

        // A search takes its grid from --tune-…, never one learning rate or σ.
        Assert.Equal(2, CliRunner.Run("train", "mnist", "--smoke", "--tune-lr", "0.5", "--noise-multiplier", "1").ExitCode);
        Assert.Equal(2, CliRunner.Run("train", "mnist", "--smoke", "--tune-lr", "0.5,x").ExitCode);
        Assert.Equal(2, CliRunner.Run("train", "mnist", "--smoke", "--tune-runs-mean", "0.5").ExitCode);
    }
}
