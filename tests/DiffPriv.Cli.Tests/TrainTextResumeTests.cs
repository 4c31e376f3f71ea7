using System.Text.Json.Nodes;
using DiffPriv.Experiments.Pretraining;
using DiffPriv.Experiments.TextClassification;
using DiffPriv.Experiments.Training;

namespace DiffPriv.Cli.Tests;

// Resume after a kill (issue 21, point 5) for train text. The command line has no option for the pretrained model, so
// these runs are started with --resume on a run folder whose settings.json names a tiny one (a run stopped before its
// first checkpoint starts from the beginning with its settings): the CLI path is the real one. The tiny model is cached in
// the data cache like any pretrained model (keyed by its settings), so it is trained once per machine.
public sealed partial class TrainTextCommandTests
{
    private TextTrainSettings TinyRun(string name, long? seed, double epochs)
    {
        var lines = new List<string> { "review,label" };
        var random = new Random(6);
        string[] fillers = ["the", "film", "was", "and", "it", "of", "a", "story", "in", "to", "that", "with"];
        for (var i = 0; i < 200; i++)
        {
            var positive = random.Next(2) == 1;
            var words = Enumerable.Range(0, 8).Select(_ => fillers[random.Next(fillers.Length)]).ToList();
            words.Insert(random.Next(words.Count), positive ? "good" : "bad");
            lines.Add($"{string.Join(' ', words)},{(positive ? "pos" : "neg")}");
        }

        var data = Csv("reviews.csv", string.Join('\n', lines) + "\n");
        return new TextTrainSettings
        {
            DataFile = data,
            TextColumn = "review",
            TargetColumn = "label",
            Delta = 1e-3,
            MaxTokens = 16,
            Hyperparameters = new() { Epochs = epochs, BatchSize = 40, LearningRate = 1e-2, LoraRank = 2, PhysicalBatchSize = 40 },
            Pretraining = new PublicPretrainingSettings
            {
                VocabularySize = 600,
                ModelDimension = 16,
                Heads = 2,
                Layers = 1,
                Feedforward = 32,
                SequenceLength = 16,
                BatchSize = 16,
                Steps = 30,
                LearningRate = 1e-2,
                Seed = 3,
                Corpora = [PublicCorpus.Brown],
                MaxBytesPerCorpus = 200_000,
                ValidationFraction = 0.1,
                ValidationWindows = 8,
            },
            Seed = seed,
            OutDir = Path.Combine(_dir, name),
        };
    }

    /// <summary>A run folder as <c>train text</c> makes it, before its first checkpoint.</summary>
    private static string Folder(TextTrainSettings settings)
    {
        TrainResume.Save(TrainResume.TextCommand, settings, settings.OutDir!, [settings.DataFile]);
        return settings.OutDir!;
    }

    /// <summary>
    /// The real CLI in its own process, SIGKILLed once its first checkpoint is in place, then resumed with --resume alone,
    /// ends with the uninterrupted seeded run's model.bin (LoRA merged) and final checkpoint (model, optimizer state,
    /// ledger, generator), byte for byte, and the same JSON.
    /// </summary>
    [BrownFact]
    public void ASeededRunKilledAfterACheckpointResumesIntoTheUninterruptedRun()
    {
        var straightDir = Folder(TinyRun("straight", seed: 7, epochs: 4));
        var straight = CliProcess.Run(["train", "text", "--resume", straightDir, "--json"], _dir);
        Assert.True(straight.ExitCode == 0, straight.Stderr);
        Assert.Contains("--resume: the run stopped before its first checkpoint; it starts again from the beginning with its settings", straight.Stderr, StringComparison.Ordinal);

        var killedDir = Folder(TinyRun("killed", seed: 7, epochs: 4));
        var output = CliProcess.KillOnceWritten(["train", "text", "--resume", killedDir], Path.Combine(killedDir, TrainResume.CheckpointFile), _dir);
        Assert.False(File.Exists(Path.Combine(killedDir, "report.md")), "the kill came after the run had finished: nothing was tested");
        Assert.Contains($"run folder {killedDir}", output, StringComparison.Ordinal);

        var resumed = CliProcess.Run(["train", "text", "--resume", killedDir, "--json"], _dir);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Matches(@"--resume: continuing after epoch \d of 4 \(step \d+\)", resumed.Stderr);

        ResumeChecks.AssertSameRun(straightDir, straight.Stdout, killedDir, resumed.Stdout, "model.bin");
        Assert.Equal(ResumeChecks.EngineState(straightDir), ResumeChecks.EngineState(killedDir));

        var again = CliRunner.Run("train", "text", "--resume", killedDir);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("has already finished", again.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A checkpoint write that fails as a full disk stops the run with a message naming the file and keeps the last good
    /// checkpoint; the unseeded run then resumes from it with the same plan (steps, σ) and fresh noise, its ledger holding
    /// every step once: ε as planned, within the target.
    /// </summary>
    [BrownFact]
    public void AFailedCheckpointWriteKeepsTheLastGoodOneAndAnUnseededRunResumesWithItsPlan()
    {
        var settings = TinyRun("full-disk", seed: null, epochs: 2);
        var runDir = settings.OutDir!;
        var failing = new FailingCheckpoints(runDir);
        var (train, test, labels, declared) = TextTrainRunner.ReadData(settings);
        failing.AssertStoppedKeepingTheLastGood(Assert.Throws<IOException>(() => TextTrainRunner.Run(
            settings, train, test, labels, declared, () => PublicTextPretraining.LoadOrTrain(settings.Pretraining), null, resume: false, openCheckpoint: failing.Open)));

        var (code, stdout, stderr) = CliRunner.Run("train", "text", "--resume", runDir, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("continuing after epoch 1 of 2 (step 4)", stderr, StringComparison.Ordinal);
        Assert.Contains("the noise from here on is fresh (secure)", stderr, StringComparison.Ordinal);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.Equal(8, json["steps"]!.GetValue<long>()); // ⌈2 · 160 / 40⌉
        var planned = DiffPriv.Accounting.Calibration.DpSgdCalibration.NoiseMultiplier(40.0 / 160, 8, 3.0, 1e-3, DiffPriv.Accounting.AccountantKind.Pld);
        Assert.Equal(planned.NoiseMultiplier, json["noise_multiplier"]!.GetValue<double>());
        var ledger = ResumeChecks.Ledger(runDir);
        Assert.Equal(8, ledger.TotalCount);
        Assert.Equal(ledger.GetEpsilon(1e-3), json["epsilon"]!.GetValue<double>(), 9);
        Assert.True(File.Exists(Path.Combine(runDir, "report.md")));
    }

    [Fact]
    public void ResumeTakesNoOtherOptionAndNeedsTheRequiredOptionsOtherwise()
    {
        var (code, _, stderr) = CliRunner.Run("train", "text", "--resume", _dir, "--labels", "a,b");
        Assert.Equal(2, code);
        Assert.Contains("--labels cannot be given with it (only --json)", stderr, StringComparison.Ordinal);
        var file = Csv("h.csv", "text,label\ngood,pos\nbad,neg\n");
        Assert.Contains("--text-column is required", Fails("--data", file, "--target", "label"), StringComparison.Ordinal);
        Assert.Contains("--checkpoint-every must be ≥ 1", Fails("--data", file, "--text-column", "text", "--target", "label", "--checkpoint-every", "0"), StringComparison.Ordinal);
    }
}
