using System.Diagnostics;
using System.Globalization;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Tabular;

/// <summary>What <see cref="TabularClassifier.Train"/> did.</summary>
internal sealed record TabularTrainingOutcome(EpsilonInterval Epsilon, long Steps);

/// <summary>The classifiers of <c>diffpriv train csv</c> and their DP-SGD loop.</summary>
internal static class TabularClassifier
{
    /// <summary>
    /// A new classifier: logistic regression (one linear layer) or an MLP (linear, tanh, linear). The output layer starts at
    /// zero, so every row starts at the uniform prediction and the first noised steps move along the task's direction.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Create(TabularModelKind kind, int features, int classes, int hidden, long seed)
    {
        torch.manual_seed(seed);
        var output = nn.Linear(kind == TabularModelKind.Logistic ? features : hidden, classes);
        using (torch.no_grad())
        {
            output.weight!.zero_();
            output.bias!.zero_();
        }

        return kind == TabularModelKind.Logistic
            ? nn.Sequential(("output", output))
            : nn.Sequential(("hidden", nn.Linear(features, hidden)), ("tanh", nn.Tanh()), ("output", output));
    }

    /// <summary>
    /// Trains <paramref name="model"/> with DP-SGD (Poisson sampling, per-example clipping, Gaussian noise σ, Adam) for the
    /// steps of <paramref name="epochs"/> epochs, after recording <paramref name="preprocessing"/> in the same ledger, and
    /// returns the ε of that ledger (preprocessing and training composed by the PLD accountant). With
    /// <paramref name="checkpoints"/>, a checkpoint is written after the epochs it says, and a resumed run continues from
    /// its checkpoint, whose ledger already holds the preprocessing: it is recorded once either way.
    /// </summary>
    public static TabularTrainingOutcome Train(
        nn.Module<Tensor, Tensor> model,
        Tensor inputs,
        Tensor labels,
        IReadOnlyList<DpEvent> preprocessing,
        double sigma,
        double maxGradNorm,
        int batchSize,
        double epochs,
        double learningRate,
        double delta,
        long? noiseSeed,
        IProgress<ProgressUpdate>? progress,
        RunCheckpoints? checkpoints = null)
    {
        var clock = Stopwatch.StartNew();
        var engine = new PrivacyEngine(AccountantKind.Pld);
        if (checkpoints?.Resumed is null)
        {
            foreach (var e in preprocessing)
            {
                engine.Ledger.Record(e);
            }
        }

        using var optimizer = optim.Adam(model.parameters(), learningRate);
        var options = new DpSgdOptions
        {
            MaxGradNorm = maxGradNorm,
            ExpectedBatchSize = batchSize,
            NoiseMultiplier = sigma,
            Epochs = epochs,
            Seed = noiseSeed,
        };
        using var training = engine.MakePrivate(model, optimizer, inputs, labels, options);
        var schedule = training.Schedule ?? throw new InvalidOperationException("A planned training has a schedule.");
        var meter = new CrossEntropyMeter(model);
        checkpoints?.Restore(s => engine.LoadCheckpoint(s, training), sigma);
        var (first, steps) = checkpoints?.Start ?? (1, 0L);
        CheckChargedOnce(engine.Ledger, preprocessing, steps);
        double? epsSoFar = null;
        var planned = (int)schedule.Epochs;
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
                if (progress is not null)
                {
                    var left = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / steps * Math.Max(0, schedule.TotalSteps - steps));
                    progress.Report(ProgressUpdate.StepDone(new StepStatus(
                        epoch, planned, steps, schedule.TotalSteps, meter.Seen > 0 ? meter.LossSum / meter.Seen : double.NaN,
                        meter.Seen > 0 ? meter.Correct / meter.Seen : double.NaN, epsSoFar, left)));
                }
            }

            if (epoch == planned || epoch % 10 == 0)
            {
                epsSoFar = engine.GetEpsilon(delta);
            }

            if (checkpoints?.Due(epoch, planned) == true)
            {
                checkpoints.Write(
                    new TrainCheckpoint(epoch, steps, 0, sigma, checkpoints.SecondsBefore + clock.Elapsed.TotalSeconds, []),
                    s => engine.SaveCheckpoint(s, training));
            }
        }

        return new TabularTrainingOutcome(engine.GetEpsilonInterval(delta), steps);
    }

    /// <summary>
    /// Before the first step (new or resumed): the ledger is the preprocessing's events, each once, followed by the
    /// <paramref name="steps"/> steps already taken; anything else would misstate ε (a release charged twice or not at all).
    /// </summary>
    private static void CheckChargedOnce(PrivacyLedger ledger, IReadOnlyList<DpEvent> preprocessing, long steps)
    {
        var recorded = ledger.Entries.SelectMany(e => Enumerable.Repeat(e.Event, (int)Math.Min(e.Count, preprocessing.Count + 1))).Take(preprocessing.Count);
        if (ledger.TotalCount != preprocessing.Count + steps || !recorded.SequenceEqual(preprocessing))
        {
            throw new InvalidOperationException(
                $"The ledger holds {ledger.TotalCount} releases where the preprocessing's {preprocessing.Count} and {steps} steps were expected: the checkpoint is not this run's.");
        }
    }

    /// <summary>One line describing the DP-SGD run for progress output.</summary>
    public static string Describe(double sigma, double q, long steps, int batchSize, double maxGradNorm, double learningRate) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"DP-SGD: σ = {sigma:G6}, C = {PrivacyStatement.Format(maxGradNorm)}, q = {q:G5} (expected batch {batchSize}), {steps} steps, Adam lr {learningRate:G4}");
}
