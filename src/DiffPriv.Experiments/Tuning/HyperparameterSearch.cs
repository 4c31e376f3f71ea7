using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Accounting.Tuning;
using DiffPriv.Datasets;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;

namespace DiffPriv.Experiments.Tuning;

/// <summary>
/// A hyperparameter search whose privacy cost is accounted (Papernot and Steinke, "Hyperparameter Tuning with Renyi
/// Differential Privacy", ICLR 2022): a secret number of runs K is drawn from <see cref="RunCountDistribution"/>; each run
/// picks a candidate from the grid uniformly at random, trains with DP-SGD at one σ, and is scored on a validation split
/// of the public test set; only the best run is kept. The whole search is one <c>repeat_and_select</c> event, and σ is
/// calibrated so that its ε (RDP) meets the target.
/// </summary>
/// <param name="settings">The base run: everything but the learning rate, the clipping norm and σ. Needs
/// <see cref="TrainSettings.ValidationExamples"/> &gt; 0 and a target ε (the whole search's).</param>
/// <param name="candidates">The grid, at least one candidate, chosen before seeing any data.</param>
/// <param name="runs">The distribution of the number of runs.</param>
/// <param name="progress">Receives log lines and step updates; may be null. Progress is the operator's view: it shows each
/// run, so it is not part of what may be published.</param>
public sealed class HyperparameterSearch(TrainSettings settings, IReadOnlyList<SearchCandidate> candidates, RunCountDistribution runs, IProgress<ProgressUpdate>? progress = null)
{
    /// <summary>Runs the search and writes its folder: <c>report.md</c>, <c>search.json</c>, and <c>selected/</c>, the
    /// selected run's own folder. The other runs' folders are deleted.</summary>
    /// <returns>The selected run and the search's guarantee.</returns>
    /// <exception cref="ArgumentException">The settings or the grid are invalid.</exception>
    public SearchResult Run()
    {
        Validate();
        var delta = settings.Delta;
        var target = settings.TargetEpsilon!.Value;

        // Every candidate shares q and the step count (only the learning rate and C differ), so one run's event covers all.
        long n;
        using (var counted = ImageDatasets.Load(settings.Dataset, settings.TrainLimit, settings.TestLimit))
        {
            n = counted.TrainInputs.shape[0];
        }

        if (settings.BatchSize > n)
        {
            throw new ArgumentException($"--batch-size must be in [1, N = {n}] (got {settings.BatchSize})", nameof(settings));
        }

        var schedule = StepSchedule.FromEpochs(n, settings.BatchSize, settings.Epochs);
        var q = schedule.SamplingProbability;
        var steps = schedule.TotalSteps;
        var calibration = NoiseCalibration.CalibrateNoiseMultiplier(
            sigma => runs.Event(DpSgdCalibration.RunEvent(q, sigma, steps)), target, delta, AccountantKind.Rdp);
        var sigma = calibration.NoiseMultiplier;
        var searchEpsilon = PrivacyAccountants.Create(AccountantKind.Rdp).Compose(runs.Event(DpSgdCalibration.RunEvent(q, sigma, steps))).GetEpsilon(delta);
        var runEpsilon = PrivacyAccountants.Create(AccountantKind.Pld).Compose(DpSgdCalibration.RunEvent(q, sigma, steps)).GetEpsilon(delta);

        var runDir = RunFolder.Resolve(settings.OutDir, $"tune-{settings.DatasetId}");
        Directory.CreateDirectory(runDir);
        Say($"private hyperparameter search over {candidates.Count} candidates, a secret number of runs with mean {Format(runs.Mean)} " +
            $"(shape {Format(runs.Shape)}): σ = {sigma.ToString("G6", CultureInfo.InvariantCulture)} per run makes the whole search ε ≤ {Format(target)} " +
            $"(one run alone: ε = {runEpsilon.ToString("F3", CultureInfo.InvariantCulture)}); folder {runDir}");

        // The secret randomness: K and each run's candidate, from the secure generator unless the run is seeded.
        var random = settings.Seed is { } s ? new Random(unchecked((int)(s ^ (s >> 32)) ^ 0x5eed)) : null;
        double Uniform() => random?.NextDouble() ?? (RandomNumberGenerator.GetInt32(int.MaxValue) / (double)int.MaxValue);
        var k = runs.Sample(Uniform());

        var workDir = Path.Combine(runDir, "runs");
        TrainResult? best = null;
        SearchCandidate? bestCandidate = null;
        for (var i = 0; i < k; i++)
        {
            var candidate = candidates[random?.Next(candidates.Count) ?? RandomNumberGenerator.GetInt32(candidates.Count)];
            var run = new TrainRunner(
                settings with
                {
                    NoiseMultiplier = sigma,
                    TargetEpsilon = null,
                    LearningRate = candidate.LearningRate,
                    MaxGradNorm = candidate.MaxGradNorm,
                    OutDir = Path.Combine(workDir, $"run-{i + 1}"),
                    Seed = settings.Seed is { } seed ? seed + i + 1 : null,
                },
                progress)
            {
                // No settings.json or resume.bin: their path and seed would tell the selected run's index (a bound on K).
                ResumeFiles = false,
            }.Run();
            if (best is null || run.ValidationAccuracy > best.ValidationAccuracy)
            {
                best = run;
                bestCandidate = candidate;
            }
        }

        // K = 0 (possible under Poisson only): nothing is selected and nothing is released but the fact.
        string? selectedDir = null;
        if (best is not null)
        {
            selectedDir = Path.Combine(runDir, "selected");
            Directory.Move(best.RunDir, selectedDir);
            best = best with { RunDir = selectedDir };
        }

        if (Directory.Exists(workDir))
        {
            Directory.Delete(workDir, recursive: true);
        }

        if (best is null)
        {
            throw new SearchSelectedNothingException(runDir);
        }

        var result = new SearchResult(best, bestCandidate!, candidates, runs.Mean, runs.Shape, sigma, searchEpsilon, delta, runEpsilon, runDir);
        File.WriteAllText(Path.Combine(runDir, "search.json"), SummaryJson(result).ToJsonString());
        File.WriteAllText(Path.Combine(runDir, "report.md"), Report(result));
        File.WriteAllText(Path.Combine(runDir, "command.txt"), settings.CommandLine + Environment.NewLine);
        return result;
    }

    /// <summary>The JSON summary: the guarantee, the grid, the selected candidate and its accuracies; never K.</summary>
    /// <param name="r">The result.</param>
    /// <returns>The JSON object.</returns>
    public static JsonObject SummaryJson(SearchResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var grid = new JsonArray();
        foreach (var c in r.Candidates)
        {
            grid.Add(new JsonObject { ["learning_rate"] = c.LearningRate, ["max_grad_norm"] = c.MaxGradNorm });
        }

        return new JsonObject
        {
            ["epsilon"] = PrivacyStatement.JsonNumber(r.Epsilon),
            ["delta"] = r.Delta,
            ["accountant"] = "rdp",
            ["event"] = "repeat_and_select",
            ["runs_mean"] = r.RunsMean,
            ["runs_shape"] = PrivacyStatement.JsonNumber(r.RunsShape),
            ["noise_multiplier"] = r.NoiseMultiplier,
            ["run_epsilon"] = PrivacyStatement.JsonNumber(r.RunEpsilon),
            ["sampling_probability"] = r.Selected.SamplingProbability,
            ["steps"] = r.Selected.Steps,
            ["candidates"] = grid,
            ["selected"] = new JsonObject { ["learning_rate"] = r.Candidate.LearningRate, ["max_grad_norm"] = r.Candidate.MaxGradNorm },
            ["validation_accuracy"] = r.Selected.ValidationAccuracy,
            ["test_accuracy"] = r.Selected.TestAccuracy,
            ["validation_examples"] = r.Selected.Settings.ValidationExamples,
            ["test_examples"] = r.Selected.TestExamples,
            ["run_dir"] = r.RunDir,
        };
    }

    private static string Report(SearchResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var shape = double.IsPositiveInfinity(r.RunsShape) ? "Poisson" : r.RunsShape == 1 ? "geometric" : r.RunsShape == 0 ? "logarithmic" : $"truncated negative binomial, shape {Format(r.RunsShape)}";
        return $"""
            # Private hyperparameter search ({r.Selected.Settings.DatasetId})

            ## Privacy
            The whole search satisfies **(ε = {r.Epsilon.ToString("F3", inv)}, δ = {PrivacyStatement.Delta(r.Delta)})-DP** for each training
            example (add or remove one; RDP accountant, dp_accounting's `repeat_and_select` event: Papernot and Steinke 2022).
            The number of runs was secret, drawn from the {shape} distribution with mean {Format(r.RunsMean)}; every run used
            σ = {r.NoiseMultiplier.ToString("G6", inv)} (one run alone: ε = {r.RunEpsilon.ToString("F3", inv)} by PLD). Only the selected run is
            released: the number of runs and the other runs' results are not, and their folders were deleted. The console
            log of the search shows them and is for the operator only.

            ## Grid (fixed before the search)
            {string.Join(Environment.NewLine, r.Candidates.Select(c => $"- learning rate {Format(c.LearningRate)}, C = {Format(c.MaxGradNorm)}"))}

            ## Selected
            Learning rate {Format(r.Candidate.LearningRate)}, C = {Format(r.Candidate.MaxGradNorm)}: validation accuracy
            {(100 * r.Selected.ValidationAccuracy!.Value).ToString("F2", inv)}% on the first {r.Selected.Settings.ValidationExamples} test examples (used to select),
            test accuracy **{(100 * r.Selected.TestAccuracy).ToString("F2", inv)}%** on the other {r.Selected.TestExamples} (not used to select).
            The selected run's own report, metrics and checkpoint are in `selected/`; its ε there is one run's, the search's is above.

            """;
    }

    private void Validate()
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(runs);
        if (settings.NoDp)
        {
            throw new ArgumentException("a private search needs DP training (not --no-dp)", nameof(settings));
        }

        if (settings.TargetEpsilon is not { } t || !(t > 0 && double.IsFinite(t)) || settings.NoiseMultiplier is not null)
        {
            throw new ArgumentException("a private search needs --target-epsilon (the whole search's) and no --noise-multiplier", nameof(settings));
        }

        if (settings.ValidationExamples < 1)
        {
            throw new ArgumentException("a private search needs a validation split to select on (ValidationExamples ≥ 1)", nameof(settings));
        }

        if (settings.Mechanism != MechanismKind.DpSgd)
        {
            throw new ArgumentException("a private search runs DP-SGD (its runs are accounted as Poisson-sampled Gaussian steps), not --mechanism dp-ftrl", nameof(settings));
        }

        if (settings.Audit)
        {
            throw new ArgumentException("--audit does not apply to a search", nameof(settings));
        }

        if (candidates.Count == 0)
        {
            throw new ArgumentException("the grid needs at least one candidate", nameof(candidates));
        }

        foreach (var c in candidates)
        {
            if (!(c.LearningRate > 0 && double.IsFinite(c.LearningRate) && c.MaxGradNorm > 0 && double.IsFinite(c.MaxGradNorm)))
            {
                throw new ArgumentException($"every learning rate and clipping norm must be a finite number > 0 (got {Format(c.LearningRate)}, {Format(c.MaxGradNorm)})", nameof(candidates));
            }
        }
    }

    private void Say(string line) => progress?.Report(ProgressUpdate.Message(line));

    private static string Format(double value) => PrivacyStatement.Format(value);
}
