using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using DiffPriv.Accounting;
using DiffPriv.Data;
using DiffPriv.Datasets;
using DiffPriv.Distributed;
using DiffPriv.Experiments.Auditing;
using DiffPriv.Experiments.Features;
using DiffPriv.Experiments.Reports;
using DiffPriv.Models;
using DiffPriv.Optim;
using DiffPriv.Parallel;
using DiffPriv.PerSample;
using DiffPriv.Queries;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Experiments.Training;

/// <summary>Runs <c>diffpriv train</c>: loads data, trains (DP-SGD or plain), evaluates, accounts and writes the run folder.</summary>
/// <param name="settings">The run's validated settings.</param>
/// <param name="progress">Receives log lines, warnings and step updates, synchronously; may be null.</param>
public sealed class TrainRunner(TrainSettings settings, IProgress<ProgressUpdate>? progress = null)
{
    private const int EvalBatch = 1000;
    private DateTime _loopStart = DateTime.UtcNow;
    private Tensor? _testInputs;
    private Tensor? _testTargets;
    private GradientCanaries? _canaries;
    private long _examplesProcessed;
    private RunCheckpoints? _checkpoints;
    private string? _runDirectory;
    private long _initSeed;

    /// <summary>
    /// Resume the run in <see cref="TrainSettings.OutDir"/> (settings from <see cref="TrainResume.Load"/>): continue from its
    /// latest checkpoint (<see cref="TrainResume.CheckpointFile"/>) with the same plan, or start it from the beginning when it
    /// was stopped before its first checkpoint. A seeded run resumes into exactly the uninterrupted run; an unseeded one
    /// keeps the plan (steps, σ) and draws fresh noise.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Whether the run writes <see cref="TrainResume.SettingsFile"/> and <see cref="TrainResume.CheckpointFile"/> (default
    /// true). A private search's runs do not: their folders' paths and seeds would tell the selected run's index, a lower
    /// bound on the secret number of runs.
    /// </summary>
    internal bool ResumeFiles { get; init; } = true;

    // A data-parallel job writes no resume files yet: resuming would need every rank's state.
    private bool WritesResumeFiles => ResumeFiles && !Parallel;

    /// <summary>Test seam: opens the temporary checkpoint file for writing (default: a file stream).</summary>
    internal Func<string, Stream>? OpenCheckpoint { get; init; }

    /// <summary>
    /// The MPI world when the run is one rank of a data-parallel job (<c>mpiexec -n K diffpriv train …</c>), else null.
    /// With more than one rank every rank calls <see cref="Run"/>; rank 0 samples, adds the noise and writes the run folder,
    /// the others write to a temporary folder that is deleted at the end. DP-SGD with flat, per-layer or automatic
    /// clipping only.
    /// </summary>
    public MpiWorld? World { get; init; }

    private bool Parallel => World is { Size: > 1 };

    private bool IsRoot => World?.IsRoot ?? true;

    /// <summary>Runs the training and writes the run folder (report, metrics, plots, checkpoint or model).</summary>
    /// <returns>Everything the run measured.</returns>
    /// <exception cref="ArgumentException">The settings do not fit the data (e.g. a batch larger than the data set).</exception>
    public TrainResult Run()
    {
        var clock = Stopwatch.StartNew();

        TorchRuntime.EnsureLoaded();
        _checkpoints = new RunCheckpoints(RunDirectory(), settings.CheckpointEvery, Resume, OpenCheckpoint);
        var checkpointPath = _checkpoints.Path;

        var device = DeviceChoice.Resolve(settings.Device);
        using var loaded = ImageDatasets.Load(settings.Dataset, settings.TrainLimit, settings.TestLimit, m => progress?.Report(ProgressUpdate.Detail(m)));

        // On a GPU the whole data set moves there once (MNIST-sized data fit); batches, model and noise follow it.
        using var moved = device.type == DeviceType.CPU ? null : loaded.To(device);
        var data = moved ?? loaded;
        var testCount = data.TestInputs.shape[0];
        if (settings.ValidationExamples < 0 || settings.ValidationExamples >= testCount)
        {
            throw new ArgumentException($"the validation split must hold between 0 and {testCount - 1} of the {testCount} test examples (got {settings.ValidationExamples})", nameof(settings));
        }

        if (settings.OneRunAudit && (settings.NoDp || settings.Mechanism != MechanismKind.DpSgd))
        {
            throw new ArgumentException("the one-run audit inserts its canaries into DP-SGD steps: it needs DP-SGD (not --no-dp or dp-ftrl)", nameof(settings));
        }

        using var features = Features(data);
        var (trainInputs, testInputs) = features is null ? (data.TrainInputs, data.TestInputs) : (features.TrainInputs, features.TestInputs);
        var seed = settings.Seed ?? Resumed?.InitSeed ?? BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
        _initSeed = seed;
        using var split = settings.Audit ? AuditSplit.Create(trainInputs, data.TrainTargets, (int)(seed & 0x7fffffff)) : null;
        var train = (Inputs: split?.TrainInputs ?? trainInputs, Targets: split?.TrainTargets ?? data.TrainTargets);
        var n = train.Inputs.shape[0];

        // The first ValidationExamples test examples score the run for a hyperparameter search; the test accuracy is measured
        // on the rest, so the reported accuracy of a selected run is not the number it was selected on.
        _testInputs = testInputs.narrow(0, settings.ValidationExamples, testCount - settings.ValidationExamples);
        _testTargets = data.TestTargets.narrow(0, settings.ValidationExamples, testCount - settings.ValidationExamples);
        if (settings.BatchSize > n)
        {
            throw new ArgumentException($"--batch-size must be in [1, N = {n}] (got {settings.BatchSize})", nameof(settings));
        }

        if (!settings.NoDp && settings.Delta >= 1.0 / n)
        {
            Warn($"δ = {PrivacyStatement.Format(settings.Delta)} is not below 1/N = {PrivacyStatement.Format(1.0 / n)}: such a δ allows a mechanism that publishes a few examples outright. Use δ ≪ 1/N.");
        }

        if (Parallel)
        {
            ThrowUnlessDataParallel();
            // Each rank gets its share of the cores (a 2-core machine running 2 ranks: one thread each).
            torch.set_num_threads(Math.Max(1, Environment.ProcessorCount / MpiWorld.LocalRanks));
        }

        // Only rank 0 writes the run folder; the other ranks' files go to a temporary folder (same layout, never read).
        var runDir = IsRoot ? RunDirectory() : Path.Combine(Path.GetTempPath(), $"diffpriv-rank{World!.Rank}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(runDir);
        if (!Resume && IsRoot)
        {
            // A new run in a used folder: nothing of the earlier run may be taken for this one's.
            File.Delete(checkpointPath);
            File.Delete(Path.Combine(runDir, TrainResume.ReportFile));
            if (WritesResumeFiles)
            {
                TrainResume.Save(settings, runDir);
                File.WriteAllText(Path.Combine(runDir, "command.txt"), settings.CommandLine + "\n");
            }
        }

        Say($"diffpriv train {settings.DatasetId}{(settings.Smoke ? " (smoke run)" : "")}: {n} train / {data.TestInputs.shape[0]} test examples, run folder {runDir}");
        if (_checkpoints.ResumeLine(settings.Epochs, settings.Seed is not null) is { } resumeLine)
        {
            Say(resumeLine);
        }

        if (!TrainResume.Resumable(settings, out var notResumable) || (Parallel && ResumeFiles))
        {
            Say($"note: this run writes no checkpoint to resume from: {(Parallel ? "a data-parallel run is not resumable yet" : notResumable)}");
        }
        else if (WritesResumeFiles)
        {
            Say(_checkpoints.CheckpointLine($"train {settings.DatasetId}"));
        }

        if (split is not null)
        {
            Say($"--audit: {split.HoldoutInputs.shape[0]} examples drawn at random from the training split are held out (never trained on) as the audit's non-members.");
        }
        if (settings.Seed is not null && !settings.NoDp)
        {
            Say($"note: --seed {settings.Seed} seeded noise is for reproducibility only (the noise and sampling can be replayed by anyone who knows the seed). Omit --seed for secure noise.");
        }

        torch.manual_seed(seed);
        var model = settings.Model == ImageModel.Cnn
            ? ModelZoo.MnistCnn(settings.Activation)
            : ScatterNetModels.Create(settings.Model, trainInputs.shape[1], trainInputs.shape[2], trainInputs.shape[3]);
        model.to(device);
        using var optimizer = CreateOptimizer(model);

        var result = settings.NoDp
            ? TrainPlain(model, optimizer, data, train, runDir, clock)
            : settings.Mechanism == MechanismKind.DpFtrl
                ? TrainFtrl(model, optimizer, data, train, runDir, clock)
                : TrainPrivate(model, optimizer, data, train, runDir, clock);

        if (_canaries is not null)
        {
            result = result with { OneRunAudit = TrainCanaries.Audit(_canaries, settings.Delta) };
            Say($"One-run audit of the {_canaries.Canaries.Count} gradient canaries inserted into this run: ε ≥ {result.OneRunAudit.EpsilonLowerBound.ToString("F3", CultureInfo.InvariantCulture)} (95% confidence)");
        }

        if (settings.Audit)
        {
            Say("Privacy audit: membership-inference attacks on training vs held-out examples …");
            result = result with { Audit = TrainAudit.Run(model, split!, settings.Delta, (int)(seed & 0x7fffffff)) };
        }

        if (settings.ValidationExamples > 0)
        {
            using var validationInputs = testInputs.narrow(0, 0, settings.ValidationExamples);
            using var validationTargets = data.TestTargets.narrow(0, 0, settings.ValidationExamples);
            result = result with { TestExamples = _testInputs.shape[0], ValidationAccuracy = Evaluate(model, validationInputs, validationTargets) };
        }

        if (IsRoot)
        {
            RunReport.Write(result);
        }
        else
        {
            Directory.Delete(runDir, recursive: true);
        }

        model.Dispose();
        _testInputs.Dispose();
        _testTargets.Dispose();
        return result;
    }

    private void Say(string line) => progress?.Report(ProgressUpdate.Message(line));

    /// <summary>The ScatterNet features of every image for a ScatterNet model (once per run, in memory), else null.</summary>
    private ScatterNetFeatures? Features(ImageDataset data)
    {
        if (settings.Model == ImageModel.Cnn)
        {
            return null;
        }

        var watch = Stopwatch.StartNew();
        var features = ScatterNetFeatures.Compute(data, Path.Combine(DataCache.Root(), data.Info.Id), m => progress?.Report(ProgressUpdate.Detail(m)));
        progress?.Report(ProgressUpdate.Detail(
            $"ScatterNet features (scattering transform J = 2, L = 8, data-independent; GroupNorm per example, no private statistics): " +
            $"[{string.Join(", ", features.TrainInputs.shape.Skip(1))}] per image, for {features.TrainInputs.shape[0] + features.TestInputs.shape[0]} images in " +
            $"{watch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s"));
        return features;
    }

    private void Warn(string line) => progress?.Report(ProgressUpdate.Warning(line));

    // Resolved once: without --out, a second call would see the folder the first one named exist and name the next one.
    private string RunDirectory() => _runDirectory ??= RunFolder.Resolve(settings.OutDir, settings.DatasetId);

    private optim.Optimizer CreateOptimizer(nn.Module<Tensor, Tensor> model) => settings.Optimizer switch
    {
        OptimizerKind.Sgd => optim.SGD(model.parameters(), settings.LearningRate, momentum: settings.Momentum),
        OptimizerKind.Adam => optim.Adam(model.parameters(), settings.LearningRate),
        _ => throw new ArgumentException($"unknown optimizer {settings.Optimizer}", nameof(model)),
    };

    private TrainResult TrainPrivate(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, ImageDataset data, (Tensor Inputs, Tensor Targets) train, string runDir, Stopwatch clock)
    {
        var engine = new PrivacyEngine(AccountantKind.Pld);
        var n = train.Inputs.shape[0];
        var options = new DpSgdOptions
        {
            MaxGradNorm = settings.MaxGradNorm,
            AutomaticClipping = settings.AutomaticClipping,
            LayerMaxGradNorms = settings.PerLayerClipping ? EqualLayerThresholds(model, settings.MaxGradNorm) : null,
            ExpectedBatchSize = settings.BatchSize,
            NoiseMultiplier = settings.NoiseMultiplier ?? double.NaN,
            // The plan: ⌈epochs·N/B⌉ steps, which the loader's epochs run and the optimizer guards (calibration sets it too).
            Epochs = settings.Epochs,
            Seed = settings.Seed,
            // Adaptive clipping (Andrew et al.): the clip starts at C and follows a quantile of the norms, η = 0.2, σ_b = B/20, the
            // paper's defaults; σ is the whole step's and is calibrated like a plain Gaussian sum's. The release is rescaled to the
            // data set's default C, so the step size does not follow the clip: the learning rate keeps the meaning it has in the
            // default run whatever C the clip starts from or moves to (without it, the median clip falls with the gradients and
            // learning stalls, and higher quantiles raise the clip and the noise with it; docs/results.md).
            Query = settings.AdaptiveClipping
                ? new QuantileAdaptiveClipSumQuery(
                    settings.MaxGradNorm, settings.NoiseMultiplier ?? 1.0, targetUnclippedQuantile: settings.ClipQuantile, learningRate: 0.2,
                    clippedCountStddev: settings.BatchSize / 20.0, expectedNumRecords: settings.BatchSize)
                {
                    ReleaseClip = AdaptiveReleaseClip(settings),
                }
                : null,
        };
        if (settings.OneRunAudit)
        {
            (options, _canaries) = TrainCanaries.Insert(options, model, train.Inputs, train.Targets, settings.Seed);
            Say($"--audit one-run: {_canaries.Canaries.Count} white-box gradient canaries (each included with probability ½) are inserted into this training run's DP steps.");
        }

        using var training = settings.NoiseMultiplier is not null
            ? engine.MakePrivate(model, optimizer, train.Inputs, train.Targets, options)
            : engine.MakePrivateWithEpsilon(model, optimizer, train.Inputs, train.Targets, options, settings.TargetEpsilon!.Value, settings.Delta, settings.Epochs);
        var parallel = Parallel ? DataParallelTraining.Attach(training, World!) : null;
        var q = training.Loader.SamplingProbability;
        var sigma = training.Optimizer.Query.NoiseMultiplier;

        // The steps the calibration assumed (TF Privacy's convention), as the loader's epochs run them.
        var schedule = training.Schedule ?? throw new InvalidOperationException("A training made with Epochs has a schedule.");
        var totalSteps = schedule.TotalSteps;
        var epochs = (int)schedule.Epochs;
        Say(
            $"DP-SGD: σ = {sigma.ToString("G6", CultureInfo.InvariantCulture)}{(settings.NoiseMultiplier is null ? $" (calibrated for ε ≤ {PrivacyStatement.Format(settings.TargetEpsilon!.Value)})" : "")}, " +
            $"{(settings.AutomaticClipping ? "automatic clipping g·C/(‖g‖ + 0.01), " : settings.PerLayerClipping ? "per-layer clipping at C/√L, " : settings.AdaptiveClipping ? $"adaptive clipping (quantile {settings.ClipQuantile.ToString("G3", CultureInfo.InvariantCulture)}, η = 0.2, released at C = {PrivacyStatement.Format(AdaptiveReleaseClip(settings))}) from " : "")}C = {PrivacyStatement.Format(settings.MaxGradNorm)}, q = {q.ToString("G5", CultureInfo.InvariantCulture)} (expected batch {settings.BatchSize}), {RunAccounting.Describe(schedule)}, δ = {PrivacyStatement.Delta(settings.Delta)}");

        _checkpoints!.Restore(s => engine.LoadCheckpoint(s, training), sigma);
        var history = new List<EpochMetrics>();
        var loopClock = Stopwatch.StartNew();
        var result = PrivateLoop(model, optimizer, training.Optimizer, training.Loader, epochs, totalSteps, data, clock, history, () =>
        {
            // Every epoch, in a data-parallel job: the ranks must still hold one model.
            parallel?.CheckParametersIdentical();
            var interval = engine.GetEpsilonInterval(settings.Delta);
            return (interval.Upper, interval.Lower);
        }, s => engine.SaveCheckpoint(s, training));
        var loopSeconds = loopClock.Elapsed.TotalSeconds;
        IReadOnlyList<long> examplesPerRank = parallel?.ExamplesPerRank() ?? [_examplesProcessed];
        double? finalClip = training.Optimizer.GlobalState is double clip ? clip : null;
        if (finalClip is { } c)
        {
            Say($"adaptive clipping: the clip norm went from {PrivacyStatement.Format(settings.MaxGradNorm)} to {c.ToString("G4", CultureInfo.InvariantCulture)}");
        }

        var (steps, final, rdp, results) = RunAccounting.Final(engine, training, result, settings.Delta);
        var inputs = new DpSgdRunShape(q, n, settings.BatchSize, steps, settings.Delta);
        using var statement = new StringWriter();
        PrivacyStatement.Write(statement, inputs, sigma, results);
        RunAccounting.WriteSteps(statement, schedule, calibrated: settings.NoiseMultiplier is null);
        if (settings.Seed is not null)
        {
            statement.WriteLine("  - This run used --seed: its noise is reproducible and therefore NOT secret. Seeded runs are for");
            statement.WriteLine("    reproducibility only; publish a model only from a run without --seed (secure noise).");
        }

        engine.SaveCheckpoint(Path.Combine(runDir, "checkpoint.bin"), training);
        // The weights alone as well, in TorchSharp's format (model.load), for using the model without resuming its training.
        model.save(Path.Combine(runDir, "model.bin"));
        return new TrainResult(
            settings, n, data.TestInputs.shape[0], sigma, q, steps, final.Upper, final.Lower, rdp.Epsilon, results[1].OptimalOrder,
            history[^1].TestAccuracy, Seconds(clock), runDir, history, statement.ToString())
        {
            FinalClip = finalClip,
            WorldSize = World?.Size ?? 1,
            ExamplesPerRank = examplesPerRank,
            CommunicationShare = parallel is null ? null : parallel.CommunicationTime.TotalSeconds / loopSeconds,
        };
    }

    private void ThrowUnlessDataParallel()
    {
        string? refused = settings.NoDp ? "--no-dp"
            : settings.Mechanism != MechanismKind.DpSgd ? "--mechanism dp-ftrl"
            : settings.AdaptiveClipping ? "--clipping adaptive"
            : settings.Audit ? "--audit mia"
            : settings.OneRunAudit ? "--audit one-run"
            : settings.ValidationExamples > 0 ? "a hyperparameter search"
            : null;
        if (refused is not null)
        {
            throw new ArgumentException(
                $"{refused} does not run data-parallel yet: under mpiexec, train runs DP-SGD with flat, per-layer or automatic clipping (run {refused} in a single process)",
                nameof(settings));
        }
    }

    /// <summary>With adaptive clipping, the norm the release is rescaled to: the data set's default clipping norm.</summary>
    internal static double AdaptiveReleaseClip(TrainSettings settings) => TrainDefaults.For(settings.Dataset).MaxGradNorm;

    /// <summary>
    /// The epochs of a private run: each pass of <paramref name="loader"/> steps <paramref name="dp"/> over its batches, then
    /// the test accuracy and ε so far (<paramref name="epsilon"/>: upper, and lower when known) go into <paramref name="history"/>.
    /// </summary>
    /// <returns>The steps taken.</returns>
    private long PrivateLoop(
        nn.Module<Tensor, Tensor> model,
        optim.Optimizer optimizer,
        DpOptimizer dp,
        IEnumerable<LogicalBatch> loader,
        int epochs,
        long totalSteps,
        ImageDataset data,
        Stopwatch clock,
        List<EpochMetrics> history,
        Func<(double Upper, double? Lower)> epsilon,
        Action<Stream> saveEngine)
    {
        var meter = new CrossEntropyMeter(model);
        using var average = settings.EmaDecay is { } decay ? new ParameterAverage(model, decay) : null;
        if (Resumed?.Average is { } saved)
        {
            average?.Restore(saved);
        }

        _loopStart = DateTime.UtcNow;
        var (firstEpoch, step) = Resumed is { } from ? (from.CompletedEpochs + 1, from.Steps) : (1, 0L);
        _examplesProcessed = Resumed?.ExamplesProcessed ?? 0;
        history.AddRange(Resumed?.History ?? []);
        double? epsSoFar = history.Count > 0 ? history[^1].Epsilon : null;
        for (var epoch = firstEpoch; epoch <= epochs; epoch++)
        {
            var epochStart = clock.Elapsed;
            meter.Reset();
            model.train();
            foreach (var batch in loader)
            {
                using (torch.NewDisposeScope())
                {
                    LrSchedules.Set(optimizer, settings.LearningRateAt(step, totalSteps));
                    _examplesProcessed += dp.Step(batch, meter.PerExampleLoss);
                    average?.Update();
                }

                step++;
                progress?.Report(ProgressUpdate.StepDone(Status(epoch, epochs, step, totalSteps, meter.LossSum, meter.Correct, meter.Seen, epsSoFar)));
            }

            // The ranks of a data-parallel job hold the same model: only rank 0 evaluates it.
            var testAccuracy = !IsRoot ? double.NaN : average is null ? Evaluate(model, data) : average.With(() => Evaluate(model, data));
            var (upper, lower) = epsilon();
            epsSoFar = upper;
            var metrics = new EpochMetrics(epoch, step, Mean(meter.LossSum, meter.Seen), Mean(meter.Correct, meter.Seen), testAccuracy, upper, lower, (clock.Elapsed - epochStart).TotalSeconds);
            history.Add(metrics);
            Say(EpochLine(metrics));
            if (WritesResumeFiles && TrainResume.Resumable(settings, out _) && _checkpoints!.Due(epoch, epochs))
            {
                _checkpoints.Write(
                    new TrainCheckpoint(epoch, step, _initSeed, dp.Query.NoiseMultiplier, Seconds(clock), [.. history]) { ExamplesProcessed = _examplesProcessed, Average = average?.State() },
                    saveEngine);
            }
        }

        if (average is not null)
        {
            // The released model is the average (post-processing of the private iterates: no privacy cost).
            average.CopyToModel();
            Say($"--ema {settings.EmaDecay!.Value.ToString("G4", CultureInfo.InvariantCulture)}: the released model and the test accuracy are the exponential moving average of the parameters over the steps");
        }

        return step;
    }

    /// <summary>Wall time of the run, over all its attempts.</summary>
    private double Seconds(Stopwatch clock) => (_checkpoints?.SecondsBefore ?? 0) + clock.Elapsed.TotalSeconds;

    /// <summary>The checkpoint the run resumes from, or null.</summary>
    private TrainCheckpoint? Resumed => _checkpoints?.Resumed;

    /// <summary>
    /// DP-FTRL (Kairouz et al. 2021): fixed batches of B over a fresh shuffle per pass, per-example clipping, the tree query
    /// (a tree per pass, Honaker's efficient tree) and the inner optimizer on the released residuals (SGD: the FTRL form,
    /// with momentum DP-FTRLM). ε by RDP under replace-special; checkpoints are taken between passes (the tree restarts with each).
    /// </summary>
    private TrainResult TrainFtrl(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, ImageDataset data, (Tensor Inputs, Tensor Targets) train, string runDir, Stopwatch clock)
    {
        var engine = new PrivacyEngine(AccountantKind.Rdp, NeighboringRelation.ReplaceSpecial);
        var n = train.Inputs.shape[0];
        var options = new DpFtrlOptions
        {
            Clipping = settings.AutomaticClipping
                ? ClippingOptions.Automatic(settings.MaxGradNorm)
                : settings.PerLayerClipping ? ClippingOptions.PerLayer(EqualLayerThresholds(model, settings.MaxGradNorm)) : ClippingOptions.Flat(settings.MaxGradNorm),
            BatchSize = settings.BatchSize,
            Epochs = settings.Epochs,
            NoiseMultiplier = settings.NoiseMultiplier ?? double.NaN,
            Seed = settings.Seed,
        };
        using var training = settings.NoiseMultiplier is not null
            ? engine.MakePrivateFtrl(model, optimizer, train.Inputs, train.Targets, options)
            : engine.MakePrivateFtrlWithEpsilon(model, optimizer, train.Inputs, train.Targets, options, settings.TargetEpsilon!.Value, settings.Delta);
        var sigma = training.Options.NoiseMultiplier;
        var schedule = training.Schedule;
        Say(
            $"DP-FTRL: σ = {sigma.ToString("G6", CultureInfo.InvariantCulture)}{(settings.NoiseMultiplier is null ? $" (calibrated for ε ≤ {PrivacyStatement.Format(settings.TargetEpsilon!.Value)} under replace-special)" : "")}, " +
            $"tree aggregation restarted every pass ({schedule.StepsPerEpoch} steps per tree), " +
            $"{(settings.AutomaticClipping ? "automatic clipping g·C/(‖g‖ + 0.01), " : settings.PerLayerClipping ? "per-layer clipping at C/√L, " : "")}C = {PrivacyStatement.Format(settings.MaxGradNorm)}, " +
            $"fixed batches of {settings.BatchSize} over a fresh shuffle per pass (no sampling), {RunAccounting.Describe(schedule)}, δ = {PrivacyStatement.Delta(settings.Delta)}");

        _checkpoints!.Restore(s => engine.LoadCheckpoint(s, training), sigma);
        var history = new List<EpochMetrics>();
        var loopSteps = PrivateLoop(model, optimizer, training.Optimizer, training.Loader, (int)schedule.Epochs, schedule.TotalSteps, data, clock, history,
            () => (engine.GetEpsilon(settings.Delta), null), s => engine.SaveCheckpoint(s, training));
        var (steps, trees, rdp) = RunAccounting.FinalFtrl(engine, training, loopSteps, settings.Delta);
        using var statement = new StringWriter();
        PrivacyStatement.WriteFtrl(statement, new DpFtrlRunShape(n, settings.BatchSize, steps, trees, schedule.StepsPerEpoch, settings.Delta), sigma, rdp);
        RunAccounting.WriteSteps(statement, schedule, calibrated: settings.NoiseMultiplier is null);
        if (settings.Seed is not null)
        {
            statement.WriteLine("  - This run used --seed: its noise is reproducible and therefore NOT secret. Seeded runs are for");
            statement.WriteLine("    reproducibility only; publish a model only from a run without --seed (secure noise).");
        }

        engine.SaveCheckpoint(Path.Combine(runDir, "checkpoint.bin"), training);
        model.save(Path.Combine(runDir, "model.bin"));
        return new TrainResult(
            settings, n, data.TestInputs.shape[0], sigma, null, steps, rdp.Epsilon, null, rdp.Epsilon, double.IsFinite(rdp.Epsilon) ? rdp.OptimalOrder : null,
            history[^1].TestAccuracy, Seconds(clock), runDir, history, statement.ToString());
    }

    /// <summary>C/√L for each of the L layers that own trainable parameters: √Σ C_l² = C.</summary>
    private static Dictionary<string, double> EqualLayerThresholds(nn.Module model, double maxGradNorm)
    {
        var paths = model.named_modules()
            .Where(m => m.module.named_parameters(recurse: false).Any(p => p.parameter.requires_grad))
            .Select(m => m.name)
            .ToList();
        return paths.ToDictionary(p => p, _ => maxGradNorm / Math.Sqrt(paths.Count));
    }

    private TrainResult TrainPlain(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, ImageDataset data, (Tensor Inputs, Tensor Targets) train, string runDir, Stopwatch clock)
    {
        var n = train.Inputs.shape[0];
        var perEpoch = (n + settings.BatchSize - 1) / settings.BatchSize;
        var totalSteps = perEpoch * settings.Epochs;
        Say($"NOT PRIVATE (--no-dp): ordinary training, shuffled batches of {settings.BatchSize}, mean loss, {totalSteps} steps; no privacy guarantee (ε = ∞).");
        var history = new List<EpochMetrics>();
        _loopStart = DateTime.UtcNow;
        var checkpointPath = Path.Combine(runDir, TrainResume.CheckpointFile);
        var state = optimizer as TorchSharp.Modules.OptimizerHelper ?? throw new InvalidOperationException($"{optimizer.GetType().Name} cannot save its state.");

        // The plain run's checkpoint: model, optimizer state and the global torch generator its shuffles come from.
        void SaveState(Stream stream)
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            model.save(writer);
            state.save_state_dict(writer);
            using var rng = torch.random.get_rng_state();
            var bytes = rng.data<byte>().ToArray();
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }

        void LoadState(Stream stream)
        {
            using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            model.load(reader);
            state.load_state_dict(reader);
            var bytes = reader.ReadBytes(reader.ReadInt32());
            using var rng = torch.tensor(bytes, dtype: ScalarType.Byte);
            torch.random.set_rng_state(rng);
        }

        long Loop()
        {
            long step = 0;
            var firstEpoch = 1;
            if (Resumed is { } from)
            {
                TrainCheckpoint.Read(checkpointPath, LoadState);
                (firstEpoch, step) = (from.CompletedEpochs + 1, from.Steps);
                history.AddRange(from.History);
            }

            for (var epoch = firstEpoch; epoch <= settings.Epochs; epoch++)
            {
                var epochStart = clock.Elapsed;
                double lossSum = 0, correct = 0, seen = 0;
                model.train();
                using var order = torch.randperm(n);
                for (long start = 0; start < n; start += settings.BatchSize)
                {
                    using (torch.NewDisposeScope())
                    {
                        var idx = order.narrow(0, start, Math.Min(settings.BatchSize, n - start));
                        var x = train.Inputs.index_select(0, idx);
                        var y = train.Targets.index_select(0, idx);
                        LrSchedules.Set(optimizer, settings.LearningRateAt(step, totalSteps));
                        optimizer.zero_grad();
                        var logits = model.call(x);
                        var loss = F.cross_entropy(logits, y);
                        loss.backward();
                        optimizer.step();
                        lossSum += loss.item<float>() * y.shape[0];
                        correct += logits.argmax(1).eq(y).sum().item<long>();
                        seen += y.shape[0];
                    }

                    step++;
                    progress?.Report(ProgressUpdate.StepDone(Status(epoch, settings.Epochs, step, totalSteps, lossSum, correct, seen, null)));
                }

                var metrics = new EpochMetrics(epoch, step, Mean(lossSum, seen), Mean(correct, seen), Evaluate(model, data), null, null, (clock.Elapsed - epochStart).TotalSeconds);
                history.Add(metrics);
                Say(EpochLine(metrics));
                if (WritesResumeFiles && _checkpoints!.Due(epoch, settings.Epochs))
                {
                    _checkpoints.Write(new TrainCheckpoint(epoch, step, _initSeed, 0, Seconds(clock), [.. history]), SaveState);
                }
            }

            return step;
        }

        var steps = Loop();

        model.save(Path.Combine(runDir, "model.bin"));
        const string statement = "NOT PRIVATE: trained with --no-dp (no clipping, no noise, shuffled batches). The model has no\n" +
                                 "differential-privacy guarantee (ε = ∞) and may memorise individual training examples.\n";
        return new TrainResult(settings, n, data.TestInputs.shape[0], null, null, steps, double.PositiveInfinity, null, null, null,
            history[^1].TestAccuracy, Seconds(clock), runDir, history, statement);
    }

    /// <summary>Test accuracy: eval mode, no gradients, batched; a plain forward outside any DP step records nothing.</summary>
    private double Evaluate(nn.Module<Tensor, Tensor> model, ImageDataset data) =>
        Evaluate(model, _testInputs ?? data.TestInputs, _testTargets ?? data.TestTargets);

    private static double Evaluate(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        var m = inputs.shape[0];
        long correct = 0;
        for (long start = 0; start < m; start += EvalBatch)
        {
            using var scope = torch.NewDisposeScope();
            var length = Math.Min(EvalBatch, m - start);
            var logits = model.call(inputs.narrow(0, start, length));
            correct += logits.argmax(1).eq(targets.narrow(0, start, length)).sum().item<long>();
        }

        model.train();
        return (double)correct / m;
    }

    private StepStatus Status(int epoch, int epochs, long step, long totalSteps, double lossSum, double correct, double seen, double? eps)
    {
        var elapsed = (DateTime.UtcNow - _loopStart).TotalSeconds;
        TimeSpan? left = step > 0 ? TimeSpan.FromSeconds(elapsed / step * (totalSteps - step)) : null;
        return new StepStatus(epoch, epochs, step, totalSteps, Mean(lossSum, seen), Mean(correct, seen), eps, left);
    }

    private static double Mean(double sum, double count) => count > 0 ? sum / count : double.NaN;

    private static string EpochLine(EpochMetrics m)
    {
        var inv = CultureInfo.InvariantCulture;
        var eps = m.Epsilon is { } e ? $"ε {e.ToString("F3", inv)}" : "ε ∞ (not private)";
        return $"epoch {m.Epoch}: loss {m.TrainLoss.ToString("F4", inv)}, train acc {(100 * m.TrainAccuracy).ToString("F2", inv)}%, " +
               $"test acc {(100 * m.TestAccuracy).ToString("F2", inv)}%, {eps}, {m.Seconds.ToString("F1", inv)} s";
    }

}
