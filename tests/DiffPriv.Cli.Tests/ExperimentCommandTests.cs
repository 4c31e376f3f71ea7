using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DiffPriv.Cli.Commands;
using DiffPriv.Datasets;
using DiffPriv.Datasets.Text;
using DiffPriv.Experiments.Models;

namespace DiffPriv.Cli.Tests;

/// <summary>
/// A fact that needs the experiment's corpora (Reuters, and the whole Brown corpus for public pretraining): skipped,
/// with the reason, when they cannot be fetched here.
/// </summary>
public sealed class ExperimentDataFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            ReutersCorpus.Load();
            BrownCorpus.LoadAllGenres();
            return null;
        }
        catch (DataFetchException e)
        {
            return e.Message;
        }
    });

    public ExperimentDataFactAttribute()
    {
        if (Unavailable.Value is { } reason)
        {
            Skip = $"The experiment's corpora cannot be fetched on this machine ({reason}); the experiment's input checks still run.";
        }
    }
}

public sealed partial class ExperimentCommandTests(TinySecretSharerRun tiny) : IClassFixture<TinySecretSharerRun>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-experiment-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double Number(JsonNode? node) => node!.GetValue<double>();

    private static JsonObject LastLineJson(string stdout) => JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!.AsObject();

    [ExperimentDataFact]
    public void TinySecretSharerRunPrintsTheIssueJsonAndWritesTheRunFolder()
    {
        var runDir = tiny.RunDir;
        var (code, stdout, stderr) = tiny.Result;
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!.AsObject();
        foreach (var key in new[] { "perplexity", "bits_per_char", "accepted_by_both", "exposure", "epsilon", "delta", "run_dir" })
        {
            Assert.True(json.ContainsKey(key), key);
        }

        var ppl = json["perplexity"]!;
        Assert.Equal(Number(ppl["private"]) / Number(ppl["non_private"]), Number(ppl["ratio"]), 12);
        Assert.True(json["bits_per_char"]!.AsObject().ContainsKey("ratio"));
        Assert.InRange(Number(ppl["non_private"]), 1.0, 73.0 * 2); // a barely trained model is near uniform over 73 ids
        Assert.InRange(Number(json["accepted_by_both"]), 0.0, 1.0);

        var exposure = json["exposure"]!.AsArray();
        Assert.Equal([1, 2, 4, 8, 16, 32], exposure.Select(e => e!["repetitions"]!.GetValue<int>()));
        foreach (var e in exposure)
        {
            // Exposure by rank among 64 references lies in [log2 64 − log2 65, log2 64].
            Assert.InRange(Number(e!["non_private"]), 6 - Math.Log2(65), 6.0);
            Assert.InRange(Number(e["private"]), 6 - Math.Log2(65), 6.0);
        }

        Assert.InRange(Number(json["epsilon"]), 3.9, 4.0); // calibrated to ε = 4, never above
        Assert.Equal(1e-5, Number(json["delta"]));
        Assert.Equal(runDir, json["run_dir"]!.GetValue<string>());
        // --quick pretrains both models for one epoch on 2000 public Brown sequences.
        var pretraining = json["pretraining"]!;
        Assert.Equal(2000, pretraining["sequences"]!.GetValue<int>());
        Assert.Equal(1, pretraining["epochs"]!.GetValue<int>());
        Assert.InRange(Number(pretraining["perplexity"]), 1.0, 73.0 * 2);
        foreach (var file in new[]
        {
            "report.md", "results.json", "exposure.png", "command.txt", "pretrained-model.bin", "non-private-model.bin", "private-checkpoint.bin",
            "pretrained-model.bin.provenance.json", "non-private-model.bin.provenance.json", "private-checkpoint.bin.provenance.json",
        })
        {
            Assert.True(File.Exists(Path.Combine(runDir, file)), file);
        }

        var report = File.ReadAllText(Path.Combine(runDir, "report.md"));
        foreach (var section in new[] { "## Test perplexity", "## Which training sentences each model accepts", "## Canary exposure", "## Privacy of the private model" })
        {
            Assert.Contains(section, report, StringComparison.Ordinal);
        }

        Assert.Contains("the guarantee covers the Reuters training sequences", report, StringComparison.Ordinal);
        Assert.Contains("| initial weights | pretrained on Brown corpus", report, StringComparison.Ordinal);
        // Both models decay their learning rate the same way; public pretraining keeps a constant one.
        Assert.Contains("| optimizer | Adam, learning rate 0.002, cosine decay to 0 over the run | Adam, learning rate 0.012, cosine decay to 0 over the run |", report, StringComparison.Ordinal);
        Assert.Contains("[non-private] NOT PRIVATE: Adam lr 0.002 (cosine decay to 0 over the run)", stderr, StringComparison.Ordinal);
        Assert.Contains("[pretraining] NOT PRIVATE: Adam lr 0.002 (constant)", stderr, StringComparison.Ordinal);
        // The summary's exposure table: r, then both means with two decimals.
        var rows = stderr.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^  (1|2|4|8|16|32) +\S")).ToList();
        Assert.Equal(6, rows.Count);
        Assert.All(rows, l => Assert.Matches(@"^  \d+ +\d+\.\d{2} +\d+\.\d{2}$", l.TrimEnd('\r')));

        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "results.json")))!;
        Assert.Equal(6, results["canaries"]!.AsArray().Count); // one canary per r
        Assert.Equal(10, results["disagreements"]!.AsArray().Count);
        Assert.Equal(300, results["train_sequences"]!.GetValue<int>());
        Assert.False(json["private_only"]!.GetValue<bool>());
        Assert.Equal(4.0, Number(json["target_epsilon"]));
    }

    [ExperimentDataFact]
    public void PretrainedModelIsSavedWithASidecarNamingOnlyPublicData()
    {
        var weights = tiny.File("pretrained-model.bin");
        var provenance = ModelProvenance.Read(weights);
        var corpus = Assert.Single(provenance.Corpora);
        Assert.Equal(BrownCorpus.AllGenresName, corpus.Name);
        Assert.True(corpus.IsPublic);
        Assert.Equal((2000, 1), (corpus.Sequences, corpus.Epochs)); // --quick: one epoch on 2000 public sequences
        Assert.False(provenance.SawPrivateData);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(weights))), provenance.Sha256);
        Assert.Equal(new ModelArchitecture("char-lstm", CharVocabulary.Default.Size, 64, 16, 80), provenance.Architecture);
        Assert.Equal(5L, provenance.Seed);
        Assert.Equal(ModelProvenance.CurrentVersion, provenance.DiffPrivVersion);

        // The run's JSON names the same file and hash.
        var pretraining = LastLineJson(tiny.Result.Stdout)["pretraining"]!;
        Assert.Equal(weights, pretraining["weights"]!.GetValue<string>());
        Assert.Equal(provenance.Sha256, pretraining["sha256"]!.GetValue<string>());
        Assert.Null(pretraining["loaded_from"]);

        // The models trained on Reuters say so: their sidecars name the training split with its canaries as private data.
        foreach (var file in new[] { "non-private-model.bin", "private-checkpoint.bin" })
        {
            var trained = ModelProvenance.Read(tiny.File(file));
            Assert.True(trained.SawPrivateData, file);
            Assert.Equal([BrownCorpus.AllGenresName, $"{ReutersCorpus.Name}, training split with canaries"], trained.Corpora.Select(c => c.Name));
            Assert.Equal(363, trained.PrivateCorpora.Single().Sequences); // 300 sequences + 63 canary insertions
        }

        Assert.Null(ModelProvenance.Read(tiny.File("non-private-model.bin")).PrivateCorpora.Single().Epsilon);
        Assert.InRange(ModelProvenance.Read(tiny.File("private-checkpoint.bin")).PrivateCorpora.Single().Epsilon!.Value, 3.9, 4.0);
    }

    [ExperimentDataFact]
    public void PrivateOnlyRunFromThePretrainedModelTrainsOnlyThePrivateModel()
    {
        // The "what ε buys" rows: --pretrained F --private-only --epsilon E --seed 1 (here --target-epsilon, its alias).
        var weights = tiny.File("pretrained-model.bin");
        var runDir = Path.Combine(_dir, "private-only");
        var (code, stdout, stderr) = CliRunner.Run(
            ["experiment", "secret-sharer", .. TinySecretSharerRun.TinySettings, "--pretrained", weights, "--private-only",
             "--target-epsilon", "4", "--seed", "1", "--json", "--out", runDir]);
        Assert.True(code == 0, stderr);
        var json = LastLineJson(stdout);

        Assert.True(json["private_only"]!.GetValue<bool>());
        Assert.Equal(4.0, Number(json["target_epsilon"]));
        Assert.InRange(Number(json["epsilon"]), 3.9, 4.0); // the target is met, never exceeded
        Assert.Null(json["perplexity"]!["non_private"]);
        Assert.Null(json["perplexity"]!["ratio"]);
        Assert.Null(json["bits_per_char"]!["ratio"]);
        Assert.InRange(Number(json["perplexity"]!["private"]), 1.0, 73.0 * 2);
        Assert.Null(json["accepted_by_both"]);
        Assert.All(json["exposure"]!.AsArray(), e => Assert.Null(e!["non_private"]));
        Assert.All(json["exposure"]!.AsArray(), e => Assert.InRange(Number(e!["private"]), 6 - Math.Log2(65), 6.0));

        // The starting weights are the file's, checked by its hash, and not trained again: one Brown epoch took the
        // model from near-uniform (perplexity about 73) to well below it.
        var pretraining = json["pretraining"]!;
        Assert.Equal(weights, pretraining["loaded_from"]!.GetValue<string>());
        Assert.Equal(ModelProvenance.Read(weights).Sha256, pretraining["sha256"]!.GetValue<string>());
        Assert.Null(pretraining["seconds"]);
        Assert.InRange(Number(pretraining["perplexity"]), 1.0, 50.0);
        Assert.DoesNotContain("[pretraining] NOT PRIVATE", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("[non-private] NOT PRIVATE", stderr, StringComparison.Ordinal);
        Assert.Contains("[non-private] not trained (--private-only)", stderr, StringComparison.Ordinal);
        Assert.Contains("[private] DP-SGD", stderr, StringComparison.Ordinal);

        Assert.False(File.Exists(Path.Combine(runDir, "non-private-model.bin")));
        Assert.False(File.Exists(Path.Combine(runDir, "pretrained-model.bin")));
        Assert.True(File.Exists(Path.Combine(runDir, "private-checkpoint.bin.provenance.json")));

        var report = File.ReadAllText(Path.Combine(runDir, "report.md"));
        Assert.Contains("| non-private | not trained (--private-only) | | | |", report, StringComparison.Ordinal);
        Assert.DoesNotContain("ratio private / non-private", report, StringComparison.Ordinal);
        Assert.Contains("Not measured: the non-private model was not trained (--private-only)", report, StringComparison.Ordinal);
        Assert.Contains($"loaded from `{weights}`", report, StringComparison.Ordinal);
        Assert.Contains("loaded from pretrained-model.bin, sha256", report, StringComparison.Ordinal); // the privacy statement

        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "results.json")))!;
        Assert.Null(results["disagreements"]);
        Assert.Null(results["seconds"]!["non_private"]);
        Assert.All(results["canaries"]!.AsArray(), c => Assert.Null(c!["non_private"]));

        // The printed summary: no ratio, and the exposure of the private model alone.
        Assert.Contains("non-private model not trained (--private-only), so no ratio", stderr, StringComparison.Ordinal);
        var rows = stderr.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^  (1|2|4|8|16|32) +\S")).ToList();
        Assert.Equal(6, rows.Count);
        Assert.All(rows, l => Assert.Matches(@"^  \d+ +\d+\.\d{2}$", l.TrimEnd('\r')));
    }

    [ExperimentDataFact]
    public void ModelsTrainedOnThePrivateDataAreRefusedAsAStart()
    {
        foreach (var file in new[] { "non-private-model.bin", "private-checkpoint.bin" })
        {
            var (code, _, stderr) = RunPretrained(tiny.File(file));
            Assert.Equal(2, code);
            Assert.Contains($"error: --pretrained {tiny.File(file)}: these weights were trained on private data", stderr, StringComparison.Ordinal);
            Assert.Contains("training split with canaries", stderr, StringComparison.Ordinal);
        }
    }

    [ExperimentDataFact]
    public void WeightsWithoutAValidSidecarAreRefusedBeforeTraining()
    {
        var weights = tiny.File("pretrained-model.bin");

        var bare = Path.Combine(_dir, "bare.bin");
        File.Copy(weights, bare);
        AssertRefused(RunPretrained(bare), $"--pretrained {bare}: no provenance sidecar bare.bin.provenance.json");

        // A copy with its sidecar is accepted as far as the checks go; the same copy with one byte changed is not.
        var tampered = Path.Combine(_dir, "tampered.bin");
        File.Copy(weights, tampered);
        File.Copy(ModelProvenance.SidecarPath(weights), ModelProvenance.SidecarPath(tampered));
        Assert.Equal(ModelProvenance.Read(weights).Sha256, ModelProvenance.Read(tampered).Sha256);
        var bytes = File.ReadAllBytes(tampered);
        bytes[^10] ^= 0x40;
        File.WriteAllBytes(tampered, bytes);
        AssertRefused(RunPretrained(tampered), "changed after it was saved");

        var broken = Path.Combine(_dir, "broken.bin");
        File.Copy(weights, broken);
        File.WriteAllText(ModelProvenance.SidecarPath(broken), "{ \"format\": 1, ");
        AssertRefused(RunPretrained(broken), "broken.bin.provenance.json is not valid provenance");

        AssertRefused(RunPretrained(Path.Combine(_dir, "absent.bin")), "absent.bin: no such file");

        // Valid, public, but another architecture.
        AssertRefused(
            CliRunner.Run("experiment", "secret-sharer", "--quick", "--hidden-size", "32", "--pretrained", weights, "--out", Path.Combine(_dir, "never")),
            "the weights do not fit this run: hidden size 16 vs 32");

        // Loaded weights are not pretrained again.
        AssertRefused(
            CliRunner.Run(["experiment", "secret-sharer", .. TinySecretSharerRun.TinySettings, "--pretrained", weights, "--pretrain-epochs", "1", "--out", Path.Combine(_dir, "never")]),
            "--pretrained and --pretrain-epochs cannot be combined");
    }

    [Fact]
    public void TargetEpsilonIsTheEpsilonOption()
    {
        var command = ExperimentCommand.Create(TextWriter.Null, TextWriter.Null).Subcommands.Single(c => c.Name == "secret-sharer");
        var epsilon = command.Options.Single(o => o.Name == "--epsilon");
        Assert.Contains("--target-epsilon", epsilon.Aliases);
        Assert.DoesNotContain(command.Options, o => o.Name == "--target-epsilon");

        // The same checks, and one value only: giving both is giving the option twice.
        var (code, _, stderr) = CliRunner.Run("experiment", "secret-sharer", "--target-epsilon", "-1", "--out", Path.Combine(_dir, "never"));
        Assert.Equal(2, code);
        Assert.Contains("--epsilon must be a finite number > 0 (got -1)", stderr, StringComparison.Ordinal);
        (code, _, stderr) = CliRunner.Run("experiment", "secret-sharer", "--epsilon", "4", "--target-epsilon", "2", "--out", Path.Combine(_dir, "never"));
        Assert.Equal(2, code);
        Assert.Contains("expects a single argument", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    private (int Code, string Stdout, string Stderr) RunPretrained(string weights) =>
        CliRunner.Run(["experiment", "secret-sharer", .. TinySecretSharerRun.TinySettings, "--pretrained", weights, "--private-only", "--seed", "1", "--out", Path.Combine(_dir, "never")]);

    /// <summary>Exit code 2, one line naming the problem, and nothing trained or written.</summary>
    private void AssertRefused((int Code, string Stdout, string Stderr) run, string message)
    {
        Assert.True(run.Code == 2, run.Stderr);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: --pretrained", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.Equal("", run.Stdout);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    [ExperimentDataFact]
    public void WithoutPretrainingBothModelsStartFromRandomWeights()
    {
        var runDir = Path.Combine(_dir, "plain-start");
        var (code, stdout, stderr) = CliRunner.Run(
            "experiment", "secret-sharer", "--quick", "--pretrain-epochs", "0", "--train-sequences", "200", "--test-sequences", "40",
            "--epochs", "1", "--references", "16", "--canaries-per-repetition", "1", "--hidden-size", "8", "--seed", "6", "--json", "--out", runDir);
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!.AsObject();
        Assert.True(json.ContainsKey("pretraining"));
        Assert.Null(json["pretraining"]);
        Assert.False(File.Exists(Path.Combine(runDir, "pretrained-model.bin")));
        Assert.Contains("| initial weights | random | random (another draw) |", File.ReadAllText(Path.Combine(runDir, "report.md")), StringComparison.Ordinal);
        Assert.DoesNotContain("[pretraining]", stdout + stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--epsilon", "0", "--epsilon must be a finite number > 0")]
    [InlineData("--target-epsilon", "0", "--epsilon must be a finite number > 0")]
    [InlineData("--delta", "1", "--delta must be in (0, 1)")]
    [InlineData("--epochs", "0", "--epochs must be ≥ 1")]
    [InlineData("--references", "2", "--references must be ≥ 3")]
    [InlineData("--train-sequences", "5", "--train-sequences must be ≥ 10")]
    [InlineData("--hidden-size", "0", "--hidden-size must be ≥ 1")]
    [InlineData("--pretrain-epochs", "-1", "--pretrain-epochs must be ≥ 0")]
    public void BadInputExitsWithCodeTwoAndNamesTheOption(string option, string value, string message)
    {
        var (code, _, stderr) = CliRunner.Run("experiment", "secret-sharer", option, value, "--out", Path.Combine(_dir, "never"));
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }
}
