using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DiffPriv.Accounting.Events;
using DiffPriv.Experiments.Tabular;
using DiffPriv.Experiments.Training;

namespace DiffPriv.Cli.Tests;

// Resume after a kill (issue 21, point 5) for train csv.
public sealed partial class TrainCsvCommandTests
{
    /// <summary>A table whose numeric range, category list and classes are all left to DP (no schema): the preprocessing spends ε.</summary>
    private string Table(int rows)
    {
        var text = new StringBuilder("age,city,y\n");
        var random = new Random(3);
        for (var i = 0; i < rows; i++)
        {
            var age = random.Next(20, 71);
            text.Append(CultureInfo.InvariantCulture, $"{(i % 17 == 0 ? "?" : age)},{(i % 13 == 0 ? "" : "xyz"[i % 3])},{(i % 41 == 0 ? "NA" : age > 45 ? "yes" : "no")}\n");
        }

        return File($"table-{rows}.csv", text.ToString());
    }

    /// <summary>
    /// The real CLI in its own process, SIGKILLed once its first checkpoint is in place, then resumed with --resume alone,
    /// ends with the uninterrupted seeded run's model.bin and final checkpoint (model, optimizer state, ledger with the
    /// preprocessing, generator), byte for byte, and the same JSON.
    /// </summary>
    [Fact]
    public void ASeededRunKilledAfterACheckpointResumesIntoTheUninterruptedRun()
    {
        string[] run = ["train", "csv", "--data", Table(2000), "--target", "y", "--epochs", "20", "--seed", "5"];
        var straightDir = Path.Combine(_dir, "straight");
        var straight = CliProcess.Run([.. run, "--json", "--out", straightDir], _dir);
        Assert.True(straight.ExitCode == 0, straight.Stderr);

        var killedDir = Path.Combine(_dir, "killed");
        var output = CliProcess.KillOnceWritten([.. run, "--out", killedDir], Path.Combine(killedDir, TrainResume.CheckpointFile), _dir);
        Assert.False(System.IO.File.Exists(Path.Combine(killedDir, "report.md")), "the kill came after the run had finished: nothing was tested");
        Assert.Contains($"run folder {killedDir}", output, StringComparison.Ordinal);

        var resumed = CliProcess.Run(["train", "csv", "--resume", killedDir, "--json"], _dir);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Matches(@"--resume: continuing after epoch \d+ of 20 \(step \d+\)", resumed.Stderr);
        Assert.Contains("nothing is computed again", resumed.Stderr, StringComparison.Ordinal);

        ResumeChecks.AssertSameRun(straightDir, straight.Stdout, killedDir, resumed.Stdout, "model.bin");
        Assert.Equal(ResumeChecks.EngineState(straightDir), ResumeChecks.EngineState(killedDir));

        var again = CliRunner.Run("train", "csv", "--resume", killedDir);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("has already finished", again.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A checkpoint write that fails as a full disk stops the run with a message naming the file and keeps the last good
    /// checkpoint. The run is unseeded, so a preprocessing computed again would draw fresh noise and come out different:
    /// the resumed run must read the release back — the same ranges, categories and classes, the same events — and its
    /// ledger must hold them once, followed by the planned steps (ε at most the target, exactly as planned).
    /// </summary>
    [Fact]
    public void AnUnseededRunResumesWithItsPreprocessingReleaseNotAFreshOneAndChargesItOnce()
    {
        var runDir = Path.Combine(_dir, "full-disk");
        var settings = new TabularTrainSettings { DataFile = Table(400), TargetColumn = "y", Epochs = 3, OutDir = runDir };
        var failing = new FailingCheckpoints(runDir);
        failing.AssertStoppedKeepingTheLastGood(Assert.Throws<IOException>(() => TabularTrainRunner.Run(settings, null, resume: false, openCheckpoint: failing.Open)));
        var afterFirstEpoch = failing.LastGood;
        var releaseFile = Path.Combine(runDir, TabularTrainRunner.PreprocessingFile);
        var release = System.IO.File.ReadAllText(releaseFile);

        var (code, stdout, stderr) = CliRunner.Run("train", "csv", "--resume", runDir, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("continuing after epoch 1 of 3", stderr, StringComparison.Ordinal);
        Assert.Contains("the noise from here on is fresh (secure)", stderr, StringComparison.Ordinal);
        Assert.NotEqual(afterFirstEpoch, System.IO.File.ReadAllBytes(failing.Checkpoint));
        Assert.Equal(release, System.IO.File.ReadAllText(releaseFile));

        // What the run publishes is the saved release.
        var saved = JsonNode.Parse(release)!;
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        var age = json["columns"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "age")!;
        var savedAge = saved["Columns"]!.AsArray().Single(c => c!["Name"]!.GetValue<string>() == "age")!;
        Assert.Equal($"[{savedAge["Low"]!.ToJsonString()},{savedAge["High"]!.ToJsonString()}]", age["range"]!.ToJsonString());
        Assert.Equal(saved["Target"]!["Classes"]!.ToJsonString(), json["classes"]!.ToJsonString());
        Assert.Equal(saved["Epsilon"]!.GetValue<double>(), json["preprocessing_epsilon"]!.GetValue<double>());

        // The ledger: the preprocessing's events once, then one DP-SGD event per step.
        var events = ((ComposedDpEvent)DpEventJson.Deserialize(saved["Events"]!.GetValue<string>())).Events;
        Assert.NotEmpty(events);
        var ledger = ResumeChecks.Ledger(runDir);
        var steps = json["steps"]!.GetValue<long>();
        Assert.Equal(events.Count + steps, ledger.TotalCount);
        Assert.Equal(events, ledger.Entries.SelectMany(e => Enumerable.Repeat(e.Event, (int)Math.Min(e.Count, events.Count))).Take(events.Count));
        Assert.InRange(json["epsilon"]!.GetValue<double>(), 2.99, 3.0);
        Assert.Equal(ledger.GetEpsilon(1e-5), json["epsilon"]!.GetValue<double>(), 9);
    }

    [Fact]
    public void ResumeTakesNoOtherOptionAndRefusesAnotherCommandsRunOrChangedData()
    {
        var data = Table(50);
        var runDir = Path.Combine(_dir, "csv-run");
        TrainResume.Save(TrainResume.CsvCommand, new TabularTrainSettings { DataFile = data, TargetColumn = "y", OutDir = runDir }, runDir, [data]);

        var (code, stdout, stderr) = CliRunner.Run("train", "csv", "--resume", runDir, "--epochs", "3", "--target", "y");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("--resume RUN_DIR takes every setting from RUN_DIR/settings.json: --epochs, --target cannot be given with it (only --json)", stderr, StringComparison.Ordinal);

        var mnist = CliRunner.Run("train", "mnist", "--resume", runDir);
        Assert.Equal(2, mnist.ExitCode);
        Assert.Contains($"was started by diffpriv train csv: resume it with diffpriv train csv --resume {runDir}", mnist.Stderr, StringComparison.Ordinal);
        var text = CliRunner.Run("train", "text", "--resume", runDir);
        Assert.Equal(2, text.ExitCode);
        Assert.Contains("resume it with diffpriv train csv --resume", text.Stderr, StringComparison.Ordinal);

        System.IO.File.AppendAllText(data, "33,x,no\n");
        var changed = CliRunner.Run("train", "csv", "--resume", runDir);
        Assert.Equal(2, changed.ExitCode);
        Assert.Contains($"{data} has changed since the run in {runDir} started", changed.Stderr, StringComparison.Ordinal);

        Assert.Contains("--data is required", Fails("--target", "y"), StringComparison.Ordinal);
        Assert.Contains("--checkpoint-every must be ≥ 1", Fails("--data", data, "--target", "y", "--checkpoint-every", "0"), StringComparison.Ordinal);
    }
}
