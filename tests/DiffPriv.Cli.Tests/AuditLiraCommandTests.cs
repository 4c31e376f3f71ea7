using System.Text.Json.Nodes;

namespace DiffPriv.Cli.Tests;

/// <summary><c>diffpriv audit lira</c>: the JSON contract and run folder on a tiny DP run, and usage errors before any training.</summary>
public sealed class AuditLiraCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-lira-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [FashionMnistFact]
    public void TinyDpRunPrintsTheContractAndWritesTheRunFolder()
    {
        var runDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = CliRunner.Run(
            "audit", "lira", "--shadows", "4", "--target-epsilon", "4", "--pool", "40", "--epochs", "1", "--batch-size", "10", "--hidden", "16",
            "--test-examples", "50", "--seed", "2", "--out", runDir, "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!.AsObject();
        foreach (var field in new[] { "auc", "tpr_at_fpr_0.001", "tpr_at_fpr_0.01", "tpr_at_fpr_0.001_ci", "epsilon", "delta", "shadows", "online", "offline", "run_dir" })
        {
            Assert.True(json.ContainsKey(field), field);
        }

        // The accountant's ε of every model is at most the calibration target (PLD's upper end, never overshooting).
        Assert.InRange((double)json["epsilon"]!, 3.9, 4.0 + 1e-9);
        Assert.Equal(4, (int)json["shadows"]!);
        Assert.Equal(1e-5, (double)json["delta"]!);

        // Every example is in 2 of the 4 models: 4 · 40 pairs, half members. The headline is the online test.
        var online = json["online"]!.AsObject();
        Assert.Equal(80, (int)online["members"]!);
        Assert.Equal(80, (int)online["non_members"]!);
        Assert.Equal((double)json["auc"]!, (double)online["auc"]!);
        Assert.InRange((double)json["offline"]!["auc"]!, 0, 1);
        var ci = json["tpr_at_fpr_0.001_ci"]!.AsArray();
        Assert.InRange((double)json["tpr_at_fpr_0.001"]!, (double)ci[0]!, (double)ci[1]!);
        Assert.InRange((double)json["tpr_at_fpr_0.01"]!, (double)json["tpr_at_fpr_0.001"]!, 1);
        Assert.Equal(runDir, (string)json["run_dir"]!);

        foreach (var file in new[] { "report.md", "lira.json", "roc-lira-log.png" })
        {
            Assert.True(File.Exists(Path.Combine(runDir, file)), file);
        }

        var full = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "lira.json")))!.AsObject();
        Assert.Equal(4, full["confidences"]!.AsArray().Count);
        Assert.Equal(40, full["included"]![0]!.AsArray().Count);
        Assert.Equal(4, full["tests"]!.AsObject().Count);
        Assert.Contains("online-per-example", File.ReadAllText(Path.Combine(runDir, "report.md")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--no-dp and --target-epsilon exclude each other", "--no-dp", "--target-epsilon", "2")]
    [InlineData("--shadows must be an even number ≥ 4", "--shadows", "3")]
    [InlineData("--shadows must be an even number ≥ 4", "--shadows", "2")]
    [InlineData("--target-epsilon must be a finite number > 0", "--target-epsilon", "0")]
    [InlineData("--delta must be in (0, 1)", "--delta", "0")]
    [InlineData("--pool must be in [4, 60000]", "--pool", "70000")]
    [InlineData("--batch-size must be in [1, pool/2 = 50]", "--pool", "100", "--batch-size", "60")]
    [InlineData("--epochs must be ≥ 1", "--epochs", "0")]
    public void BadArgumentsExitWithCode2(string expected, params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(["audit", "lira", "--out", Path.Combine(_dir, "never"), .. args]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(expected, Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }
}
