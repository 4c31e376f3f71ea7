using System.Diagnostics;
using System.Globalization;
using DiffPriv.Accounting;
using DiffPriv.Experiments.Pretraining;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using DiffPriv.Layers;
using DiffPriv.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Experiments.TextClassification;

/// <summary>One point of a training curve: ε spent so far and the accuracy on the curve's examples then.</summary>
/// <param name="Epoch">Epochs done.</param>
/// <param name="Epsilon">ε at the run's δ after those epochs (∞ when not private).</param>
/// <param name="Accuracy">Accuracy on the curve's evaluation examples.</param>
internal sealed record CurvePoint(int Epoch, double Epsilon, double Accuracy);

/// <summary>What <see cref="TextFineTuner.Train"/> did.</summary>
internal sealed record FineTuneOutcome(
    nn.Module<Tensor, Tensor> Model,
    double Epsilon,
    double? EpsilonLower,
    double? NoiseMultiplier,
    double? SamplingProbability,
    long Steps,
    long TrainableParameters,
    long TotalParameters,
    IReadOnlyList<CurvePoint> Curve,
    double Seconds);

/// <summary>
/// The text classifier of the text experiments: a <see cref="ModelZoo.CausalTransformerClassifier"/> with the shape of the
/// public pretrained language model, started from its weights (or not), trained ordinarily or with DP-SGD (all weights or
/// LoRA adapters plus the head), and evaluated.
/// </summary>
internal static class TextFineTuner
{
    private const int EvalBatch = 256;

    /// <summary>The LoRA targets: every linear layer of the encoder (attention projections and feed-forward block); the head is trained whole.</summary>
    public static readonly IReadOnlyList<string> LoraTargets = ["q_proj", "k_proj", "v_proj", "out_proj", "linear1", "linear2"];

    /// <summary>Token ids of each text (<see cref="WordVocabulary.Encode(string, int)"/>: first and last tokens of long texts), padded with <see cref="WordVocabulary.PadId"/> to [N, T].</summary>
    public static Tensor Encode(WordVocabulary vocabulary, IReadOnlyList<string> texts, int maxTokens)
    {
        var ids = new long[(long)texts.Count * maxTokens];
        for (var i = 0; i < texts.Count; i++)
        {
            var encoded = vocabulary.Encode(texts[i], maxTokens);
            Array.Copy(encoded, 0, ids, (long)i * maxTokens, encoded.Length);
        }

        return torch.tensor(ids, [texts.Count, maxTokens]);
    }

    /// <summary>The share of the texts' tokens outside the public vocabulary (0 for no tokens).</summary>
    public static double UnknownRate(WordVocabulary vocabulary, IEnumerable<string> texts)
    {
        long unknown = 0, all = 0;
        foreach (var text in texts)
        {
            var ids = vocabulary.Encode(text);
            unknown += ids.Count(i => i == WordVocabulary.UnknownId);
            all += ids.Length;
        }

        return all == 0 ? 0 : (double)unknown / all;
    }

    /// <summary>
    /// A new classifier of the pretrained model's shape; for every mode but <see cref="TextTrainingMode.DpScratch"/> its
    /// embedding, positions and encoder are copied from <paramref name="pretrained"/>; with <see cref="TextTrainingMode.DpLora"/>
    /// LoRA adapters are added and only they and the head are trainable. The head starts at zero in every mode.
    /// </summary>
    public static nn.Module<Tensor, Tensor> CreateModel(
        TextTrainingMode mode, PublicPretrainingSettings shape, int vocabularySize, nn.Module pretrained, int maxTokens, int classes, int loraRank, long seed)
    {
        if (maxTokens > shape.SequenceLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxTokens), maxTokens, $"At most {shape.SequenceLength} tokens per text: the pretrained model's positions end there.");
        }

        torch.manual_seed(seed);
        var model = ModelZoo.CausalTransformerClassifier(
            vocabularySize, shape.ModelDimension, shape.Heads, shape.Feedforward, shape.Layers, maxTokens, classes);
        if (mode.IsPretrained())
        {
            var source = pretrained.state_dict();
            using var noGrad = torch.no_grad();
            foreach (var (name, parameter) in model.named_parameters())
            {
                if (name.StartsWith("output.", StringComparison.Ordinal))
                {
                    continue; // the classification head is new
                }

                if (!source.TryGetValue(name, out var weights))
                {
                    throw new InvalidOperationException($"The pretrained model has no '{name}'.");
                }

                // The classifier may read fewer positions than the language model was trained on.
                parameter.copy_(name == "position.weight" ? weights.narrow(0, 0, maxTokens) : weights);
            }
        }

        // The new head starts at zero: every example starts at the uniform prediction, so the first (clipped, noised)
        // steps move the head along the task's direction instead of undoing a random head's confident mistakes.
        using (torch.no_grad())
        {
            foreach (var (name, parameter) in model.named_parameters().Where(p => p.name.StartsWith("output.", StringComparison.Ordinal)))
            {
                parameter.zero_();
            }
        }

        if (mode == TextTrainingMode.DpLora)
        {
            Lora.Apply(model, new LoraOptions { Rank = loraRank, Targets = LoraTargets });
            foreach (var (name, parameter) in model.named_parameters())
            {
                if (name.StartsWith("output.", StringComparison.Ordinal))
                {
                    parameter.requires_grad = true; // the new head is trained (privately) with the adapters
                }
            }
        }

        return model;
    }

    /// <summary>Trains <paramref name="model"/> on (<paramref name="inputs"/>, <paramref name="labels"/>) and returns what ran.</summary>
    /// <param name="mode">Ordinary or DP-SGD.</param>
    /// <param name="model">From <see cref="CreateModel"/>.</param>
    /// <param name="inputs">[N, T] token ids.</param>
    /// <param name="labels">[N] class ids.</param>
    /// <param name="h">Epochs, batch, learning rate, C.</param>
    /// <param name="targetEpsilon">DP-SGD: σ is calibrated so that the planned steps stay within this ε at <paramref name="delta"/>.</param>
    /// <param name="delta">δ.</param>
    /// <param name="seed">Seeds the batches and, when <paramref name="seededNoise"/>, the noise (then reproducible and not secret).</param>
    /// <param name="seededNoise">Whether the DP noise is seeded (experiments only).</param>
    /// <param name="curve">Called after every epoch for the curve's accuracy; may be null.</param>
    /// <param name="label">The name shown in progress lines.</param>
    /// <param name="progress">Progress; may be null.</param>
    /// <param name="checkpoints">DP-SGD: write a checkpoint after the epochs it says (with the curve so far as its history)
    /// and, resuming, continue from its checkpoint (same σ, ledger, counters, generator and curve); null: none.</param>
    public static FineTuneOutcome Train(
        TextTrainingMode mode,
        nn.Module<Tensor, Tensor> model,
        Tensor inputs,
        Tensor labels,
        TextHyperparameters h,
        double targetEpsilon,
        double delta,
        long seed,
        bool seededNoise,
        Func<nn.Module<Tensor, Tensor>, double>? curve,
        string label,
        IProgress<ProgressUpdate>? progress,
        RunCheckpoints? checkpoints = null)
    {
        var clock = Stopwatch.StartNew();
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        var trainableCount = trainable.Sum(p => p.numel());
        var totalCount = model.parameters().Sum(p => p.numel());
        var points = new List<CurvePoint>();
        // Two groups: the body (or the adapters) at the learning rate, the new head at its own.
        var named = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var head = named.Where(p => p.name.StartsWith("output.", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        var body = named.Where(p => !p.name.StartsWith("output.", StringComparison.Ordinal)).Select(p => p.parameter).ToList();
        using var optimizer = optim.Adam(
            [new TorchSharp.Modules.Adam.ParamGroup(body, h.LearningRate), new TorchSharp.Modules.Adam.ParamGroup(head, h.HeadLearningRate ?? h.LearningRate)], h.LearningRate);
        var n = inputs.shape[0];
        var inv = CultureInfo.InvariantCulture;
        if (!mode.IsPrivate())
        {
            var epochs = (int)Math.Ceiling(h.Epochs);
            var perEpoch = (n + h.BatchSize - 1) / h.BatchSize;
            var total = (long)Math.Ceiling(h.Epochs * n / h.BatchSize);
            Say(progress, $"[{label}] NOT PRIVATE: ordinary fine-tuning of {trainableCount} parameters, shuffled batches of {h.BatchSize}, Adam lr {h.LearningRate.ToString("G4", inv)}, {total} steps");
            torch.manual_seed(seed);
            long step = 0;
            for (var epoch = 1; epoch <= epochs && step < total; epoch++)
            {
                model.train();
                double lossSum = 0, correct = 0, seen = 0;
                using var order = torch.randperm(n);
                for (long start = 0; start < n && step < total; start += h.BatchSize)
                {
                    using (torch.NewDisposeScope())
                    {
                        var idx = order.narrow(0, start, Math.Min(h.BatchSize, n - start));
                        var (x, y) = (inputs.index_select(0, idx), labels.index_select(0, idx));
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
                    Report(progress, clock, epoch, epochs, step, total, lossSum, correct, seen, null);
                }

                if (curve is not null)
                {
                    points.Add(new CurvePoint(epoch, double.PositiveInfinity, curve(model)));
                }
            }

            return new FineTuneOutcome(model, double.PositiveInfinity, null, null, null, step, trainableCount, totalCount, points, clock.Elapsed.TotalSeconds);
        }

        var engine = new PrivacyEngine(AccountantKind.Pld);
        var options = new DpSgdOptions
        {
            MaxGradNorm = h.MaxGradNorm,
            ExpectedBatchSize = h.BatchSize,
            MaxPhysicalBatchSize = h.PhysicalBatchSize,
            Seed = seededNoise ? seed : null,
        };
        using var training = engine.MakePrivateWithEpsilon(model, optimizer, inputs, labels, options, targetEpsilon, delta, h.Epochs);
        var schedule = training.Schedule ?? throw new InvalidOperationException("A calibrated training has a schedule.");
        var sigma = training.Options.NoiseMultiplier;
        var q = training.Loader.SamplingProbability;
        Say(
            progress,
            $"[{label}] DP-SGD on {trainableCount} of {totalCount} parameters: σ = {sigma.ToString("G6", inv)} (calibrated for ε ≤ {PrivacyStatement.Format(targetEpsilon)} " +
            $"at δ = {PrivacyStatement.Delta(delta)}), C = {PrivacyStatement.Format(h.MaxGradNorm)}, q = {q.ToString("G5", inv)} (expected batch {h.BatchSize}), " +
            $"{RunAccounting.Describe(schedule)}, Adam lr {h.LearningRate.ToString("G4", inv)}");
        checkpoints?.Restore(s => engine.LoadCheckpoint(s, training), sigma);
        var (first, steps) = checkpoints?.Start ?? (1, 0L);
        // The curve of the epochs before a resumed run's checkpoint is the checkpoint's history (their accuracy as TestAccuracy).
        var history = new List<EpochMetrics>(checkpoints?.Resumed?.History ?? []);
        points.AddRange(history.Select(m => new CurvePoint(m.Epoch, m.Epsilon ?? double.PositiveInfinity, m.TestAccuracy)));
        double? epsSoFar = null;
        var planned = (int)schedule.Epochs;
        var meter = new CrossEntropyMeter(model);
        for (var epoch = first; epoch <= planned; epoch++)
        {
            model.train();
            meter.Reset();

            foreach (var batch in training.Loader)
            {
                using (torch.NewDisposeScope())
                {
                    training.Optimizer.Step(batch, meter.PerExampleLoss);
                }

                steps++;
                Report(progress, clock, epoch, planned, steps, schedule.TotalSteps, meter.LossSum, meter.Correct, meter.Seen, epsSoFar);
            }

            epsSoFar = engine.GetEpsilon(delta);
            if (curve is not null)
            {
                var point = new CurvePoint(epoch, epsSoFar.Value, curve(model));
                points.Add(point);
                history.Add(new EpochMetrics(
                    epoch, steps, meter.Seen > 0 ? meter.LossSum / meter.Seen : double.NaN, meter.Seen > 0 ? meter.Correct / meter.Seen : double.NaN,
                    point.Accuracy, point.Epsilon, null, (checkpoints?.SecondsBefore ?? 0) + clock.Elapsed.TotalSeconds));
            }

            if (checkpoints?.Due(epoch, planned) == true)
            {
                checkpoints.Write(
                    new TrainCheckpoint(epoch, steps, seed, sigma, checkpoints.SecondsBefore + clock.Elapsed.TotalSeconds, history),
                    s => engine.SaveCheckpoint(s, training));
            }
        }

        var interval = engine.GetEpsilonInterval(delta);
        var epsilon = interval.Upper;
        if (epsilon > targetEpsilon * (1 + 1e-9))
        {
            throw new InvalidOperationException($"[{label}] ε = {epsilon} exceeds the target {targetEpsilon}: the run did not follow its plan.");
        }

        return new FineTuneOutcome(model, epsilon, interval.Lower, sigma, q, steps, trainableCount, totalCount, points, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Accuracy of <paramref name="model"/> on (<paramref name="inputs"/>, <paramref name="labels"/>): eval mode, no gradients, batched.</summary>
    public static double Accuracy(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor labels)
    {
        var wasTraining = model.training;
        model.eval();
        using var noGrad = torch.no_grad();
        var m = inputs.shape[0];
        long correct = 0;
        for (long start = 0; start < m; start += EvalBatch)
        {
            using var scope = torch.NewDisposeScope();
            var length = Math.Min(EvalBatch, m - start);
            var logits = model.call(inputs.narrow(0, start, length));
            correct += logits.argmax(1).eq(labels.narrow(0, start, length)).sum().item<long>();
        }

        model.train(wasTraining);
        return m == 0 ? double.NaN : (double)correct / m;
    }

    private static void Report(
        IProgress<ProgressUpdate>? progress, Stopwatch clock, int epoch, int epochs, long step, long total, double lossSum, double correct, double seen, double? eps)
    {
        if (progress is null)
        {
            return;
        }

        var left = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / step * Math.Max(0, total - step));
        progress.Report(ProgressUpdate.StepDone(new StepStatus(
            epoch, epochs, step, total, seen > 0 ? lossSum / seen : double.NaN, seen > 0 ? correct / seen : double.NaN, eps, left)));
    }

    private static void Say(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Message(line));
}
