using System.Text.Json.Nodes;
using DiffPriv.Datasets;
using DiffPriv.Experiments.Training;
using DiffPriv.Models;

namespace DiffPriv.Cli.Tests;

// Resume after a kill (issue 21, point 5). In TrainCommandTests' class (one xunit collection), so that no test points
// DIFFPRIV_DATA at a broken cache while these read the real one (also from the child processes they start).
public sealed partial class TrainCommandTests
{
    // A cosine schedule, so that the resumed run must also pick up the learning rate where the checkpoint left it.
    private static readonly string[] ResumableRun = ["train", "mnist", "--model", "cnn", "--smoke", "--epochs", "3", "--batch-size", "100", "--lr-schedule", "cosine"];

    /// <summary>
    /// The real CLI in its own process, SIGKILLed once its first checkpoint is in place, then resumed with --resume alone,
    /// ends with the same checkpoint.bin (model, optimizer state, ledger, step counters, generator state) byte for byte as
    /// the uninterrupted seeded run, the same per-epoch ε and the same plan; a --no-dp run with the same model.bin (its
    /// shuffles come from the torch generator, which its checkpoint holds).
    /// </summary>
    [MnistTheory]
    [InlineData("dp-sgd")]
    [InlineData("no-dp")]
    [InlineData("ema")] // the parameter average continues from the checkpoint's
    public void ASeededRunKilledAfterACheckpointResumesIntoTheUninterruptedRun(string mechanism)
    {
        string[] run = mechanism switch
        {
            "no-dp" => [.. ResumableRun, "--no-dp", "--seed", "11"],
            "ema" => [.. ResumableRun, "--ema", "0.9", "--seed", "11"],
            _ => [.. ResumableRun, "--seed", "11"],
        };
        var final = mechanism == "no-dp" ? "model.bin" : "checkpoint.bin";
        var straightDir = Path.Combine(_dir, "straight");
        var straight = RunCliProcess([.. run, "--json", "--out", straightDir]);
        Assert.True(straight.ExitCode == 0, straight.Stderr);

        var killedDir = Path.Combine(_dir, "killed");
        var output = CliProcess.KillOnceWritten([.. run, "--out", killedDir], Path.Combine(killedDir, TrainResume.CheckpointFile), _dir);
        Assert.False(File.Exists(Path.Combine(killedDir, "report.md")), "the kill came after the run had finished: nothing was tested");
        Assert.False(File.Exists(Path.Combine(killedDir, final)));
        // The run folder is printed before training starts.
        Assert.Contains($"run folder {killedDir}", output, StringComparison.Ordinal);

        var resumed = RunCliProcess(["train", "mnist", "--resume", killedDir, "--json"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Matches(@"--resume: continuing after epoch [12] of 3 \(step [24]0\)", resumed.Stderr);

        ResumeChecks.AssertSameRun(straightDir, straight.Stdout, killedDir, resumed.Stdout, final);
        var b = JsonNode.Parse(resumed.Stdout.TrimEnd().Split('\n')[^1])!.AsObject();
        Assert.Equal(60, b["steps"]!.GetValue<long>()); // 3 epochs of ⌈2000/100⌉ = 20 steps: the plan σ was calibrated for
        var perEpoch = (string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")))!["per_epoch"]!.AsArray()
            .Select(e => (e!["epoch"]!.GetValue<int>(), e["epsilon"]?.ToJsonString(), e["test_accuracy"]!.GetValue<double>(), e["train_loss"]?.ToJsonString())).ToList();
        Assert.Equal(perEpoch(straightDir), perEpoch(killedDir));

        // A finished run has nothing to resume: exit 2, with the reason.
        var again = RunCliProcess(["train", "mnist", "--resume", killedDir]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("has already finished", again.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Without --out the run folder is named after the time, once: the checkpoints go to the folder the run printed (a
    /// second lookup used to find that folder taken and name the next one, where the first checkpoint write failed).
    /// </summary>
    [MnistFact]
    public void WithoutOutTheCheckpointsGoToTheFolderTheRunPrinted()
    {
        var cwd = Path.Combine(_dir, "default-folder");
        Directory.CreateDirectory(cwd);
        var (code, stdout, stderr) = CliProcess.Run(["train", "mnist", "--model", "cnn", "--smoke", "--epochs", "2", "--batch-size", "1000", "--seed", "1"], cwd);
        Assert.True(code == 0, stderr);
        var folder = Assert.Single(Directory.GetDirectories(Path.Combine(cwd, "runs")));
        Assert.Contains($"run folder {folder}", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, TrainResume.CheckpointFile)));
        Assert.True(File.Exists(Path.Combine(folder, "report.md")));
    }

    [Fact]
    public void ResumeTakesNoOtherSettingAndNeedsARunFolder()
    {
        var dir = Path.Combine(_dir, "some-run");
        Directory.CreateDirectory(dir);
        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--resume", dir, "--epochs", "3", "--seed", "1");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("--resume RUN_DIR takes every setting from RUN_DIR/settings.json: --epochs, --seed cannot be given with it", stderr, StringComparison.Ordinal);

        var missing = CliRunner.Run("train", "mnist", "--resume", Path.Combine(_dir, "nowhere"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("there is no run folder", missing.Stderr, StringComparison.Ordinal);
        var empty = CliRunner.Run("train", "mnist", "--resume", dir);
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("holds no settings.json", empty.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, CliRunner.Run("train", "mnist", "--checkpoint-every", "0").ExitCode);
    }

    /// <summary>
    /// A checkpoint write that fails as a full disk would stops the run with a message that names the file and leaves the
    /// previous checkpoint as it was; the unseeded run then resumes from it with the same plan (steps, σ) and fresh noise, and
    /// its ledger holds every step: the planned ε exactly.
    /// </summary>
    [MnistFact]
    public void AFailedCheckpointWriteKeepsTheLastGoodOneAndAnUnseededRunResumesWithItsPlan()
    {
        var runDir = Path.Combine(_dir, "full-disk");
        var settings = new TrainSettings(
            DatasetName.Mnist, false, null, 4.0, 1e-5, 0.1, 100, 2, 0.5, OptimizerKind.Sgd, 0.9, Activation.Tanh, LrSchedule.Cosine, null, runDir, true, null, false, "test");
        var failing = new FailingCheckpoints(runDir);
        var runner = new TrainRunner(settings) { OpenCheckpoint = failing.Open };
        failing.AssertStoppedKeepingTheLastGood(Assert.Throws<IOException>(runner.Run));

        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--resume", runDir, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("continuing after epoch 1 of 2 (step 20)", stderr, StringComparison.Ordinal);
        Assert.Contains("the noise from here on is fresh (secure)", stderr, StringComparison.Ordinal);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.Equal(40, json["steps"]!.GetValue<long>());
        var sigma = Number(json["noise_multiplier"]);
        var planned = DiffPriv.Accounting.Calibration.DpSgdCalibration.NoiseMultiplier(100.0 / 2000, 40, 4.0, 1e-5, DiffPriv.Accounting.AccountantKind.Pld);
        Assert.Equal(planned.NoiseMultiplier, sigma);
        Assert.Equal(planned.Epsilon, Number(json["epsilon"]), 12);
        Assert.True(File.Exists(Path.Combine(runDir, "report.md")));
    }

    /// <summary>
    /// DP-FTRL checkpoints between passes: a seeded run stopped after its first pass (here by a failed write of the second
    /// checkpoint) and resumed ends with the uninterrupted run's checkpoint.bin, byte for byte (the tree restarts with the
    /// pass, the next shuffle and tree noise come from the restored generator).
    /// </summary>
    [MnistFact]
    public void ADpFtrlRunResumesBetweenPassesIntoTheUninterruptedRun()
    {
        var straightDir = Path.Combine(_dir, "ftrl-straight");
        var straight = CliRunner.Run("train", "mnist", "--smoke", "--mechanism", "dp-ftrl", "--epochs", "2", "--batch-size", "250", "--seed", "4", "--json", "--out", straightDir);
        Assert.True(straight.ExitCode == 0, straight.Stderr);

        // The same settings, in a folder whose second checkpoint write fails.
        var stoppedDir = Path.Combine(_dir, "ftrl-stopped");
        Directory.CreateDirectory(stoppedDir);
        File.Copy(Path.Combine(straightDir, TrainResume.SettingsFile), Path.Combine(stoppedDir, TrainResume.SettingsFile));
        var runner = new TrainRunner(TrainResume.Load(stoppedDir)) { OpenCheckpoint = new FailingCheckpoints(stoppedDir).Open };
        Assert.Throws<IOException>(runner.Run);

        var (code, stdout, stderr) = CliRunner.Run("train", "mnist", "--resume", stoppedDir, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("continuing after epoch 1 of 2 (step 8)", stderr, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straightDir, "checkpoint.bin")), File.ReadAllBytes(Path.Combine(stoppedDir, "checkpoint.bin")));
        var a = JsonNode.Parse(straight.Stdout.TrimEnd().Split('\n')[^1])!;
        var b = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.Equal("dp-ftrl", b["mechanism"]!.GetValue<string>());
        foreach (var key in new[] { "epsilon", "noise_multiplier", "steps", "test_accuracy" })
        {
            Assert.Equal(a[key]!.ToJsonString(), b[key]!.ToJsonString());
        }
    }

    private (int ExitCode, string Stdout, string Stderr) RunCliProcess(string[] args) => CliProcess.Run(args, _dir);
}
