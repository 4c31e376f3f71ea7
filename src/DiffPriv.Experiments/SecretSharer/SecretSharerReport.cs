using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Experiments.Models;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using ScottPlot;

namespace DiffPriv.Experiments.SecretSharer;

/// <summary>Writes the run folder of <c>experiment secret-sharer</c>: report.md, results.json, exposure.png, command.txt.</summary>
public static class SecretSharerReport
{
    /// <summary>What stands in for the non-private model's numbers when it was not trained (<c>--private-only</c>).</summary>
    public const string NotTrained = "not trained (--private-only)";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes the run folder's report.md and results.json.</summary>
    /// <param name="o">The finished experiment.</param>
    public static void Write(SecretSharerExperimentResult o)
    {
        Directory.CreateDirectory(o.RunDir);
        File.WriteAllText(Path.Combine(o.RunDir, "command.txt"), o.Settings.CommandLine + "\n");
        File.WriteAllText(Path.Combine(o.RunDir, "results.json"), Json(o, detailed: true).ToJsonString(Indented) + "\n");
        ExposurePlot(o);
        File.WriteAllText(Path.Combine(o.RunDir, "report.md"), Markdown(o));
    }

    /// <summary>
    /// The JSON object of <c>--json</c> (and, with details, results.json). Without a non-private model
    /// (<c>--private-only</c>) its values, the ratios and the acceptance shares are null and <c>private_only</c> is true.
    /// </summary>
    public static JsonObject Json(SecretSharerExperimentResult o, bool detailed = false)
    {
        ArgumentNullException.ThrowIfNull(o);
        var np = o.NonPrivate;
        var exposure = new JsonArray();
        foreach (var p in o.PrivateExposure.ByRepetition)
        {
            var r = o.NonPrivateExposure?.ByRepetition.Single(x => x.Repetitions == p.Repetitions);
            var item = new JsonObject
            {
                ["repetitions"] = p.Repetitions,
                ["non_private"] = r?.MeanExposureByRank,
                ["private"] = p.MeanExposureByRank,
            };
            if (detailed)
            {
                item["non_private_extrapolated"] = r?.MeanExposureByExtrapolation;
                item["private_extrapolated"] = p.MeanExposureByExtrapolation;
                item["canaries"] = p.Canaries;
            }

            exposure.Add(item);
        }

        var json = new JsonObject
        {
            ["perplexity"] = new JsonObject { ["non_private"] = np?.Perplexity, ["private"] = o.Private.Perplexity, ["ratio"] = o.Private.Perplexity / np?.Perplexity },
            ["bits_per_char"] = new JsonObject { ["non_private"] = np?.BitsPerChar, ["private"] = o.Private.BitsPerChar, ["ratio"] = o.Private.BitsPerChar / np?.BitsPerChar },
            ["accepted_by_both"] = o.Acceptance?.Both,
            ["accepted_only_non_private"] = o.Acceptance?.OnlyNonPrivate,
            ["accepted_only_private"] = o.Acceptance?.OnlyPrivate,
            ["exposure"] = exposure,
            ["max_exposure"] = o.PrivateExposure.MaxExposureByRank,
            ["private_only"] = np is null,
            ["target_epsilon"] = o.Settings.TargetEpsilon,
            ["epsilon"] = o.Accounting.Epsilon,
            ["delta"] = o.Settings.Delta,
            ["noise_multiplier"] = o.Accounting.NoiseMultiplier,
            ["steps"] = o.Accounting.Steps,
            ["pretraining"] = o.Pretraining is { } pt ? PretrainingJson(pt) : null,
            ["quick"] = o.Settings.IsQuick,
            ["wall_seconds"] = Math.Round(o.WallSeconds, 1),
            ["run_dir"] = o.RunDir,
        };
        if (detailed)
        {
            json["epsilon_lower"] = o.Accounting.EpsilonLower;
            json["epsilon_rdp"] = o.Accounting.RdpEpsilon;
            json["sampling_probability"] = o.Accounting.SamplingProbability;
            json["train_sequences"] = o.TrainSequences;
            json["test_sequences"] = o.TestSequences;
            json["references"] = o.Plan.References.Count;
            json["seconds"] = new JsonObject { ["non_private"] = np?.Seconds, ["private"] = o.Private.Seconds };
            var canaries = new JsonArray();
            for (var i = 0; i < o.Plan.Canaries.Count; i++)
            {
                var a = o.NonPrivateExposure?.Canaries[i];
                var b = o.PrivateExposure.Canaries[i];
                canaries.Add(new JsonObject
                {
                    ["secret"] = b.Secret,
                    ["repetitions"] = b.Repetitions,
                    ["non_private"] = a is null
                        ? null
                        : new JsonObject { ["score"] = a.Score, ["rank"] = a.Rank, ["exposure"] = a.ExposureByRank, ["exposure_extrapolated"] = a.ExposureByExtrapolation },
                    ["private"] = new JsonObject { ["score"] = b.Score, ["rank"] = b.Rank, ["exposure"] = b.ExposureByRank, ["exposure_extrapolated"] = b.ExposureByExtrapolation },
                });
            }

            json["canaries"] = canaries;
            if (o.Disagreements is { } disagreements)
            {
                var gaps = new JsonArray();
                foreach (var (text, copies, npScore, p) in disagreements)
                {
                    gaps.Add(new JsonObject { ["sequence"] = text, ["copies"] = copies, ["non_private"] = npScore, ["private"] = p });
                }

                json["disagreements"] = gaps;
            }
            else
            {
                json["disagreements"] = null;
            }
        }

        return json;
    }

    private static JsonObject PretrainingJson(PretrainingSummary pt)
    {
        var corpora = new JsonArray();
        foreach (var c in pt.Provenance?.Corpora ?? [])
        {
            corpora.Add(new JsonObject { ["name"] = c.Name, ["is_public"] = c.IsPublic, ["sequences"] = c.Sequences, ["epochs"] = c.Epochs });
        }

        return new JsonObject
        {
            ["corpus"] = pt.Corpus,
            ["sequences"] = pt.Sequences,
            ["epochs"] = pt.Epochs,
            ["perplexity"] = pt.Perplexity,
            ["seconds"] = pt.Loaded ? null : Math.Round(pt.Seconds, 1),
            ["loaded_from"] = pt.Loaded ? pt.WeightsFile : null,
            ["weights"] = pt.WeightsFile,
            ["sha256"] = pt.Provenance?.Sha256,
            ["corpora"] = corpora,
        };
    }

    /// <summary>Writes the human-readable summary printed at the end of a run.</summary>
    /// <param name="o">The finished experiment.</param>
    /// <param name="w">Where to write.</param>
    public static void WriteSummary(SecretSharerExperimentResult o, TextWriter w)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(w);
        w.WriteLine();
        if (o.Pretraining is { Loaded: true } pt)
        {
            w.WriteLine($"Started from {pt.WeightsFile} (sha256 {pt.Provenance?.Sha256}; public text only: {pt.Corpus})");
        }

        if (o.NonPrivate is { } np && o.Acceptance is { } acceptance && o.NonPrivateExposure is { } npx)
        {
            w.WriteLine($"Test perplexity per character: non-private {F(np.Perplexity, 4)}, private {F(o.Private.Perplexity, 4)} (ratio {F(o.Private.Perplexity / np.Perplexity, 4)}); bits/char {F(np.BitsPerChar, 4)} vs {F(o.Private.BitsPerChar, 4)}");
            w.WriteLine($"Training sentences accepted by both models: {P(acceptance.Both)} (only non-private {P(acceptance.OnlyNonPrivate)}, only private {P(acceptance.OnlyPrivate)})");
            w.WriteLine($"Exposure (bits; max {F(o.PrivateExposure.MaxExposureByRank, 2)} = log2 of {o.Plan.References.Count} references):");
            w.WriteLine("  r    non-private   private");
            foreach (var r in npx.ByRepetition)
            {
                var p = o.PrivateExposure.ByRepetition.Single(x => x.Repetitions == r.Repetitions);
                w.WriteLine($"  {r.Repetitions,-4} {F(r.MeanExposureByRank, 2),11}   {F(p.MeanExposureByRank, 2),9}");
            }
        }
        else
        {
            w.WriteLine($"Test perplexity per character: private {F(o.Private.Perplexity, 4)}, bits/char {F(o.Private.BitsPerChar, 4)}; non-private model {NotTrained}, so no ratio");
            w.WriteLine($"Training sentences accepted: no comparison (non-private model {NotTrained})");
            w.WriteLine($"Exposure of the private model (bits; max {F(o.PrivateExposure.MaxExposureByRank, 2)} = log2 of {o.Plan.References.Count} references; non-private {NotTrained}):");
            w.WriteLine("  r    private");
            foreach (var p in o.PrivateExposure.ByRepetition)
            {
                w.WriteLine($"  {p.Repetitions,-4} {F(p.MeanExposureByRank, 2),7}");
            }
        }

        w.WriteLine();
        w.Write(o.Accounting.Statement);
        w.WriteLine();
        w.WriteLine($"Run folder: {o.RunDir} (report.md, results.json, exposure.png, models), {o.WallSeconds:F0} s in all");
    }

    private static void ExposurePlot(SecretSharerExperimentResult o)
    {
        var plot = new Plot();
        var rs = o.PrivateExposure.ByRepetition.Select(r => Math.Log2(r.Repetitions)).ToArray();
        if (o.NonPrivateExposure is { } npx)
        {
            var np = plot.Add.Scatter(rs, npx.ByRepetition.Select(r => r.MeanExposureByRank).ToArray());
            np.LegendText = "non-private";
        }

        var p = plot.Add.Scatter(rs, o.PrivateExposure.ByRepetition.Select(r => r.MeanExposureByRank).ToArray());
        p.LegendText = $"private (ε = {F(o.Accounting.Epsilon, 2)})";
        var max = plot.Add.HorizontalLine(o.PrivateExposure.MaxExposureByRank);
        max.LegendText = "maximum (rank 1)";
        max.LinePattern = LinePattern.Dashed;
        var chance = plot.Add.HorizontalLine(1 / Math.Log(2));
        chance.LegendText = "chance (log2 e ≈ 1.44 bits: mean for a random rank)";
        chance.LinePattern = LinePattern.Dotted;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            rs, o.PrivateExposure.ByRepetition.Select(r => r.Repetitions.ToString(Inv)).ToArray());
        plot.Title("Canary exposure vs insertions (mean over canaries, exact rank)");
        plot.XLabel("times the canary was inserted (r)");
        plot.YLabel("exposure (bits)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(Path.Combine(o.RunDir, "exposure.png"), 800, 500);
    }

    private static string Markdown(SecretSharerExperimentResult o)
    {
        var s = o.Settings;
        var np = o.NonPrivate;
        var b = new StringBuilder();
        var flags = new[] { s.IsQuick ? "--quick" : null, np is null ? "--private-only" : null }.OfType<string>().ToList();
        b.AppendLine(Inv, $"# diffpriv experiment secret-sharer{(flags.Count > 0 ? $" ({string.Join(", ", flags)})" : "")}");
        b.AppendLine();
        b.AppendLine("```bash");
        b.AppendLine(s.CommandLine);
        b.AppendLine("```");
        b.AppendLine();
        if (np is not null)
        {
            b.AppendLine(Inv, $"The same character-level LSTM language model (embedding {s.EmbeddingSize} → LSTM {s.HiddenSize} → linear) trained twice on");
            b.AppendLine(Inv, $"{o.Corpus.Name} ({o.TrainSequences} training sequences of at most {s.SequenceLength} characters, lower-cased), with");
            b.AppendLine(Inv, $"{o.Plan.Canaries.Count} random canaries of the form `{s.CanaryFormat}` inserted r ∈ {{{string.Join(", ", s.Repetitions)}}} times");
            b.AppendLine(Inv, $"({o.Plan.TotalInsertions} extra sequences): once normally, once with DP-SGD at ε = {F(o.Accounting.Epsilon, 3)}. Wall time {o.WallSeconds:F0} s");
            b.AppendLine(Inv, $"(non-private training {np.Seconds:F0} s, private {o.Private.Seconds:F0} s).");
        }
        else
        {
            b.AppendLine(Inv, $"A character-level LSTM language model (embedding {s.EmbeddingSize} → LSTM {s.HiddenSize} → linear) trained with DP-SGD at");
            b.AppendLine(Inv, $"ε = {F(o.Accounting.Epsilon, 3)} on {o.Corpus.Name} ({o.TrainSequences} training sequences of at most {s.SequenceLength} characters,");
            b.AppendLine(Inv, $"lower-cased), with {o.Plan.Canaries.Count} random canaries of the form `{s.CanaryFormat}` inserted r ∈ {{{string.Join(", ", s.Repetitions)}}} times");
            b.AppendLine(Inv, $"({o.Plan.TotalInsertions} extra sequences). Wall time {o.WallSeconds:F0} s (private training {o.Private.Seconds:F0} s). The non-private model");
            b.AppendLine("was **not trained** (`--private-only`): this run has no baseline, so it reports no perplexity ratio, no comparison of accepted");
            b.AppendLine("sentences and no non-private exposure; compare with the non-private model of a run from the same starting weights.");
        }

        if (o.Pretraining is { } pt)
        {
            var who = np is null ? "It started" : "Both started";
            if (pt.Loaded)
            {
                var pv = pt.Provenance;
                b.AppendLine(Inv, $"{who} from a model pretrained non-privately on public text, loaded from `{pt.WeightsFile}` (`--pretrained`; sha256");
                b.AppendLine(Inv, $"`{pv?.Sha256}`, saved by DiffPriv {pv?.DiffPrivVersion} at {pv?.SavedUtc:u}{(pv?.Seed is { } seed ? $" with --seed {seed}" : "")}). Its provenance sidecar names");
                b.AppendLine(Inv, $"public data only: {pt.Corpus} ({pt.Sequences} sequences, {pt.Epochs} epochs). ε covers the Reuters training sequences.");
            }
            else
            {
                b.AppendLine(Inv, $"{who} from the same model pretrained non-privately on public text: {pt.Corpus} ({pt.Sequences} sequences,");
                b.AppendLine(Inv, $"{pt.Epochs} epochs, {pt.Seconds:F0} s). The public text holds no canaries and needs no protection; ε covers the Reuters training sequences.");
            }
        }

        b.AppendLine();
        b.AppendLine("## Test perplexity");
        b.AppendLine();
        b.AppendLine(Inv, $"On {o.TestSequences} test sequences (the shipped test split). Per character means per predicted token, pooled over");
        b.AppendLine("the whole split: every character of a sequence and its end-of-sequence token (the start token is given, not predicted).");
        b.AppendLine();
        b.AppendLine("| model | perplexity per character | bits per character | epochs | training time |");
        b.AppendLine("|---|---:|---:|---:|---:|");
        b.AppendLine(np is not null
            ? string.Create(Inv, $"| non-private | {F(np.Perplexity, 4)} | {F(np.BitsPerChar, 4)} | {s.NonPrivateEpochs} | {np.Seconds:F0} s |")
            : $"| non-private | {NotTrained} | | | |");
        b.AppendLine(Inv, $"| private (ε = {F(o.Accounting.Epsilon, 2)}) | {F(o.Private.Perplexity, 4)} | {F(o.Private.BitsPerChar, 4)} | {s.PrivateEpochs} | {o.Private.Seconds:F0} s |");
        if (np is not null)
        {
            b.AppendLine(Inv, $"| ratio private / non-private | **{F(o.Private.Perplexity / np.Perplexity, 4)}** | {F(o.Private.BitsPerChar / np.BitsPerChar, 4)} | | |");
        }

        if (o.Pretraining is { } pre)
        {
            b.AppendLine(Inv, $"| (the public pretrained model alone) | {F(pre.Perplexity, 4)} | {F(pre.TestNatsPerChar / Math.Log(2), 4)} | {pre.Epochs} (public) | {(pre.Loaded ? "loaded" : $"{pre.Seconds:F0} s")} |");
        }

        b.AppendLine();
        b.AppendLine("## Which training sentences each model accepts");
        b.AppendLine();
        if (np is not null && o.Acceptance is { } acceptance && o.Disagreements is { } disagreements)
        {
            b.AppendLine(Inv, $"A sentence is accepted when its log-perplexity is at or below the model's {F(100 * acceptance.Quantile, 0)}th percentile on test sentences");
            b.AppendLine(Inv, $"(non-private: {F(acceptance.NonPrivateThreshold, 4)} nats/char, private: {F(acceptance.PrivateThreshold, 4)}). Of the {o.TrainSequences} original training sequences:");
            b.AppendLine();
            b.AppendLine("| accepted by | share |");
            b.AppendLine("|---|---:|");
            b.AppendLine(Inv, $"| both models | **{P(acceptance.Both)}** |");
            b.AppendLine(Inv, $"| only the non-private model | {P(acceptance.OnlyNonPrivate)} |");
            b.AppendLine(Inv, $"| only the private model | {P(acceptance.OnlyPrivate)} |");
            b.AppendLine(Inv, $"| neither | {P(acceptance.Neither)} |");
            b.AppendLine();
            b.AppendLine("The 10 distinct training sequences with the largest score gap (private minus non-private log-perplexity): what the");
            b.AppendLine("non-private model learned that the private one did not. (These are training sentences shown verbatim, and the per-epoch");
            b.AppendLine("training losses below are measured on training data: neither is covered by ε. Reuters is public; with private data,");
            b.AppendLine("do not publish them.)");
            b.AppendLine();
            b.AppendLine("| sequence | copies | non-private | private | gap |");
            b.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var (text, copies, npScore, p) in disagreements)
            {
                b.AppendLine(Inv, $"| `{text.Replace("|", "\\|", StringComparison.Ordinal).Replace("`", "'", StringComparison.Ordinal)}` | {copies} | {F(npScore, 3)} | {F(p, 3)} | {F(p - npScore, 3)} |");
            }
        }
        else
        {
            b.AppendLine(Inv, $"Not measured: the non-private model was {NotTrained}, and this section compares the two models.");
        }

        b.AppendLine();
        b.AppendLine("## Canary exposure");
        b.AppendLine();
        b.AppendLine(Inv, $"Exposure = log2 |R| − log2 rank of the canary among {o.Plan.References.Count} never-inserted reference candidates of the same format");
        b.AppendLine("(canaries differ from each other in their leading random characters, and no reference starts like a canary, so a canary the model");
        b.AppendLine("learned from many copies cannot lift the rank of another that happens to start like it)");
        b.AppendLine(Inv, $"(ties counted against the canary; maximum {F(o.PrivateExposure.MaxExposureByRank, 2)} bits; a canary the model knows nothing about has a");
        b.AppendLine("uniformly random rank, and exposure log2 e ≈ 1.44 bits on average). The extrapolated exposure fits a skew-normal distribution to the references'");
        b.AppendLine(Inv, $"scores and estimates the rank in the whole format space ({F(o.PrivateExposure.FormatSpaceBits, 1)} bits). Mean over the canaries of each r:");
        b.AppendLine();
        if (o.NonPrivateExposure is { } npx)
        {
            b.AppendLine("| r | canaries | non-private exposure | private exposure | non-private (extrapolated) | private (extrapolated) |");
            b.AppendLine("|---:|---:|---:|---:|---:|---:|");
            foreach (var r in npx.ByRepetition)
            {
                var p = o.PrivateExposure.ByRepetition.Single(x => x.Repetitions == r.Repetitions);
                b.AppendLine(Inv, $"| {r.Repetitions} | {r.Canaries} | {F(r.MeanExposureByRank, 2)} | {F(p.MeanExposureByRank, 2)} | {F(r.MeanExposureByExtrapolation, 2)} | {F(p.MeanExposureByExtrapolation, 2)} |");
            }
        }
        else
        {
            b.AppendLine(Inv, $"(The private model only: the non-private model was {NotTrained}.)");
            b.AppendLine();
            b.AppendLine("| r | canaries | private exposure | private (extrapolated) |");
            b.AppendLine("|---:|---:|---:|---:|");
            foreach (var p in o.PrivateExposure.ByRepetition)
            {
                b.AppendLine(Inv, $"| {p.Repetitions} | {p.Canaries} | {F(p.MeanExposureByRank, 2)} | {F(p.MeanExposureByExtrapolation, 2)} |");
            }
        }

        b.AppendLine();
        b.AppendLine("![exposure vs repetitions](exposure.png)");
        b.AppendLine();
        b.AppendLine(o.NonPrivateExposure is null ? "Per canary (secret, r, exposure private):" : "Per canary (secret, r, exposure non-private / private):");
        b.AppendLine();
        for (var i = 0; i < o.Plan.Canaries.Count; i++)
        {
            var c = o.PrivateExposure.Canaries[i];
            b.AppendLine(o.NonPrivateExposure?.Canaries[i] is { } a
                ? string.Create(Inv, $"- `{a.Secret}` ×{a.Repetitions}: {F(a.ExposureByRank, 2)} / {F(c.ExposureByRank, 2)}")
                : string.Create(Inv, $"- `{c.Secret}` ×{c.Repetitions}: {F(c.ExposureByRank, 2)}"));
        }

        b.AppendLine();
        b.AppendLine("## Privacy of the private model");
        b.AppendLine();
        b.AppendLine("```text");
        b.Append(o.Accounting.Statement);
        b.AppendLine("```");
        b.AppendLine();
        b.AppendLine("## Settings");
        b.AppendLine();
        // Without the non-private model its column says so once and stays empty below.
        string NonPrivate(string value) => np is null ? "–" : value;
        b.AppendLine("| setting | non-private | private |");
        b.AppendLine("|---|---|---|");
        b.AppendLine(Inv, $"| training | {(np is null ? NotTrained : $"shuffled mini-batches of {s.NonPrivateBatchSize}, mean loss")} | DP-SGD: Poisson sampling q = {o.Accounting.SamplingProbability.ToString("G5", Inv)} (expected batch {s.PrivateBatchSize}), clipping C = {PrivacyStatement.Format(s.MaxGradNorm)}, σ = {o.Accounting.NoiseMultiplier.ToString("G6", Inv)}; privacy unit: example (one training sequence) |");
        b.AppendLine(Inv, $"| optimizer | {NonPrivate($"Adam, learning rate {PrivacyStatement.Format(s.NonPrivateLearningRate)}, {LrSchedules.Describe(s.NonPrivateSchedule)}")} | Adam, learning rate {PrivacyStatement.Format(s.PrivateLearningRate)}, {LrSchedules.Describe(s.PrivateSchedule)} |");
        if (o.Pretraining is { } p0)
        {
            var weights = string.Create(Inv, $"pretrained on {p0.Corpus} ({p0.Sequences} sequences, {p0.Epochs} epochs, not private){(p0.Loaded ? $", loaded from `{Path.GetFileName(p0.WeightsFile)}`" : "")}");
            b.AppendLine(np is null
                ? $"| initial weights | – | {weights} |"
                : $"| initial weights | {weights} | the same pretrained weights |");
        }
        else
        {
            b.AppendLine(np is null ? "| initial weights | – | random |" : "| initial weights | random | random (another draw) |");
        }

        b.AppendLine(Inv, $"| epochs | {NonPrivate(s.NonPrivateEpochs.ToString(Inv))} | {s.PrivateEpochs} ({o.Accounting.Steps} steps) |");
        b.AppendLine(Inv, $"| LSTM | {NonPrivate("TorchSharp's fused nn.LSTM")} | DpLstm (the same equations and parameters, written with ordinary tensor operations and a dedicated per-example gradient sampler) |");
        b.AppendLine();
        b.AppendLine(Inv, $"Corpus: {o.Corpus.Source}. Vocabulary: a fixed public character set ({CharVocabularySize()} ids), never derived from the training text.");
        b.AppendLine();
        b.AppendLine("Per epoch (test bits per character):");
        b.AppendLine();
        b.AppendLine("| epoch | non-private train loss | non-private test bits/char | private train loss | private test bits/char |");
        b.AppendLine("|---:|---:|---:|---:|---:|");
        var npHistory = np?.History ?? [];
        var epochs = Math.Max(npHistory.Count, o.Private.History.Count);
        for (var e = 0; e < epochs; e++)
        {
            var n = e < npHistory.Count ? npHistory[e] : default;
            var p = e < o.Private.History.Count ? o.Private.History[e] : default;
            b.AppendLine(Inv, $"| {e + 1} | {Opt(n.TrainLoss, e < npHistory.Count)} | {Opt(n.TestNatsPerChar / Math.Log(2), e < npHistory.Count)} | {Opt(p.TrainLoss, e < o.Private.History.Count)} | {Opt(p.TestNatsPerChar / Math.Log(2), e < o.Private.History.Count)} |");
        }

        b.AppendLine();
        var files = new List<string> { "results.json (every number above, per canary)", "exposure.png" };
        if (o.Pretraining is { Loaded: false })
        {
            files.Add($"{SecretSharerRunner.PretrainedModelFile} (public text only: `--pretrained` can start a later run from it)");
        }

        if (np is not null)
        {
            files.Add(SecretSharerRunner.NonPrivateModelFile);
        }

        files.Add(SecretSharerRunner.PrivateCheckpointFile);
        files.Add("command.txt");
        files.Add($"settings.json, resume.bin{(np is null ? "" : $", {SecretSharerRunner.NonPrivateResumeFile}")} (what `--resume` continued from after a kill; settings.json holds the seed that decides the canaries)");
        b.AppendLine(Inv, $"Files: {string.Join(", ", files)}. Each model file has a provenance sidecar (`<file>{ModelProvenance.SidecarSuffix}`:");
        b.AppendLine("the data it was trained on, public or not, its architecture, seed and SHA-256).");
        return b.ToString();
    }

    private static int CharVocabularySize() => Datasets.Text.CharVocabulary.Default.Size;

    private static string Opt(double v, bool present) => present ? F(v, 4) : "";

    private static string F(double v, int digits) =>
        double.IsFinite(v) ? v.ToString("F" + digits.ToString(Inv), Inv) : double.IsPositiveInfinity(v) ? "∞" : "–";

    private static string P(double fraction) => (100 * fraction).ToString("F2", Inv) + "%";
}
