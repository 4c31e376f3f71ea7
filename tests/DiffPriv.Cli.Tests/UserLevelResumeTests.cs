using System.Text.Json.Nodes;
using DiffPriv.Experiments.Training;
using DiffPriv.Experiments.UserLevel;

namespace DiffPriv.Cli.Tests;

// Resume after a kill (issue 21, point 5) for experiment user-level: the quick run (200 users, about 6 s for the three
// settings), killed in each private setting in turn.
public sealed partial class UserLevelExperimentCommandTests
{
    private static readonly string UserLevelCheckpoint = UserLevelExperiment.CheckpointFile(RatingTrainingMode.UserLevel);
    private static readonly string ExampleLevelCheckpoint = UserLevelExperiment.CheckpointFile(RatingTrainingMode.ExampleLevel);

    private static string[] QuickRun(string outDir, bool seeded, string settings = "non-private,user-level,example-level") =>
        ["experiment", "user-level", "--quick", "--settings", settings, "--target-epsilon", "4", .. seeded ? new[] { "--seeded-noise" } : [], "--out", outDir];

    private static JsonObject LastLineJson(string stdout) => JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!.AsObject();

    /// <summary>
    /// The real CLI, SIGKILLed once the user-level setting's first checkpoint is in place (the non-private one has
    /// finished), resumed with --resume alone and SIGKILLed again once the example-level setting's first checkpoint is,
    /// then resumed to the end, ends as the uninterrupted seeded run: both private settings' final engine state (model,
    /// optimizer state, ledger, loader counters, generator) byte for byte, the same --json line but the wall times, and
    /// ledgers that hold each private step once.
    /// </summary>
    [MovieLensFact]
    public void ASeededRunKilledInEachPrivateSettingResumesIntoTheUninterruptedRun()
    {
        var straightDir = Path.Combine(_dir, "straight");
        var straight = CliProcess.Run([.. QuickRun(straightDir, seeded: true), "--json"], _dir);
        Assert.True(straight.ExitCode == 0, straight.Stderr);

        var killedDir = Path.Combine(_dir, "killed");
        var first = CliProcess.KillOnceWritten(QuickRun(killedDir, seeded: true), Path.Combine(killedDir, UserLevelCheckpoint), _dir);
        Assert.Contains($"run folder {killedDir}", first, StringComparison.Ordinal);
        Assert.Contains($"resume with: diffpriv experiment user-level --resume {killedDir}", first, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(killedDir, UserLevelExperiment.DoneFile(RatingTrainingMode.UserLevel))), "the first kill came after the user-level setting: its resume was not tested");

        string[] resume = ["experiment", "user-level", "--resume", killedDir];
        var second = CliProcess.KillOnceWritten(resume, Path.Combine(killedDir, ExampleLevelCheckpoint), _dir);
        Assert.Contains("[non-private] --resume: finished in an earlier attempt", second, StringComparison.Ordinal);
        Assert.Matches(@"\[user-level\] --resume: continuing after epoch \d+ of 10 \(step \d+\)", second);
        Assert.False(File.Exists(Path.Combine(killedDir, UserLevelExperiment.DoneFile(RatingTrainingMode.ExampleLevel))), "the second kill came after the example-level setting: its resume was not tested");

        var resumed = CliProcess.Run([.. resume, "--json"], _dir);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("[user-level] --resume: finished in an earlier attempt", resumed.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"\[example-level\] --resume: continuing after epoch \d+ of 10 \(step \d+\)", resumed.Stderr);

        ResumeChecks.AssertSameRun(straightDir, straight.Stdout, killedDir, resumed.Stdout);
        var results = LastLineJson(resumed.Stdout)["results"]!.AsArray();
        foreach (var file in new[] { UserLevelCheckpoint, ExampleLevelCheckpoint })
        {
            Assert.Equal(ResumeChecks.EngineState(straightDir, file), ResumeChecks.EngineState(killedDir, file));
        }

        Assert.Equal(results[1]!["steps"]!.GetValue<long>(), ResumeChecks.Ledger(killedDir, UserLevelCheckpoint).TotalCount);
        Assert.Equal(results[2]!["steps"]!.GetValue<long>(), ResumeChecks.Ledger(killedDir, ExampleLevelCheckpoint).TotalCount);

        var again = CliRunner.Run([.. resume]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("has already finished", again.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// An unseeded run SIGKILLed once the user-level setting's first checkpoint is in place resumes with its plan (the same
    /// σ and steps) and fresh noise; its ledger holds every private step once and ε stays within the target.
    /// </summary>
    [MovieLensFact]
    public void AnUnseededRunResumesWithItsPlanAndFreshNoise()
    {
        var runDir = Path.Combine(_dir, "unseeded");
        var killed = CliProcess.KillOnceWritten(QuickRun(runDir, seeded: false, "user-level"), Path.Combine(runDir, UserLevelCheckpoint), _dir);
        var sigma = System.Text.RegularExpressions.Regex.Match(killed, @"\[user-level\] DP-SGD, privacy unit: user\. σ = (\S+) ").Groups[1].Value;
        Assert.NotEmpty(sigma);

        var resumed = CliProcess.Run(["experiment", "user-level", "--resume", runDir, "--json"], _dir);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("the noise from here on is fresh (secure)", resumed.Stderr, StringComparison.Ordinal);
        Assert.Contains($"[user-level] DP-SGD, privacy unit: user. σ = {sigma} ", resumed.Stderr, StringComparison.Ordinal);
        var result = Assert.Single(LastLineJson(resumed.Stdout)["results"]!.AsArray())!;
        Assert.Equal(50, result["steps"]!.GetValue<long>()); // 10 epochs of ⌈1/q⌉ = 5 steps
        var ledger = ResumeChecks.Ledger(runDir, UserLevelCheckpoint);
        Assert.Equal(50, ledger.TotalCount);
        Assert.True(result["epsilon"]!.GetValue<double>() <= 4 * (1 + 1e-9));
    }

    /// <summary>Also for text-classification, whose resume is tested in process (its smallest CLI run needs IMDB and a pretraining).</summary>
    [Theory]
    [InlineData("user-level")]
    [InlineData("text-classification")]
    public void AnExperimentsResumeTakesNoOtherOptionAndRefusesAnotherCommandsFolder(string experiment)
    {
        var (code, _, stderr) = CliRunner.Run("experiment", experiment, "--resume", _dir, "--seed", "1");
        Assert.Equal(2, code);
        Assert.Contains("--seed cannot be given with it (only --json)", stderr, StringComparison.Ordinal);

        var text = Path.Combine(_dir, "text-run");
        TrainResume.Save(TrainResume.TextCommand, new { Seed = 1 }, text, []);
        (code, _, stderr) = CliRunner.Run("experiment", experiment, "--resume", text);
        Assert.Equal(2, code);
        Assert.Contains($"resume it with diffpriv train text --resume {text}", stderr, StringComparison.Ordinal);

        (code, _, stderr) = CliRunner.Run("experiment", experiment, "--checkpoint-every", "0", "--out", Path.Combine(_dir, "never"));
        Assert.Equal(2, code);
        Assert.Contains("--checkpoint-every must be ≥ 1", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }
}
