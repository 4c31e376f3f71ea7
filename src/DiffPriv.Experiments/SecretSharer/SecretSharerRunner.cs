using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DiffPriv.Accounting;
using DiffPriv.Auditing.SecretSharer;
using DiffPriv.Datasets.Text;
using DiffPriv.Experiments.Models;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using DiffPriv.IO;
using DiffPriv.Models;
using DiffPriv.Validation;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.SecretSharer;

/// <summary>
/// Runs the Secret Sharer experiment: a character-level LSTM language model trained on Reuters newswire with canaries
/// inserted, once normally and once with DP-SGD, then compared on perplexity, accepted sentences and canary exposure.
/// </summary>
public sealed class SecretSharerRunner(SecretSharerSettings settings, IProgress<ProgressUpdate>? progress = null)
{
    private const int ScoreBatch = 512;
    private readonly CharVocabulary _vocabulary = CharVocabulary.Default;

    /// <summary>The file the pretrained weights are saved to in the run folder (with their provenance sidecar).</summary>
    public const string PretrainedModelFile = "pretrained-model.bin";

    /// <summary>The file the non-private model is saved to in the run folder (with a sidecar naming the private data it saw).</summary>
    public const string NonPrivateModelFile = "non-private-model.bin";

    /// <summary>The private model's checkpoint in the run folder (with a sidecar naming the private data it saw).</summary>
    public const string PrivateCheckpointFile = "private-checkpoint.bin";

    /// <summary>The command of these runs, as their settings file names it.</summary>
    internal const string Command = "experiment secret-sharer";

    /// <summary>
    /// The non-private model's checkpoint while it trains (model, Adam state, torch's global generator, counters, the
    /// epochs' metrics), rewritten atomically after every <see cref="SecretSharerSettings.CheckpointEvery"/>-th epoch and
    /// the last: a resumed run continues from it, or, when it holds the last epoch, only scores the model again.
    /// </summary>
    internal const string NonPrivateResumeFile = "non-private-resume.bin";

    /// <summary>
    /// Written when public pretraining ends, before <see cref="PretrainedModelFile"/>: its wall time and the state of
    /// torch's global generator after it, so that a resumed run that loads the pretrained weights instead of training
    /// them again draws the non-private model's shuffles as the uninterrupted run did.
    /// </summary>
    internal const string PretrainingStateFile = "pretraining-state.bin";

    private const string NonPrivateMagic = "DiffPriv.SecretSharer.NonPrivateCheckpoint.v1";

    /// <summary>
    /// Checks the weights of <see cref="SecretSharerSettings.PretrainedModel"/> before anything is trained: the file and its
    /// provenance sidecar exist and agree, the weights saw public data only, and they fit the run's architecture.
    /// </summary>
    /// <param name="settings">The run's settings.</param>
    /// <returns>The weights' provenance, or null when the run pretrains for itself.</returns>
    /// <exception cref="ModelProvenanceException">The weights cannot start this run; the message says why.</exception>
    public static ModelProvenance? CheckPretrained(SecretSharerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.PretrainedModel is { } file ? ModelProvenance.ReadPublic(file, settings.Architecture) : null;
    }

    /// <summary>Runs the experiment and writes its run folder (report, JSON, models).</summary>
    /// <returns>Everything the run measured.</returns>
    /// <exception cref="ModelProvenanceException">The <see cref="SecretSharerSettings.PretrainedModel"/> cannot start this run.</exception>
    public SecretSharerExperimentResult Run() => Run(resumeSeed: null);

    /// <summary>
    /// Resumes the run in <paramref name="runDir"/> after a kill (<c>diffpriv experiment secret-sharer --resume RUN_DIR</c>):
    /// the settings and the seed of the data subsets, canaries and initial weights come from the folder's
    /// <see cref="TrainResume.SettingsFile"/>, so the same canaries go into the same places. Public pretraining that
    /// finished is loaded (its weights are checked against their provenance sidecar), a finished non-private model is
    /// loaded and scored again, and an unfinished one continues from its last checkpoint; the private model continues
    /// from its last checkpoint (model, optimizer state, ledger, counters, seeded generator), so no private step is taken
    /// or charged twice. A seeded run ends as the uninterrupted one would; an unseeded one keeps its plan (steps, σ,
    /// canaries) and draws fresh noise for the remaining private steps.
    /// </summary>
    /// <param name="runDir">The folder the run printed when it started.</param>
    /// <param name="progress">Messages and step updates; may be null.</param>
    /// <returns>Everything the run measured, over all the attempts.</returns>
    /// <exception cref="ArgumentException">The folder is not a resumable secret-sharer run (none, finished, another command's,
    /// or its <see cref="SecretSharerSettings.PretrainedModel"/> changed since it started); the message says which.</exception>
    /// <exception cref="ModelProvenanceException">The <see cref="SecretSharerSettings.PretrainedModel"/> cannot start this run.</exception>
    /// <exception cref="InvalidDataException">A checkpoint of the folder is damaged.</exception>
    public static SecretSharerExperimentResult Resume(string runDir, IProgress<ProgressUpdate>? progress = null)
    {
        var (saved, dir) = TrainResume.Load<SavedRun>(runDir, command => command == Command);
        return new SecretSharerRunner(saved.Settings with { OutDir = dir }, progress).Run(saved.Seed);
    }

    /// <summary>What <see cref="TrainResume.SettingsFile"/> holds for a secret-sharer run.</summary>
    /// <param name="Settings">The run's settings (<see cref="SecretSharerSettings.Seed"/> null unless the noise is seeded).</param>
    /// <param name="Seed">The seed of the subsets, canaries and initial weights (<see cref="SecretSharerSettings.Seed"/>, or
    /// drawn at random): it decides the canaries, so the file is as secret as the run's results.json.</param>
    internal sealed record SavedRun(SecretSharerSettings Settings, long Seed);

    private SecretSharerExperimentResult Run(long? resumeSeed)
    {
        var resume = resumeSeed is not null;
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.CheckpointEvery, 1, nameof(settings));
        var clock = Stopwatch.StartNew();
        // Weights to start from are checked first, so that a file that cannot be used fails before anything else.
        var loadedProvenance = CheckPretrained(settings);
        TorchRuntime.EnsureLoaded();
        var seed = resumeSeed ?? settings.Seed ?? BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
        var dataSeed = (int)(seed & 0x7fffffff);
        torch.manual_seed(seed);

        var corpus = ReutersCorpus.Load(maxSequenceLength: settings.SequenceLength, log: m => progress?.Report(ProgressUpdate.Detail(m)));
        // Public text for pretraining, loaded before any training so that a missing corpus fails at once.
        IReadOnlyList<string> publicSequences = [];
        var publicCorpus = "";
        if (loadedProvenance is null && settings.PretrainingEpochs > 0)
        {
            var brown = BrownCorpus.LoadAllGenres(maxSequenceLength: settings.SequenceLength, log: m => progress?.Report(ProgressUpdate.Detail(m)));
            publicCorpus = brown.Name;
            publicSequences = Subset([.. brown.Train.Sequences, .. brown.Test.Sequences], settings.PretrainingSequences, dataSeed + 4);
        }

        var train = Subset(corpus.Train.Sequences, settings.TrainSequences, dataSeed);
        var test = Subset(corpus.Test.Sequences, settings.TestSequences, dataSeed + 1);
        var plan = CanaryPlan.Create(
            new CanaryPlanOptions
            {
                Format = settings.CanaryFormat,
                Repetitions = settings.Repetitions,
                CanariesPerRepetition = settings.CanariesPerRepetition,
                References = settings.References,
            },
            dataSeed + 2);
        var withCanaries = plan.InsertInto(train, dataSeed + 3).Sequences;

        var runDir = RunDirectory();
        Directory.CreateDirectory(runDir);
        if (!resume)
        {
            // Full paths, so that the run resumes from any folder; the SHA-256 of --pretrained, so that it resumes from the
            // same weights (the corpora are pinned by their SHA-256 on every load).
            var pretrainedPath = settings.PretrainedModel is { } p ? Path.GetFullPath(p) : null;
            TrainResume.StartNew(
                Command,
                new SavedRun(settings with { OutDir = runDir, PretrainedModel = pretrainedPath }, seed),
                runDir,
                [pretrainedPath],
                settings.CommandLine,
                NonPrivateResumeFile,
                PretrainingStateFile);
        }

        var checkpoints = new RunCheckpoints(runDir, settings.CheckpointEvery, resume, open: null);
        Say(
            $"diffpriv experiment secret-sharer{(settings.IsQuick ? " --quick" : "")}: {corpus.Name}, {train.Count} training sequences + " +
            $"{plan.TotalInsertions} canary insertions ({plan.Canaries.Count} canaries × r ∈ {{{string.Join(", ", settings.Repetitions)}}}), " +
            $"{test.Count} test sequences, {plan.References.Count} reference candidates; run folder {runDir}");
        if (settings.Seed is not null)
        {
            Say($"note: --seed {settings.Seed} seeds the noise too: reproducible, for experiments only (not secret).");
        }

        if (resume)
        {
            Say($"--resume: the settings, data subsets and canaries are the run's (from {Path.Combine(runDir, TrainResume.SettingsFile)}); finished phases are loaded, not trained again");
        }

        Say(checkpoints.CheckpointLine(Command) + (settings.PrivateOnly ? "" : $"; the non-private model's: {Path.Combine(runDir, NonPrivateResumeFile)}"));

        var length = settings.SequenceLength + 1; // start token + up to T characters + end token → T + 1 positions
        var trainEncoded = withCanaries.Select(Encode).ToList();
        var (inputs, targets) = CharLmData.ToTensors(trainEncoded, length, CharVocabulary.PadId);
        var testEncoded = test.Select(Encode).ToList();
        var originalEncoded = train.Select(Encode).ToList();
        var canaryEncoded = plan.Canaries.Select(c => Encode(c.Secret)).ToList();
        var referenceEncoded = plan.References.Select(Encode).ToList();

        // testScores: the last epoch's evaluation of the final model, reused rather than scored again.
        LanguageModelScores Score(string name, nn.Module<Tensor, Tensor> model, double seconds, List<(int, double, double)> history, double[] testScores)
        {
            return new LanguageModelScores(
                name,
                testScores,
                SequenceScorer.LogPerplexities(model, originalEncoded, CharVocabulary.PadId, ScoreBatch),
                SequenceScorer.LogPerplexities(model, canaryEncoded, CharVocabulary.PadId, ScoreBatch),
                SequenceScorer.LogPerplexities(model, referenceEncoded, CharVocabulary.PadId, ScoreBatch),
                PooledNatsPerChar(testScores, testEncoded),
                seconds,
                history);
        }

        // 0. Public pretraining (not private, and not needing to be: the Brown corpus is published text without canaries).
        //    Both models start from its weights, so the comparison is still one architecture and one starting point.
        //    The weights are saved with a provenance sidecar naming only public data, so a later run can start from them
        //    (--pretrained); or they are loaded from such a file, checked above.
        PretrainingSummary? pretraining = null;
        nn.Module<Tensor, Tensor>? pretrained = null;
        if (loadedProvenance is not null)
        {
            var file = Path.GetFullPath(settings.PretrainedModel!);
            pretrained = ModelZoo.CharLstmFused(_vocabulary.Size, settings.EmbeddingSize, settings.HiddenSize);
            // From the bytes whose hash is checked, not from the file again.
            using (var reader = new BinaryReader(new MemoryStream(loadedProvenance.ReadWeights(file))))
            {
                pretrained.load(reader);
            }

            var corpora = string.Join("; ", loadedProvenance.Corpora.Select(c => c.Name));
            Say($"[pretraining] not trained here: weights loaded from {file} (sha256 {loadedProvenance.Sha256[..12]}…, trained on public text only: {corpora})");
            var ptTest = TestScores(pretrained, testEncoded);
            pretraining = new PretrainingSummary(
                corpora,
                loadedProvenance.Corpora.Sum(c => c.Sequences),
                loadedProvenance.Corpora.Max(c => c.Epochs),
                0,
                PooledNatsPerChar(ptTest, testEncoded))
            {
                WeightsFile = file,
                Loaded = true,
                Provenance = loadedProvenance,
            };
        }
        else if (settings.PretrainingEpochs > 0 && resume && LoadPretraining(runDir) is { } done)
        {
            // Trained by an earlier attempt of this run on public data only: loading it instead of training again costs no privacy.
            pretrained = done.Model;
            var file = Path.Combine(runDir, PretrainedModelFile);
            Say($"[pretraining] trained by an earlier attempt of this run: loaded from {file} (sha256 {done.Provenance.Sha256[..12]}…)");
            pretraining = new PretrainingSummary(publicCorpus, publicSequences.Count, settings.PretrainingEpochs, done.Seconds, PooledNatsPerChar(TestScores(pretrained, testEncoded), testEncoded))
            {
                WeightsFile = file,
                Provenance = done.Provenance,
            };
        }
        else if (settings.PretrainingEpochs > 0)
        {
            Say($"[pretraining] public text: {publicCorpus}, {publicSequences.Count} sequences (not private; no canaries)");
            pretrained = ModelZoo.CharLstmFused(_vocabulary.Size, settings.EmbeddingSize, settings.HiddenSize);
            var (publicInputs, publicTargets) = CharLmData.ToTensors(publicSequences.Select(Encode).ToList(), length, CharVocabulary.PadId);
            var (ptSeconds, _, ptTest) = TrainNonPrivate("pretraining", pretrained, publicInputs, publicTargets, testEncoded, settings.PretrainingEpochs, LrSchedule.Constant, checkpoint: null);
            publicInputs.Dispose();
            publicTargets.Dispose();
            var file = Path.Combine(runDir, PretrainedModelFile);
            // Before the weights, so that weights a resumed run finds complete (with their sidecar) always have it.
            SavePretrainingState(runDir, ptSeconds);
            pretrained.save(file);
            var provenance = new ModelProvenance
            {
                Architecture = settings.Architecture,
                Corpora = [new TrainingCorpus(publicCorpus, IsPublic: true, publicSequences.Count, settings.PretrainingEpochs)],
                Seed = settings.Seed,
            }.Write(file);
            pretraining = new PretrainingSummary(publicCorpus, publicSequences.Count, settings.PretrainingEpochs, ptSeconds, PooledNatsPerChar(ptTest, testEncoded))
            {
                WeightsFile = file,
                Provenance = provenance,
            };
        }

        // What the models' weights saw before the Reuters data, and the Reuters data itself (private: it holds the canaries).
        IReadOnlyList<TrainingCorpus> startCorpora = pretraining?.Provenance?.Corpora ?? [];
        var trainingCorpus = $"{corpus.Name}, training split with canaries";

        // 1. The non-private model (fused nn.LSTM: same architecture, faster; shuffled mini-batches, mean loss).
        LanguageModelScores? nonPrivate = null;
        if (settings.PrivateOnly)
        {
            Say("[non-private] not trained (--private-only): no baseline, so no perplexity ratio and no comparison");
        }
        else
        {
            var nonPrivateModel = ModelZoo.CharLstmFused(_vocabulary.Size, settings.EmbeddingSize, settings.HiddenSize);
            if (pretrained is not null)
            {
                nonPrivateModel.load_state_dict(pretrained.state_dict());
            }

            var (npSeconds, npHistory, npTest) = TrainNonPrivate(
                "non-private", nonPrivateModel, inputs, targets, testEncoded, settings.NonPrivateEpochs, settings.NonPrivateSchedule, Path.Combine(runDir, NonPrivateResumeFile), resume);
            nonPrivate = Score("non-private", nonPrivateModel, npSeconds, npHistory, npTest);
            var file = Path.Combine(runDir, NonPrivateModelFile);
            nonPrivateModel.save(file);
            new ModelProvenance
            {
                Architecture = settings.Architecture,
                Corpora = [.. startCorpora, new TrainingCorpus(trainingCorpus, IsPublic: false, withCanaries.Count, settings.NonPrivateEpochs)],
                Seed = settings.Seed,
            }.Write(file);
            nonPrivateModel.Dispose();
        }

        // 2. The private model (DpLstm: the same equations with exact per-example gradients; DP-SGD with Poisson sampling).
        torch.manual_seed(seed + 1);
        nn.Module<Tensor, Tensor> privateModel;
        if (pretrained is null)
        {
            privateModel = ModelZoo.CharLstm(_vocabulary.Size, settings.EmbeddingSize, settings.HiddenSize);
        }
        else
        {
            // The pretrained weights in the fused layout, then the fused LSTM swapped for DpLstm with the same weights.
            privateModel = ModelZoo.CharLstmFused(_vocabulary.Size, settings.EmbeddingSize, settings.HiddenSize);
            privateModel.load_state_dict(pretrained.state_dict());
            ModuleValidator.Fix(privateModel);
            pretrained.Dispose();
        }

        var (pSeconds, pHistory, pTest, accounting) = TrainPrivate(privateModel, inputs, targets, testEncoded, runDir, pretraining, checkpoints, seed);
        // The checkpoint holds the private model's weights: private data, however well protected, so never a public start.
        new ModelProvenance
        {
            Architecture = settings.Architecture,
            Corpora = [.. startCorpora, new TrainingCorpus(trainingCorpus, IsPublic: false, withCanaries.Count, settings.PrivateEpochs, accounting.Epsilon, settings.Delta)],
            Seed = settings.Seed,
        }.Write(Path.Combine(runDir, PrivateCheckpointFile));
        var privateScores = Score("private", privateModel, pSeconds, pHistory, pTest);
        privateModel.Dispose();
        inputs.Dispose();
        targets.Dispose();

        var outcome = new SecretSharerExperimentResult(
            settings,
            corpus,
            train.Count,
            test.Count,
            plan,
            pretraining,
            nonPrivate,
            privateScores,
            accounting,
            nonPrivate is null ? null : SecretSharerResult.Compute(plan, nonPrivate.CanaryScores, nonPrivate.ReferenceScores),
            SecretSharerResult.Compute(plan, privateScores.CanaryScores, privateScores.ReferenceScores),
            nonPrivate is null ? null : Acceptance(nonPrivate, privateScores),
            nonPrivate is null ? null : Disagreements(train, nonPrivate.TrainScores, privateScores.TrainScores, 10),
            clock.Elapsed.TotalSeconds,
            runDir);
        SecretSharerReport.Write(outcome);
        return outcome;
    }

    private void Say(string line) => progress?.Report(ProgressUpdate.Message(line));

    /// <summary>Writes <see cref="PretrainingStateFile"/> (atomically): the pretraining's wall time and torch's global generator.</summary>
    private static void SavePretrainingState(string runDir, double seconds) =>
        AtomicFile.Write(Path.Combine(runDir, PretrainingStateFile), stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(seconds);
            WriteGenerator(writer);
        });

    /// <summary>
    /// The public pretraining an earlier attempt of this run finished, or null when there is none to load: its weights
    /// (checked against their provenance sidecar: complete, public data only, this architecture), its wall time, and
    /// torch's global generator as it was after it (restored here).
    /// </summary>
    private (nn.Module<Tensor, Tensor> Model, double Seconds, ModelProvenance Provenance)? LoadPretraining(string runDir)
    {
        var file = Path.Combine(runDir, PretrainedModelFile);
        var state = Path.Combine(runDir, PretrainingStateFile);
        if (!File.Exists(state) || !File.Exists(file + ModelProvenance.SidecarSuffix))
        {
            return null;
        }

        ModelProvenance provenance;
        try
        {
            provenance = ModelProvenance.ReadPublic(file, settings.Architecture);
        }
        catch (ModelProvenanceException e)
        {
            Say($"[pretraining] the weights of an earlier attempt cannot be used ({e.Message}); pretraining again");
            return null;
        }

        var model = ModelZoo.CharLstmFused(_vocabulary.Size, settings.EmbeddingSize, settings.HiddenSize);
        using (var reader = new BinaryReader(new MemoryStream(provenance.ReadWeights(file))))
        {
            model.load(reader);
        }

        using var stateReader = new BinaryReader(File.OpenRead(state));
        var seconds = stateReader.ReadDouble();
        ReadGenerator(stateReader);
        return (model, seconds, provenance);
    }

    private static void WriteGenerator(BinaryWriter writer)
    {
        using var rng = torch.random.get_rng_state();
        var bytes = rng.data<byte>().ToArray();
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private static void ReadGenerator(BinaryReader reader)
    {
        var bytes = reader.ReadBytes(reader.ReadInt32());
        using var rng = torch.tensor(bytes, dtype: ScalarType.Byte);
        torch.random.set_rng_state(rng);
    }

    private long[] Encode(string text) => _vocabulary.Encode(text, appendEnd: true);

    /// <summary>A seeded random subset (which sequences are used is a public choice, independent of their content).</summary>
    private static IReadOnlyList<string> Subset(IReadOnlyList<string> all, int? count, int seed)
    {
        if (count is not { } k || k >= all.Count)
        {
            return all;
        }

        var order = Enumerable.Range(0, all.Count).ToArray();
#pragma warning disable CA5394 // Not a secret: which public subset to train on.
        new Random(seed).Shuffle(order);
#pragma warning restore CA5394
        return order.Take(k).Order().Select(i => all[i]).ToList();
    }

    /// <summary>
    /// Pools per-sequence log-perplexities into nats per predicted token over the whole set: each sequence weighs by its
    /// predicted tokens (its characters and the end-of-sequence token), so this is the mean log-loss of all of them.
    /// </summary>
    internal static double PooledNatsPerChar(double[] scores, IReadOnlyList<long[]> sequences)
    {
        double nats = 0, chars = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            var predicted = sequences[i].Length - 1;
            nats += scores[i] * predicted;
            chars += predicted;
        }

        return nats / chars;
    }

    private static double[] TestScores(nn.Module<Tensor, Tensor> model, IReadOnlyList<long[]> testEncoded) =>
        SequenceScorer.LogPerplexities(model, testEncoded, CharVocabulary.PadId, ScoreBatch);

    // Ordinary training (shuffled mini-batches, mean loss): the non-private model, and public pretraining ("pretraining",
    // at a constant rate: a pretrained model decayed to convergence was a worse start for private fine-tuning).
    // With a checkpoint file: written (atomically) after every CheckpointEvery-th epoch and the last, and continued from
    // when resuming (model, Adam state, torch's global generator that draws the shuffles, step, the epochs' metrics).
    private (double Seconds, List<(int, double, double)> History, double[] TestScores) TrainNonPrivate(
        string name, nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets, IReadOnlyList<long[]> testEncoded, int epochs, LrSchedule schedule,
        string? checkpoint, bool resume = false)
    {
        var clock = Stopwatch.StartNew();
        var n = inputs.shape[0];
        var b = settings.NonPrivateBatchSize;
        var perEpoch = (n + b - 1) / b;
        var total = perEpoch * epochs;
        using var optimizer = optim.Adam(model.parameters(), settings.NonPrivateLearningRate);
        var state = (TorchSharp.Modules.OptimizerHelper)optimizer;
        Say($"[{name}] NOT PRIVATE: Adam lr {Fmt(settings.NonPrivateLearningRate)} ({LrSchedules.Describe(schedule)}), shuffled batches of {b}, {epochs} epochs = {total} steps");
        var progress = new StepReporter(Say, name, total);
        var history = new List<(int, double, double)>();
        double[] testScores = [];
        long step = 0;
        var first = 1;
        double secondsBefore = 0;
        if (resume && checkpoint is not null && File.Exists(checkpoint))
        {
            (first, step, secondsBefore) = ReadNonPrivateCheckpoint(checkpoint, model, state, history);
            Say($"[{name}] --resume: continuing after epoch {first - 1} of {epochs} (step {step}) from {checkpoint}");
            if (first > epochs)
            {
                // Finished by an earlier attempt: the final model's test scores, as its last epoch computed them.
                testScores = TestScores(model, testEncoded);
            }
        }

        for (var epoch = first; epoch <= epochs; epoch++)
        {
            model.train();
            double lossSum = 0;
            long batches = 0;
            using var order = torch.randperm(n);
            for (long start = 0; start < n; start += b)
            {
                using var scope = torch.NewDisposeScope();
                var idx = order.narrow(0, start, Math.Min(b, n - start));
                var x = inputs.index_select(0, idx);
                var y = targets.index_select(0, idx);
                LrSchedules.Set(optimizer, LrSchedules.At(schedule, settings.NonPrivateLearningRate, step, total));
                optimizer.zero_grad();
                var loss = CharLmData.PerExampleLoss(model.call(x), y, CharVocabulary.PadId).mean();
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                batches++;
                step++;
                progress.Step(epoch, step, lossSum / batches);
            }

            testScores = TestScores(model, testEncoded);
            var testNats = PooledNatsPerChar(testScores, testEncoded);
            history.Add((epoch, lossSum / batches, testNats));
            Say($"[{name}] epoch {epoch}/{epochs}: train loss {Fmt4(lossSum / batches)}, test {Fmt4(testNats / Math.Log(2))} bits/char (perplexity {Fmt4(Math.Exp(testNats))}), {clock.Elapsed.TotalSeconds:F0} s");
            if (checkpoint is not null && (epoch % settings.CheckpointEvery == 0 || epoch == epochs))
            {
                WriteNonPrivateCheckpoint(checkpoint, epoch, step, secondsBefore + clock.Elapsed.TotalSeconds, history, model, state);
            }
        }

        return (secondsBefore + clock.Elapsed.TotalSeconds, history, testScores);
    }

    private static void WriteNonPrivateCheckpoint(
        string path, int epoch, long step, double seconds, List<(int Epoch, double Loss, double TestNats)> history, nn.Module<Tensor, Tensor> model, TorchSharp.Modules.OptimizerHelper optimizer) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(NonPrivateMagic);
            writer.Write(epoch);
            writer.Write(step);
            writer.Write(seconds);
            writer.Write(history.Count);
            foreach (var (e, loss, nats) in history)
            {
                writer.Write(e);
                writer.Write(loss);
                writer.Write(nats);
            }

            model.save(writer);
            optimizer.save_state_dict(writer);
            WriteGenerator(writer);
        });

    /// <summary>Restores a checkpoint of <see cref="WriteNonPrivateCheckpoint"/>; returns the next epoch, the step and the seconds so far.</summary>
    private static (int Next, long Step, double Seconds) ReadNonPrivateCheckpoint(
        string path, nn.Module<Tensor, Tensor> model, TorchSharp.Modules.OptimizerHelper optimizer, List<(int, double, double)> history)
    {
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        try
        {
            if (reader.ReadString() != NonPrivateMagic)
            {
                throw new InvalidDataException($"{path} is not a checkpoint of the secret-sharer's non-private model ({NonPrivateMagic}).");
            }

            var (epoch, step, seconds, count) = (reader.ReadInt32(), reader.ReadInt64(), reader.ReadDouble(), reader.ReadInt32());
            for (var i = 0; i < count; i++)
            {
                history.Add((reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble()));
            }

            model.load(reader);
            optimizer.load_state_dict(reader);
            ReadGenerator(reader);
            return (epoch + 1, step, seconds);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"The checkpoint {path} is truncated or damaged.", e);
        }
    }

    private (double Seconds, List<(int, double, double)> History, double[] TestScores, PrivateRunAccounting Accounting) TrainPrivate(
        nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets, IReadOnlyList<long[]> testEncoded, string runDir, PretrainingSummary? pretraining,
        RunCheckpoints checkpoints, long seed)
    {
        var clock = Stopwatch.StartNew();
        var n = inputs.shape[0];
        using var optimizer = optim.Adam(model.parameters(), settings.PrivateLearningRate);
        var engine = new PrivacyEngine(AccountantKind.Pld);
        var options = new DpSgdOptions
        {
            MaxGradNorm = settings.MaxGradNorm,
            ExpectedBatchSize = settings.PrivateBatchSize,
            MaxPhysicalBatchSize = settings.MaxPhysicalBatchSize,
            Seed = settings.Seed,
        };
        using var training = engine.MakePrivateWithEpsilon(model, optimizer, inputs, targets, options, settings.TargetEpsilon, settings.Delta, settings.PrivateEpochs);
        var q = training.Loader.SamplingProbability;
        var sigma = training.Options.NoiseMultiplier;
        // The steps σ was calibrated for, as the loader's epochs run them.
        var schedule = training.Schedule ?? throw new InvalidOperationException("A calibrated training has a schedule.");
        var total = schedule.TotalSteps;
        var epochs = (int)schedule.Epochs;
        Say(
            $"[private] DP-SGD: σ = {sigma.ToString("G6", CultureInfo.InvariantCulture)} (calibrated for ε ≤ {Fmt(settings.TargetEpsilon)} at δ = {PrivacyStatement.Delta(settings.Delta)}), " +
            $"C = {Fmt(settings.MaxGradNorm)}, q = {q.ToString("G5", CultureInfo.InvariantCulture)} (expected batch {settings.PrivateBatchSize}), Adam lr {Fmt(settings.PrivateLearningRate)} ({LrSchedules.Describe(settings.PrivateSchedule)}), {RunAccounting.Describe(schedule)}");
        var progress = new StepReporter(Say, "private", total);
        double lossSum = 0;
        long batches = 0;
        Tensor LossFunction(Tensor x, Tensor y)
        {
            var losses = CharLmData.PerExampleLoss(model.call(x), y, CharVocabulary.PadId);
            using (torch.no_grad())
            {
                if (losses.shape[0] > 0)
                {
                    lossSum += losses.mean().item<float>();
                    batches++;
                }
            }

            return losses;
        }

        // Resuming: the same σ (the same plan), then the model, optimizer state, ledger, counters and seeded generator of the
        // last checkpoint, so that no private step is taken or charged twice; the finished epochs' metrics come from its header.
        checkpoints.Restore(s => engine.LoadCheckpoint(s, training), sigma);
        if (checkpoints.ResumeLine(epochs, settings.Seed is not null) is { } resumeLine)
        {
            Say("[private] " + resumeLine);
        }

        var (first, step) = checkpoints.Start;
        List<(int, double, double)> history = checkpoints.Resumed is { } resumed
            ? resumed.History.Zip(resumed.TestNatsPerChar ?? []).Select(p => (p.First.Epoch, p.First.TrainLoss, p.Second)).ToList()
            : [];
        double[] testScores = first > epochs ? TestScores(model, testEncoded) : [];
        for (var epoch = first; epoch <= epochs; epoch++)
        {
            model.train();
            lossSum = 0;
            batches = 0;
            foreach (var batch in training.Loader)
            {
                LrSchedules.Set(optimizer, LrSchedules.At(settings.PrivateSchedule, settings.PrivateLearningRate, step, total));
                using (torch.NewDisposeScope())
                {
                    training.Optimizer.Step(batch, LossFunction);
                }

                step++;
                progress.Step(epoch, step, batches > 0 ? lossSum / batches : double.NaN);
            }

            testScores = TestScores(model, testEncoded);
            var testNats = PooledNatsPerChar(testScores, testEncoded);
            history.Add((epoch, batches > 0 ? lossSum / batches : double.NaN, testNats));
            var eps = engine.GetEpsilonInterval(settings.Delta).Upper;
            Say($"[private] epoch {epoch}/{epochs}: train loss {Fmt4(batches > 0 ? lossSum / batches : double.NaN)}, test {Fmt4(testNats / Math.Log(2))} bits/char (perplexity {Fmt4(Math.Exp(testNats))}), ε {eps.ToString("F3", CultureInfo.InvariantCulture)}, {clock.Elapsed.TotalSeconds:F0} s");
            if (checkpoints.Due(epoch, epochs))
            {
                var seconds = checkpoints.SecondsBefore + clock.Elapsed.TotalSeconds;
                checkpoints.Write(
                    new TrainCheckpoint(epoch, step, seed, sigma, seconds, [.. history.Select(h => new EpochMetrics(h.Item1, 0, h.Item2, double.NaN, double.NaN, null, null, 0))])
                    {
                        TestNatsPerChar = [.. history.Select(h => h.Item3)],
                    },
                    s => engine.SaveCheckpoint(s, training));
            }
        }

        var (steps, final, rdp, estimates) = RunAccounting.Final(engine, training, step, settings.Delta);
        var inputsForStatement = new DpSgdRunShape(q, n, settings.PrivateBatchSize, steps, settings.Delta);
        using var statement = new StringWriter();
        PrivacyStatement.Write(statement, inputsForStatement, sigma, estimates);
        RunAccounting.WriteSteps(statement, schedule, calibrated: true);
        statement.WriteLine("  - The privacy unit is one training sequence (at most " + settings.SequenceLength.ToString(CultureInfo.InvariantCulture) + " characters); a canary inserted r times is r units.");
        if (pretraining is not null)
        {
            var from = pretraining.Loaded
                ? $"; loaded from {Path.GetFileName(pretraining.WeightsFile)}, sha256 {pretraining.Provenance?.Sha256[..12]}…, whose provenance names public data only"
                : "";
            statement.WriteLine($"  - The model started from weights pretrained on public text ({pretraining.Corpus}{from}); the guarantee covers the Reuters training sequences.");
        }

        if (settings.Seed is not null)
        {
            statement.WriteLine("  - This run used --seed: its noise is reproducible and therefore NOT secret (experiments only).");
        }

        engine.SaveCheckpoint(Path.Combine(runDir, PrivateCheckpointFile), training);
        return (checkpoints.SecondsBefore + clock.Elapsed.TotalSeconds, history, testScores, new PrivateRunAccounting(sigma, q, steps, final.Upper, final.Lower, rdp.Epsilon, statement.ToString()));
    }

    private AcceptanceSummary Acceptance(LanguageModelScores nonPrivate, LanguageModelScores privateScores)
    {
        var np = Quantile(nonPrivate.TestScores, settings.AcceptQuantile);
        var dp = Quantile(privateScores.TestScores, settings.AcceptQuantile);
        double both = 0, onlyNp = 0, onlyDp = 0, neither = 0;
        for (var i = 0; i < nonPrivate.TrainScores.Length; i++)
        {
            var a = nonPrivate.TrainScores[i] <= np;
            var c = privateScores.TrainScores[i] <= dp;
            if (a && c)
            {
                both++;
            }
            else if (a)
            {
                onlyNp++;
            }
            else if (c)
            {
                onlyDp++;
            }
            else
            {
                neither++;
            }
        }

        var n = (double)nonPrivate.TrainScores.Length;
        return new AcceptanceSummary(settings.AcceptQuantile, np, dp, both / n, onlyNp / n, onlyDp / n, neither / n);
    }

    /// <summary>The q-quantile by linear interpolation between order statistics (numpy's default).</summary>
    internal static double Quantile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((position - lower) * (sorted[upper] - sorted[lower]));
    }

    /// <summary>
    /// The distinct training sequences the non-private model finds much likelier than the private model does, with how
    /// many times each occurs (a repeated line such as "year" would otherwise fill the list; copies score the same).
    /// </summary>
    private static List<(string, int, double, double)> Disagreements(IReadOnlyList<string> train, double[] nonPrivate, double[] privateScores, int count) =>
        Enumerable.Range(0, train.Count)
            .GroupBy(i => train[i], StringComparer.Ordinal)
            .Select(g => (First: g.First(), Copies: g.Count()))
            .OrderByDescending(x => privateScores[x.First] - nonPrivate[x.First])
            .ThenBy(x => x.First)
            .Take(count)
            .Select(x => (train[x.First], x.Copies, nonPrivate[x.First], privateScores[x.First]))
            .ToList();

    private string RunDirectory() => RunFolder.Resolve(settings.OutDir, "secret-sharer");

    private static string Fmt(double v) => PrivacyStatement.Format(v);

    private static string Fmt4(double v) => v.ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>A progress line about every 10% of the steps (and time left).</summary>
    private sealed class StepReporter(Action<string> log, string name, long total)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly long _every = Math.Max(1, total / 10);

        public void Step(int epoch, long step, double loss)
        {
            if (step % _every != 0 && step != total)
            {
                return;
            }

            var left = TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds / step * (total - step));
            log($"[{name}] epoch {epoch}, step {step}/{total}, loss {Fmt4(loss)}, ~{(int)left.TotalMinutes}:{left.Seconds:00} left");
        }
    }
}
