using System.Diagnostics;
using System.Globalization;
using DiffPriv.Accounting;
using DiffPriv.Data;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using DiffPriv.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.UserLevel;

/// <summary>The three training loops of the user-level experiment, and the one user-level step they are built on.</summary>
internal static class RatingTrainer
{
    /// <summary>What a training run did.</summary>
    public sealed record Run(long Steps, double Epsilon, double? NoiseMultiplier, double? SamplingProbability);

    /// <summary>
    /// Ordinary training: every epoch shuffles the users into batches of B users; each batch's user vectors are solved from
    /// their ratings (<see cref="UserVectors"/>), then Adam takes a step on the mean squared error of the batch's ratings.
    /// </summary>
    public static Run TrainNonPrivate(RatingModel model, RatingData data, RatingHyperparameters h, double ridge, long seed, string label, IProgress<ProgressUpdate>? progress)
    {
        var clock = Stopwatch.StartNew();
        using var optimizer = Optimizer(model, h);
        var epochs = (int)Math.Ceiling(h.Epochs);
        var total = (long)Math.Ceiling(h.Epochs * data.Users / h.BatchSize);
        Say(progress, $"[{label}] NOT PRIVATE: AdamW lr {Format(h.LearningRate)} (weight decay {Format(h.WeightDecay)}) on the movie model, batches of {h.BatchSize} users, {total} steps");
#pragma warning disable CA5394 // the order of a non-private run's batches is not a secret
        var random = new Random((int)(seed & 0x7fffffff));
#pragma warning restore CA5394
        long step = 0;
        for (var epoch = 1; epoch <= epochs && step < total; epoch++)
        {
            var order = Enumerable.Range(0, data.Users).ToArray();
#pragma warning disable CA5394
            random.Shuffle(order);
#pragma warning restore CA5394
            double lossSum = 0, seen = 0;
            for (var start = 0; start < data.Users && step < total; start += h.BatchSize)
            {
                using (torch.NewDisposeScope())
                {
                    var rows = order.Skip(start).Take(h.BatchSize).SelectMany(u => data.Units.ExamplesOf(u)).ToArray();
                    using var index = torch.tensor(rows);
                    var x = data.TrainInputs.index_select(0, index);
                    var r = data.TrainTargets.index_select(0, index);
                    var vectors = UserVectors.Solve(model, x.select(1, 0), x.select(1, 1), r, ridge, data.Users);
                    optimizer.zero_grad();
                    var loss = model.Predict(x.select(1, 1), vectors.index_select(0, x.select(1, 0))).sub(r).square().mean();
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>() * rows.Length;
                    seen += rows.Length;
                }

                step++;
                Report(progress, clock, epoch, epochs, step, total, lossSum, seen, null);
            }
        }

        return new Run(step, double.PositiveInfinity, null, null);
    }

    /// <summary>
    /// User-level DP-SGD: users are Poisson-sampled, each sampled user's ratings make one record (the gradient of their mean
    /// squared error, the user's vector solved from the same ratings), clipped to C as a whole; σ is calibrated for ε per
    /// user over the planned steps. With <paramref name="checkpoints"/>, the run is checkpointed and resumes (see
    /// <see cref="TrainPrivately"/>).
    /// </summary>
    public static Run TrainUserLevel(
        RatingModel model, RatingData data, RatingHyperparameters h, double ridge, double targetEpsilon, double delta, long seed, bool seededNoise, string label, IProgress<ProgressUpdate>? progress,
        RunCheckpoints? checkpoints = null)
    {
        var options = Options(h, seededNoise ? seed : null) with { PrivacyUnits = data.Units };
        return TrainPrivately(
            model, data, h, options, targetEpsilon, delta, label, progress, (optimizer, batch, meter) => UserLevelStep(optimizer, model, batch, ridge, data.Users, meter), checkpoints, seed);
    }

    /// <summary>
    /// Example-level DP-SGD on a model with trained user embeddings: ratings are Poisson-sampled and every rating's gradient
    /// is clipped on its own; σ is calibrated for ε per rating. With <paramref name="checkpoints"/>, the run is checkpointed
    /// and resumes (see <see cref="TrainPrivately"/>).
    /// </summary>
    public static Run TrainExampleLevel(
        RatingModel model, RatingData data, RatingHyperparameters h, double targetEpsilon, double delta, long seed, bool seededNoise, string label, IProgress<ProgressUpdate>? progress,
        RunCheckpoints? checkpoints = null)
    {
        var options = Options(h, seededNoise ? seed : null);
        return TrainPrivately(
            model,
            data,
            h,
            options,
            targetEpsilon,
            delta,
            label,
            progress,
            (optimizer, batch, meter) => optimizer.Step(batch, (x, r) => meter.Add(model.PredictWithUserEmbeddings(x.select(1, 0), x.select(1, 1)).sub(r).square())),
            checkpoints,
            seed);
    }

    /// <summary>The DP-SGD options of a setting (C, B, physical batch; seeded noise for experiments only).</summary>
    public static DpSgdOptions Options(RatingHyperparameters h, long? seed) => new()
    {
        MaxGradNorm = h.MaxGradNorm,
        ExpectedBatchSize = h.BatchSize,
        MaxPhysicalBatchSize = h.PhysicalBatchSize,
        Seed = seed,
    };

    /// <summary>
    /// One user-level step: solve every sampled user's vector from their ratings and the current (released) movie model,
    /// then let the private optimizer make each user's ratings one clipped record of their squared errors.
    /// </summary>
    public static void UserLevelStep(DpOptimizer optimizer, RatingModel model, LogicalBatch batch, double ridge, long users, LossMeter? meter = null)
    {
        var x = batch[PoissonDataLoader.InputKey];
        var vectors = UserVectors.Solve(model, x.select(1, 0), x.select(1, 1), batch[PoissonDataLoader.TargetKey], ridge, users);
        optimizer.Step(batch, (xb, rb) =>
        {
            var loss = model.Predict(xb.select(1, 1), vectors.index_select(0, xb.select(1, 0))).sub(rb).square();
            return meter is null ? loss : meter.Add(loss);
        });
    }

    /// <summary>
    /// The loop of both private settings. With <paramref name="checkpoints"/>, the model, optimizer state, ledger, loader
    /// counters and seeded generator are written at the end of every due epoch, and a resumed run restores them (after
    /// checking that σ is the run's), so no private step is taken or charged twice. The privacy units themselves are data,
    /// rebuilt from the seeded split; the user vectors are solved from the restored model at every step.
    /// </summary>
    private static Run TrainPrivately(
        RatingModel model,
        RatingData data,
        RatingHyperparameters h,
        DpSgdOptions options,
        double targetEpsilon,
        double delta,
        string label,
        IProgress<ProgressUpdate>? progress,
        Action<DpOptimizer, LogicalBatch, LossMeter> step,
        RunCheckpoints? checkpoints,
        long seed)
    {
        var clock = Stopwatch.StartNew();
        var engine = new PrivacyEngine(AccountantKind.Pld);
        using var optimizer = Optimizer(model, h);
        using var training = engine.MakePrivateWithEpsilon(model, optimizer, data.TrainInputs, data.TrainTargets, options, targetEpsilon, delta, h.Epochs);
        var schedule = training.Schedule ?? throw new InvalidOperationException("A calibrated training has a schedule.");
        var sigma = training.Options.NoiseMultiplier;
        var q = training.Loader.SamplingProbability;
        var unit = training.Options.PrivacyUnitName;
        Say(progress, $"[{label}] DP-SGD, privacy unit: {unit}. σ = {sigma.ToString("G6", CultureInfo.InvariantCulture)} (calibrated for ε ≤ {PrivacyStatement.Format(targetEpsilon)} " +
            $"per {unit} at δ = {PrivacyStatement.Delta(delta)}), C = {Format(h.MaxGradNorm)} per {unit}, q = {q.ToString("G5", CultureInfo.InvariantCulture)} " +
            $"(expected {h.BatchSize} {unit}s of {training.Loader.UnitCount}), {RunAccounting.Describe(schedule)}, AdamW lr {Format(h.LearningRate)} (weight decay {Format(h.WeightDecay)})");
        var meter = new LossMeter();
        var planned = (int)schedule.Epochs;
        checkpoints?.Restore(s => engine.LoadCheckpoint(s, training), sigma);
        if (checkpoints?.ResumeLine(planned, options.Seed is not null) is { } resumeLine)
        {
            Say(progress, $"[{label}] {resumeLine}");
        }

        var (first, steps) = checkpoints?.Start ?? (1, 0L);
        List<EpochMetrics> history = [.. checkpoints?.Resumed?.History ?? []];
        double? epsSoFar = steps > 0 ? engine.GetEpsilon(delta) : null;
        for (var epoch = first; epoch <= planned; epoch++)
        {
            meter.Reset();
            foreach (var batch in training.Loader)
            {
                using (torch.NewDisposeScope())
                {
                    step(training.Optimizer, batch, meter);
                }

                steps++;
                Report(progress, clock, epoch, planned, steps, schedule.TotalSteps, meter.Sum, meter.Count, epsSoFar);
            }

            epsSoFar = engine.GetEpsilon(delta);
            history.Add(new EpochMetrics(epoch, steps, meter.Count > 0 ? meter.Sum / meter.Count : double.NaN, double.NaN, double.NaN, epsSoFar, null, clock.Elapsed.TotalSeconds));
            if (checkpoints is not null && checkpoints.Due(epoch, planned))
            {
                checkpoints.Write(
                    new TrainCheckpoint(epoch, steps, seed, sigma, checkpoints.SecondsBefore + clock.Elapsed.TotalSeconds, [.. history]),
                    s => engine.SaveCheckpoint(s, training));
            }
        }

        var (_, pld, _, _) = RunAccounting.Final(engine, training, steps, delta);
        if (pld.Upper > targetEpsilon * (1 + 1e-9))
        {
            throw new InvalidOperationException($"[{label}] ε = {pld.Upper} exceeds the target {targetEpsilon}: the run did not follow its plan.");
        }

        return new Run(steps, pld.Upper, sigma, q);
    }

    /// <summary>Adam, or AdamW with the decoupled weight decay when it is set.</summary>
    private static optim.Optimizer Optimizer(RatingModel model, RatingHyperparameters h) =>
        h.WeightDecay > 0 ? optim.AdamW(model.parameters(), h.LearningRate, weight_decay: h.WeightDecay) : optim.Adam(model.parameters(), h.LearningRate);

    private static void Report(IProgress<ProgressUpdate>? progress, Stopwatch clock, int epoch, int epochs, long step, long total, double lossSum, double seen, double? eps)
    {
        if (progress is null)
        {
            return;
        }

        var left = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / step * Math.Max(0, total - step));
        progress.Report(ProgressUpdate.StepDone(new StepStatus(epoch, epochs, step, total, seen > 0 ? lossSum / seen : double.NaN, double.NaN, eps, left)));
    }

    private static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static void Say(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Message(line));

    /// <summary>The running squared error of the rows a private step ran (a local diagnostic of private data, not covered by ε).</summary>
    internal sealed class LossMeter
    {
        public double Sum { get; private set; }

        public long Count { get; private set; }

        public Tensor Add(Tensor squaredErrors)
        {
            using (torch.no_grad())
            {
                Sum += squaredErrors.sum().item<float>();
            }

            Count += squaredErrors.shape[0];
            return squaredErrors;
        }

        public void Reset() => (Sum, Count) = (0, 0);
    }
}
