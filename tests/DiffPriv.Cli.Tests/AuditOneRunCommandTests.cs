using System.Text.Json.Nodes;

namespace DiffPriv.Cli.Tests;

/// <summary><c>diffpriv audit one-run</c>: the JSON contract on a tiny run, and usage errors before any training.</summary>
public sealed class AuditOneRunCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-one-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [MnistFact]
    public void TinyRunPrintsTheContractAndWritesTheRunFolder()
    {
        var runDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = CliRunner.Run(
            "audit", "one-run", "--no-dp", "--canaries", "40", "--train-examples", "200", "--batch-size", "20", "--epochs", "2", "--seed", "3", "--out", runDir, "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!.AsObject();
        foreach (var field in new[] { "epsilon", "delta", "epsilon_lower_bound", "canaries", "guesses", "correct_guesses", "confidence", "run_dir" })
        {
            Assert.True(json.ContainsKey(field), field);
        }

        Assert.Null(json["epsilon"]); // no DP: ε = ∞, which JSON cannot hold
        Assert.Equal(40, (int)json["canaries"]!);
        Assert.InRange((int)json["correct_guesses"]!, 0, (int)json["guesses"]!);
        Assert.InRange((double)json["epsilon_lower_bound"]!, 0, (double)json["max_certifiable"]!);
        Assert.Equal(0.95, (double)json["confidence"]!);
        Assert.Equal(runDir, (string)json["run_dir"]!);
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "one-run.json")))!.AsObject();
        Assert.Equal(40, file["scores"]!.AsArray().Count);
        Assert.Equal(40, file["included"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("--no-dp and --target-epsilon exclude each other", "--no-dp", "--target-epsilon", "2")]
    [InlineData("--white-box and --black-box exclude each other", "--white-box", "--black-box")]
    [InlineData("--canaries must be ≥ 2", "--canaries", "1")]
    [InlineData("--target-epsilon must be a finite number > 0", "--target-epsilon", "0")]
    [InlineData("--delta must be in (0, 1)", "--delta", "1")]
    public void BadArgumentsExitWithCode2(string expected, params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(["audit", "one-run", "--out", Path.Combine(_dir, "never"), .. args]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(expected, Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }
}

/// <summary><c>train mnist --audit one-run|all</c>: canaries inserted into the training run, reported beside ε.</summary>
public sealed class TrainOneRunAuditTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-train-one-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [MnistFact]
    public void SmokeRunReportsTheOneRunBoundBesideEpsilonAndSaysTheCanariesWereInserted()
    {
        var runDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--smoke", "--audit", "one-run", "--seed", "1", "--out", runDir, "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!.AsObject();
        var oneRun = json["one_run_audit"]!.AsObject();
        Assert.Equal(1000, (int)oneRun["canaries_inserted_into_this_run"]!);
        Assert.InRange((double)oneRun["epsilon_lower_bound"]!, 0, (double)json["epsilon"]!);
        Assert.Null(json["audit"]); // one-run only: no membership-inference split
        var report = File.ReadAllText(Path.Combine(runDir, "report.md"));
        Assert.Contains("canaries were inserted into this training run", report, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--audit must be mia, one-run or all", "--audit", "lira")]
    [InlineData("--audit one-run inserts its canaries into the DP-SGD step", "--audit", "one-run", "--no-dp")]
    public void BadAuditModesExitWithCode2(string expected, params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(["train", "mnist", "--smoke", "--out", Path.Combine(_dir, "never"), .. args]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(expected, Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
