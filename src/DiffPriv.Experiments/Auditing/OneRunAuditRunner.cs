using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Auditing.OneRun;
using DiffPriv.Datasets;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using DiffPriv.Models;
using DiffPriv.Queries;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Experiments.Auditing;

/// <summary>
/// Runs <c>diffpriv audit one-run</c>: trains TF Privacy's MNIST CNN once with DP-SGD (or without noise) and m canaries,
/// each included with probability ½, and bounds ε from below with the one-run audit of Steinke, Nasr &amp; Jagielski
/// (NeurIPS 2023). Writes one-run.json into the run folder.
/// </summary>
/// <param name="settings">The run's settings.</param>
/// <param name="progress">Receives log lines, synchronously; may be null.</param>
public sealed class OneRunAuditRunner(OneRunAuditSettings settings, IProgress<ProgressUpdate>? progress = null)
{
    /// <summary>The file with every number of the run, written into the run folder.</summary>
    public const string ResultsFile = "one-run.json";

    /// <summary>Trains, audits and writes the run folder.</summary>
    /// <returns>The accountant's ε beside the audit's lower bound.</returns>
    /// <exception cref="ArgumentException">A setting is out of range or does not fit the data.</exception>
    public OneRunAuditRunResult Run()
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var clock = Stopwatch.StartNew();
        TorchRuntime.EnsureLoaded();
        using var data = ImageDatasets.Load(DatasetName.Mnist, settings.TrainExamples, null, m => progress?.Report(ProgressUpdate.Detail(m)));
        var runDir = RunFolder.Resolve(settings.OutDir, "one-run");
        Directory.CreateDirectory(runDir);

        // The canary design and the secret coin flips: seeded, drawn before training, never looked at by the scoring.
        var rng = new Random(unchecked((int)settings.Seed ^ 0x0a0d17));
        torch.manual_seed(settings.Seed);
        var model = ModelZoo.MnistCnn(Activation.Tanh);
        using var optimizer = optim.SGD(model.parameters(), settings.LearningRate, momentum: 0.9);
        var n = data.TrainInputs.shape[0];
        if (settings.BatchSize > n)
        {
            throw new ArgumentException($"--batch-size must be in [1, N = {n}] (got {settings.BatchSize})");
        }

        using var scope = torch.NewDisposeScope();
        GradientCanaries? gradientCanaries = null;
        InputCanaries? inputCanaries = null;
        var (trainX, trainY, testX, testY) = (data.TrainInputs, data.TrainTargets, data.TestInputs, data.TestTargets);
        double expectedBatch = settings.BatchSize;
        if (settings.Kind == CanaryKind.Gradient)
        {
            var sample = Math.Min(n, 2048);
            gradientCanaries = GradientCanaryDesign.Draw(model, settings.Canaries, data.TrainInputs.narrow(0, 0, sample), data.TrainTargets.narrow(0, 0, sample), rng);
        }
        else
        {
            inputCanaries = InputCanaries.Draw(data.TestInputs, data.TestTargets, settings.Canaries, rng);
            (trainX, trainY) = inputCanaries.AppendIncluded(data.TrainInputs, data.TrainTargets);
            (testX, testY) = (inputCanaries.RestInputs, inputCanaries.RestTargets);

            // Keep q = B/N whatever the number of included canaries, so that q does not depend on the coin flips.
            expectedBatch = settings.BatchSize * (double)trainX.shape[0] / n;
        }

        var included = gradientCanaries?.Included ?? inputCanaries!.Included;
        Say(
            $"diffpriv audit one-run: {settings.Canaries} {(settings.Kind == CanaryKind.Gradient ? "white-box gradient" : "black-box input")} canaries " +
            $"({included.Count(i => i)} included by fair coins), MNIST CNN on {n} examples, run folder {runDir}");

        var engine = new PrivacyEngine(AccountantKind.Pld);
        var options = new DpSgdOptions
        {
            MaxGradNorm = settings.MaxGradNorm,
            ExpectedBatchSize = expectedBatch,
            Epochs = settings.Epochs,
            Seed = settings.Seed,
            NoiseMultiplier = settings.NoDp ? 0 : double.NaN,
            AllowNoNoise = settings.NoDp,
            Query = gradientCanaries is null
                ? null
                : new CanaryGradientQuery(
                    new GaussianSumQuery(PerSample.ClippingOptions.Flat(settings.MaxGradNorm), settings.NoDp ? 0 : 1, allowNoNoise: settings.NoDp),
                    gradientCanaries),
        };
        using var training = settings.NoDp
            ? engine.MakePrivate(model, optimizer, trainX, trainY, options)
            : engine.MakePrivateWithEpsilon(model, optimizer, trainX, trainY, options, settings.TargetEpsilon, settings.Delta, settings.Epochs);
        var sigma = training.Optimizer.Query.NoiseMultiplier;
        Say(string.Create(
            CultureInfo.InvariantCulture,
            $"{(settings.NoDp ? "no noise (σ = 0, ε = ∞; clipping and sampling as with DP)" : $"DP-SGD: σ = {sigma:G6} for ε ≤ {PrivacyStatement.Format(settings.TargetEpsilon)} at δ = {PrivacyStatement.Delta(settings.Delta)}")}, " +
            $"C = {PrivacyStatement.Format(settings.MaxGradNorm)}, q = {training.Loader.SamplingProbability:G4}, {settings.Epochs} epochs"));

        long steps = 0;
        for (var epoch = 1; epoch <= settings.Epochs; epoch++)
        {
            model.train();
            foreach (var batch in training.Loader)
            {
                using (torch.NewDisposeScope())
                {
                    training.Optimizer.Step(batch, (x, y) => F.cross_entropy(model.call(x), y, reduction: nn.Reduction.None));
                }

                steps++;
            }

            Say($"epoch {epoch}/{settings.Epochs}: {steps} steps, {clock.Elapsed.TotalSeconds:F0} s");
        }

        var scores = gradientCanaries?.Scores ?? inputCanaries!.Scores(model);
        var audit = OneRunAudit.Run(scores, included, new OneRunAuditOptions { Delta = settings.Delta, Confidence = settings.Confidence });
        var epsilon = settings.NoDp ? double.PositiveInfinity : engine.GetEpsilonInterval(settings.Delta).Upper;
        var accuracy = ModelScores.Compute(model, testX, testY).Accuracy;
        var result = new OneRunAuditRunResult(settings, epsilon, sigma, steps, n, accuracy, audit, clock.Elapsed.TotalSeconds, runDir);
        File.WriteAllText(Path.Combine(runDir, ResultsFile), ToJson(result, scores, included).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Say(string.Create(
            CultureInfo.InvariantCulture,
            $"one-run audit: ε ≥ {audit.EpsilonLowerBound:F3} ({audit.CorrectGuesses}/{audit.Guesses} guesses right, {100 * audit.Confidence:G3}% confidence; " +
            $"at most {audit.MaxCertifiable:F2} can be certified with {audit.Canaries} canaries); accountant ε = {(double.IsFinite(epsilon) ? epsilon.ToString("F3", CultureInfo.InvariantCulture) : "∞")}"));
        model.Dispose();
        return result;
    }

    /// <summary>The run as JSON (settings, accounting, audit with every guess count, and the canaries' scores and coins).</summary>
    internal static JsonObject ToJson(OneRunAuditRunResult r, IReadOnlyList<double> scores, IReadOnlyList<bool> included) => new()
    {
        ["canary_kind"] = r.Settings.Kind == CanaryKind.Gradient ? "white-box" : "black-box",
        ["no_dp"] = r.Settings.NoDp,
        ["target_epsilon"] = r.Settings.NoDp ? null : r.Settings.TargetEpsilon,
        ["epsilon"] = double.IsFinite(r.Epsilon) ? r.Epsilon : null,
        ["delta"] = r.Settings.Delta,
        ["noise_multiplier"] = r.NoiseMultiplier,
        ["max_grad_norm"] = r.Settings.MaxGradNorm,
        ["batch_size"] = r.Settings.BatchSize,
        ["epochs"] = r.Settings.Epochs,
        ["steps"] = r.Steps,
        ["train_examples"] = r.TrainExamples,
        ["seed"] = r.Settings.Seed,
        ["test_accuracy"] = r.TestAccuracy,
        ["epsilon_lower_bound"] = r.Audit.EpsilonLowerBound,
        ["canaries"] = r.Audit.Canaries,
        ["guesses"] = r.Audit.Guesses,
        ["correct_guesses"] = r.Audit.CorrectGuesses,
        ["confidence"] = r.Audit.Confidence,
        ["corrected_confidence"] = r.Audit.CorrectedConfidence,
        ["max_certifiable"] = r.Audit.MaxCertifiable,
        ["candidates"] = new JsonArray([.. r.Audit.Candidates.Select(c => (JsonNode)new JsonObject
        {
            ["guesses"] = c.Guesses,
            ["correct_guesses"] = c.CorrectGuesses,
            ["epsilon_lower_bound"] = c.EpsilonLowerBound,
        })]),
        ["scores"] = new JsonArray([.. scores.Select(s => (JsonNode?)s)]),
        ["included"] = new JsonArray([.. included.Select(i => (JsonNode?)i)]),
        ["seconds"] = r.Seconds,
        ["run_dir"] = r.RunDir,
    };

    private void Say(string line) => progress?.Report(ProgressUpdate.Message(line));
}
