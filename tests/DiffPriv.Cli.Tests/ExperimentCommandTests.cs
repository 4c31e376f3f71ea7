using System.Text.Json.Nodes;
using DiffPriv.Datasets;
using DiffPriv.Datasets.Text;

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

public sealed class ExperimentCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-experiment-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double Number(JsonNode? node) => node!.GetValue<double>();

    [ExperimentDataFact]
    public void TinySecretSharerRunPrintsTheIssueJsonAndWritesTheRunFolder()
    {
        var runDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = CliRunner.Run(
            "experiment", "secret-sharer", "--quick", "--train-sequences", "300", "--test-sequences", "60", "--epochs", "1",
            "--references", "64", "--canaries-per-repetition", "1", "--hidden-size", "16", "--epsilon", "4", "--seed", "5",
            "--json", "--out", runDir);
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
        foreach (var file in new[] { "report.md", "results.json", "exposure.png", "command.txt", "pretrained-model.bin", "non-private-model.bin", "private-checkpoint.bin" })
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
