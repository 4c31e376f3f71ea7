using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Experiments.Reports;
using ScottPlot;

namespace DiffPriv.Experiments.TextClassification;

/// <summary>The run folder of the text-classification experiment: report.md, results.json, accuracy-vs-epsilon.png, command.txt.</summary>
public static class TextClassificationReport
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The JSON object printed by <c>--json</c> and saved as results.json.</summary>
    /// <param name="r">A finished run.</param>
    /// <returns><c>{"target_epsilon", "delta", "results": [{"setting", "test_accuracy", "epsilon", "trainable_parameters", "wall_seconds", …}], "run_dir", …}</c>.</returns>
    public static JsonObject SummaryJson(TextClassificationResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var results = new JsonArray();
        foreach (var o in r.Outcomes)
        {
            results.Add(new JsonObject
            {
                ["setting"] = o.Mode.Name(),
                ["test_accuracy"] = o.TestAccuracy,
                ["epsilon"] = PrivacyStatement.JsonNumber(o.Epsilon),
                ["trainable_parameters"] = o.TrainableParameters,
                ["wall_seconds"] = Math.Round(o.WallSeconds, 1),
                ["total_parameters"] = o.TotalParameters,
                ["noise_multiplier"] = o.NoiseMultiplier,
                ["sampling_probability"] = o.SamplingProbability,
                ["steps"] = o.Steps,
            });
        }

        return new JsonObject
        {
            ["target_epsilon"] = r.Settings.TargetEpsilon,
            ["delta"] = r.Settings.Delta,
            ["results"] = results,
            ["run_dir"] = r.RunDir,
            ["quick"] = r.Settings.IsQuick,
            ["train_reviews"] = r.TrainReviews,
            ["test_reviews"] = r.TestReviews,
            ["max_tokens"] = r.Settings.MaxTokens,
            ["vocabulary_size"] = r.VocabularySize,
            ["pretrained_weights_cached"] = r.PretrainingLoaded,
            ["wall_seconds"] = Math.Round(r.WallSeconds, 1),
        };
    }

    /// <summary>Writes the run folder's files.</summary>
    /// <param name="r">A finished run.</param>
    public static void Write(TextClassificationResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        Directory.CreateDirectory(r.RunDir);
        File.WriteAllText(Path.Combine(r.RunDir, "command.txt"), r.Settings.CommandLine + "\n");
        File.WriteAllText(Path.Combine(r.RunDir, "results.json"), SummaryJson(r).ToJsonString(Indented) + "\n");
        Plot(r);
        File.WriteAllText(Path.Combine(r.RunDir, "report.md"), Markdown(r));
    }

    private static void Plot(TextClassificationResult r)
    {
        var plot = new Plot();
        foreach (var o in r.Outcomes.Where(o => o.Mode.IsPrivate()))
        {
            // The curve's points (ε after each epoch, accuracy on the curve's reviews) end in the full test accuracy.
            var xs = o.Curve.Select(p => p.Epsilon).Append(o.Epsilon).ToArray();
            var ys = o.Curve.Select(p => 100 * p.Accuracy).Append(100 * o.TestAccuracy).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = o.Mode.Name();
        }

        if (r.Outcomes.FirstOrDefault(o => !o.Mode.IsPrivate()) is { } plain)
        {
            var line = plot.Add.HorizontalLine(100 * plain.TestAccuracy);
            line.LegendText = "non-private (ε = ∞)";
            line.LinePattern = LinePattern.Dashed;
        }

        plot.Title($"IMDB sentiment: test accuracy against ε (δ = {PrivacyStatement.Delta(r.Settings.Delta)})");
        plot.XLabel("ε spent (after each epoch)");
        plot.YLabel("accuracy (%)");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(Path.Combine(r.RunDir, "accuracy-vs-epsilon.png"), 800, 500);
    }

    private static string Markdown(TextClassificationResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = r.Settings;
        var b = new StringBuilder();
        b.AppendLine(inv, $"# diffpriv experiment text-classification{(s.IsQuick ? " (quick)" : "")}");
        b.AppendLine();
        b.AppendLine("```bash");
        b.AppendLine(s.CommandLine);
        b.AppendLine("```");
        b.AppendLine();
        b.AppendLine($"IMDB movie-review sentiment: {r.TrainReviews} training and {r.TestReviews} test reviews of the seeded 25 000 / 25 000 split " +
            $"(seed {Datasets.Text.ImdbReviews.SplitSeed}). Every private setting is calibrated for ε = {PrivacyStatement.Format(s.TargetEpsilon)} at " +
            $"δ = {PrivacyStatement.Delta(s.Delta)}; its ε below is read from the PLD accountant's ledger of the steps that ran.");
        b.AppendLine();
        b.AppendLine("| setting | test accuracy | ε | trainable (noised) parameters | of | σ | q | steps | epochs | batch | Adam lr | wall time |");
        b.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var o in r.Outcomes)
        {
            var h = s.For(o.Mode);
            b.AppendLine(
                $"| {o.Mode.Name()} | **{(100 * o.TestAccuracy).ToString("F2", inv)}%** | {(o.Mode.IsPrivate() ? o.Epsilon.ToString("F3", inv) : "∞ (not private)")} | " +
                $"{o.TrainableParameters} | {o.TotalParameters} | {(o.NoiseMultiplier is { } sigma ? sigma.ToString("G4", inv) : "none")} | " +
                $"{(o.SamplingProbability is { } q ? q.ToString("G4", inv) : "-")} | {o.Steps} | {h.Epochs.ToString(inv)} | {h.BatchSize} | " +
                $"{h.LearningRate.ToString("G3", inv)}{(h.HeadLearningRate is { } headRate ? $" (head {headRate.ToString("G3", inv)})" : "")} | {o.WallSeconds.ToString("F0", inv)} s |");
        }

        b.AppendLine();
        b.AppendLine("![accuracy against ε](accuracy-vs-epsilon.png)");
        b.AppendLine();
        b.AppendLine(inv, $"The curve: after every epoch, ε spent so far and the accuracy on the first {Math.Min(s.CurveReviews, r.TestReviews)} test reviews; each line ends at the setting's full test accuracy.");
        b.AppendLine();
        b.AppendLine("## The model and what is public");
        b.AppendLine();
        var p = s.Pretraining;
        b.AppendLine($"- Model: causal transformer classifier (ModelZoo.CausalTransformerClassifier): word embedding {r.VocabularySize} × {p.ModelDimension}, " +
            $"{p.Layers} layers, {p.Heads} heads, feed-forward {p.Feedforward}, mean over the review's tokens, linear head; at most {s.MaxTokens} tokens per review " +
            "(the first and last halves of a longer one).");
        b.AppendLine($"- Public pretraining: next-word prediction on {string.Join(", ", p.Corpora)} ({p.Steps} Adam steps of {p.BatchSize} windows of {p.SequenceLength} tokens); " +
            $"weights {Path.GetFileName(r.PretrainedWeights)} ({(r.PretrainingLoaded ? "loaded from the cache" : "pretrained by this run")}, {r.PretrainingSeconds.ToString("F0", inv)} s) with a provenance sidecar.");
        b.AppendLine($"- Vocabulary: the {r.VocabularySize - 2} most frequent words of the public pretraining text, never of the reviews; " +
            $"{(100 * r.UnknownRate).ToString("F1", inv)}% of the training reviews' tokens are outside it (read as one unknown-word id).");
        b.AppendLine(inv, $"- dp-lora: rank-{s.DpLora.LoraRank} adapters on {string.Join(", ", TextFineTuner.LoraTargets)} of every layer, plus the head; the rest frozen.");
        b.AppendLine($"- Noise: {(s.SeededNoise ? $"SEEDED ({s.Seed}): reproducible, for experiments only, NOT secret" : "secure (OS CSPRNG)")}; clipping C = " +
            $"{PrivacyStatement.Format(s.DpFull.MaxGradNorm)} per example; Poisson sampling. Privacy unit: example (one review): ε is per review.");
        b.AppendLine();
        b.AppendLine(inv, $"Total wall time {r.WallSeconds.ToString("F0", inv)} s.");
        return b.ToString();
    }
}
