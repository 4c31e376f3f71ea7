using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Experiments.SecretSharer;
using DiffPriv.Experiments.Training;

namespace DiffPriv.Cli.Tests;

// Resume after a kill (issue 21, point 5) for experiment secret-sharer. The runs start from the tiny run's public weights
// (--pretrained), so that they take seconds; the pretraining a resumed run loads instead of training again is the same
// file check as --pretrained's, with torch's generator restored beside it.
public sealed partial class ExperimentCommandTests
{
    /// <summary>The tiny run's settings with two epochs per model, from its pretrained weights, seeded, into <paramref name="outDir"/>.</summary>
    private string[] TwoEpochRun(string outDir, long? seed)
    {
        var settings = TinySecretSharerRun.TinySettings;
        return
        [
            "experiment", "secret-sharer", .. settings.Select((a, i) => i > 0 && settings[i - 1] == "--epochs" ? "2" : a),
            "--pretrained", tiny.File(SecretSharerRunner.PretrainedModelFile), "--epsilon", "4", .. seed is { } s ? new[] { "--seed", s.ToString(System.Globalization.CultureInfo.InvariantCulture) } : [],
            "--out", outDir,
        ];
    }

    /// <summary>The privacy ledger of an engine checkpoint file (such as private-checkpoint.bin).</summary>
    private static PrivacyLedger EngineLedger(string file)
    {
        using var reader = new BinaryReader(File.OpenRead(file));
        _ = reader.ReadString(); // the engine checkpoint's format
        return PrivacyLedger.FromJson(reader.ReadString());
    }

    /// <summary>
    /// The real CLI in its own process, SIGKILLed once the non-private model's first checkpoint is in place, resumed with
    /// --resume alone and SIGKILLed again once the private model's first checkpoint is, then resumed to the end, ends as
    /// the uninterrupted seeded run: the private checkpoint (model, optimizer state, ledger, generator) and the non-private
    /// model byte for byte, the same canaries with the same scores and exposures, and a ledger of the private steps only, once.
    /// </summary>
    [ExperimentDataFact]
    public void ASeededRunKilledInEachPhaseResumesIntoTheUninterruptedRun()
    {
        var straightDir = Path.Combine(_dir, "straight");
        var straight = CliProcess.Run([.. TwoEpochRun(straightDir, seed: 7), "--json"], _dir);
        Assert.True(straight.ExitCode == 0, straight.Stderr);

        var killedDir = Path.Combine(_dir, "killed");
        var first = CliProcess.KillOnceWritten(TwoEpochRun(killedDir, seed: 7), Path.Combine(killedDir, SecretSharerRunner.NonPrivateResumeFile), _dir);
        Assert.Contains($"run folder {killedDir}", first, StringComparison.Ordinal);
        Assert.Contains($"resume with: diffpriv experiment secret-sharer --resume {killedDir}", first, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(killedDir, TrainResume.CheckpointFile)), "the first kill came after the non-private model: its resume was not tested");

        string[] resume = ["experiment", "secret-sharer", "--resume", killedDir];
        var second = CliProcess.KillOnceWritten(resume, Path.Combine(killedDir, TrainResume.CheckpointFile), _dir);
        Assert.Matches(@"\[non-private\] --resume: continuing after epoch [12] of 2 \(step \d+\)", second);
        Assert.False(File.Exists(Path.Combine(killedDir, TrainResume.ReportFile)), "the second kill came after the run had finished: nothing was tested");

        var resumed = CliProcess.Run([.. resume, "--json"], _dir);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Matches(@"\[private\] --resume: continuing after epoch [12] of 2 \(step \d+\)", resumed.Stderr);

        ResumeChecks.AssertSameRun(
            straightDir, straight.Stdout, killedDir, resumed.Stdout, SecretSharerRunner.PrivateCheckpointFile, SecretSharerRunner.NonPrivateModelFile);
        var canaries = (string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!["canaries"]!.ToJsonString();
        Assert.Equal(canaries(straightDir), canaries(killedDir));
        var steps = LastLineJson(resumed.Stdout)["steps"]!.GetValue<long>();
        Assert.Equal(3, steps); // ⌈2 epochs · 363 / 256⌉
        Assert.Equal(steps, EngineLedger(Path.Combine(killedDir, SecretSharerRunner.PrivateCheckpointFile)).TotalCount);

        var again = CliRunner.Run([.. resume]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("has already finished", again.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// An unseeded run SIGKILLed once the private model's first checkpoint is in place resumes with its plan: the data,
    /// canaries and finished non-private model of its first attempt (loaded, not trained again), the same σ and steps, and
    /// fresh noise; its ledger holds every private step once and ε stays within the target.
    /// </summary>
    [ExperimentDataFact]
    public void AnUnseededRunKilledInThePrivatePhaseResumesWithItsPlanAndFreshNoise()
    {
        var runDir = Path.Combine(_dir, "unseeded");
        var killed = CliProcess.KillOnceWritten(TwoEpochRun(runDir, seed: null), Path.Combine(runDir, TrainResume.CheckpointFile), _dir);
        var sigma = System.Text.RegularExpressions.Regex.Match(killed, @"\[private\] DP-SGD: σ = (\S+) ").Groups[1].Value;
        Assert.NotEmpty(sigma);
        var nonPrivate = File.ReadAllBytes(Path.Combine(runDir, SecretSharerRunner.NonPrivateModelFile));

        var resumed = CliProcess.Run(["experiment", "secret-sharer", "--resume", runDir, "--json"], _dir);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("[non-private] --resume: continuing after epoch 2 of 2", resumed.Stderr, StringComparison.Ordinal);
        Assert.Contains("the noise from here on is fresh (secure)", resumed.Stderr, StringComparison.Ordinal);
        Assert.Contains($"[private] DP-SGD: σ = {sigma} ", resumed.Stderr, StringComparison.Ordinal);
        Assert.Equal(nonPrivate, File.ReadAllBytes(Path.Combine(runDir, SecretSharerRunner.NonPrivateModelFile)));
        var json = LastLineJson(resumed.Stdout);
        Assert.Equal(3, json["steps"]!.GetValue<long>());
        var ledger = EngineLedger(Path.Combine(runDir, SecretSharerRunner.PrivateCheckpointFile));
        Assert.Equal(3, ledger.TotalCount);
        Assert.Equal(ledger.GetEpsilon(1e-5), json["epsilon"]!.GetValue<double>(), 6);
        Assert.True(json["epsilon"]!.GetValue<double>() <= 4 * (1 + 1e-9));
    }

    [Fact]
    public void SecretSharerResumeTakesNoOtherOptionAndRefusesAnotherCommandsFolder()
    {
        var (code, _, stderr) = CliRunner.Run("experiment", "secret-sharer", "--resume", _dir, "--seed", "1");
        Assert.Equal(2, code);
        Assert.Contains("--seed cannot be given with it (only --json)", stderr, StringComparison.Ordinal);

        var text = Path.Combine(_dir, "text-run");
        TrainResume.Save(TrainResume.TextCommand, new { Seed = 1 }, text, []);
        (code, _, stderr) = CliRunner.Run("experiment", "secret-sharer", "--resume", text);
        Assert.Equal(2, code);
        Assert.Contains($"resume it with diffpriv train text --resume {text}", stderr, StringComparison.Ordinal);

        (code, _, stderr) = CliRunner.Run("experiment", "secret-sharer", "--checkpoint-every", "0", "--out", Path.Combine(_dir, "never"));
        Assert.Equal(2, code);
        Assert.Contains("--checkpoint-every must be ≥ 1", stderr, StringComparison.Ordinal);
    }
}
