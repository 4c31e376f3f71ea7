using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPriv.Experiments.Auditing;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv audit one-run</c>: one training run with m canaries and the ε lower bound of Steinke, Nasr &amp; Jagielski (2023).</summary>
internal static class AuditOneRunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var d = new OneRunAuditSettings();
        var target = new Option<double?>("--target-epsilon") { Description = $"Train with DP-SGD calibrated to this ε at --delta (default {Format(d.TargetEpsilon)})." };
        var noDp = new Option<bool>("--no-dp") { Description = "The same run without noise (σ = 0, ε = ∞; clipping, sampling and canaries unchanged): shows the audit's power." };
        var canaries = new Option<int?>("--canaries", "-m") { Description = $"m, the canaries, each included with probability ½ (default {d.Canaries})." };
        var whiteBox = new Option<bool>("--white-box") { Description = "Gradient canaries (default): Dirac records of norm C added to the clipped sum when sampled, scored by the summed releases at their coordinate." };
        var blackBox = new Option<bool>("--black-box") { Description = "Input canaries: held-out test images with a wrong label, trained on when included, scored by minus their loss." };
        var seed = new Option<long?>("--seed") { Description = "Seeds the model, canaries, coin flips, sampling and noise (default 0; the noise is then not secret: an experiment)." };
        var delta = new Option<double?>("--delta") { Description = $"δ of the accountant's ε and of the audit (default {PrivacyStatement.Delta(d.Delta)})." };
        var epochs = new Option<int?>("--epochs") { Description = $"Epochs over the MNIST training examples (default {d.Epochs})." };
        var batch = new Option<int?>("--batch-size", "-b") { Description = $"Expected batch size B (q = B/N; default {d.BatchSize})." };
        var trainExamples = new Option<int?>("--train-examples") { Description = $"Train on the first N MNIST training examples (default {d.TrainExamples}; 0: all 60 000)." };
        var outDir = new Option<string?>("--out", "-o") { Description = $"Run folder (default runs/one-run-<timestamp>); holds {OneRunAuditRunner.ResultsFile}." };
        var json = new Option<bool>("--json") { Description = "The last line of stdout is one JSON object; progress goes to stderr." };
        var command = new Command(
            "one-run",
            "One-run audit (Steinke, Nasr & Jagielski, NeurIPS 2023): train the MNIST CNN once with m canaries, each included with probability ½, " +
            "guess the most confident ones and turn the right guesses into an ε lower bound at 95% confidence, beside the accountant's ε.");
        foreach (var option in new Option[] { target, noDp, canaries, whiteBox, blackBox, seed, delta, epochs, batch, trainExamples, outDir, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(result =>
        {
            if (result.GetValue(noDp) && result.GetValue(target) is not null)
            {
                throw new UsageException("--no-dp and --target-epsilon exclude each other");
            }

            if (result.GetValue(whiteBox) && result.GetValue(blackBox))
            {
                throw new UsageException("--white-box and --black-box exclude each other");
            }

            var settings = d with
            {
                TargetEpsilon = result.GetValue(target) ?? d.TargetEpsilon,
                NoDp = result.GetValue(noDp),
                Canaries = result.GetValue(canaries) ?? d.Canaries,
                Kind = result.GetValue(blackBox) ? CanaryKind.Input : CanaryKind.Gradient,
                Seed = result.GetValue(seed) ?? 0,
                Delta = result.GetValue(delta) ?? d.Delta,
                Epochs = result.GetValue(epochs) ?? d.Epochs,
                BatchSize = result.GetValue(batch) ?? d.BatchSize,
                TrainExamples = result.GetValue(trainExamples) is { } count ? (count == 0 ? null : count) : d.TrainExamples,
                OutDir = result.GetValue(outDir),
            };
            return AuditRun.Execute(settings.Validate, result.GetValue(json), stdout, stderr, p => new OneRunAuditRunner(settings, p).Run(), Summary, WriteSummary);
        });
        return command;
    }

    /// <summary>The contract's fields (JSON has no infinity: ε of a run without DP is null).</summary>
    internal static JsonObject Summary(OneRunAuditRunResult r) => new()
    {
        ["epsilon"] = double.IsFinite(r.Epsilon) ? r.Epsilon : null,
        ["delta"] = r.Settings.Delta,
        ["epsilon_lower_bound"] = r.Audit.EpsilonLowerBound,
        ["canaries"] = r.Audit.Canaries,
        ["guesses"] = r.Audit.Guesses,
        ["correct_guesses"] = r.Audit.CorrectGuesses,
        ["confidence"] = r.Audit.Confidence,
        ["run_dir"] = r.RunDir,
        ["canary_kind"] = r.Settings.Kind == CanaryKind.Gradient ? "white-box" : "black-box",
        ["max_certifiable"] = r.Audit.MaxCertifiable,
        ["test_accuracy"] = r.TestAccuracy,
        ["seconds"] = r.Seconds,
    };

    private static void WriteSummary(TextWriter w, OneRunAuditRunResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine();
        w.WriteLine(string.Create(inv, $"accountant ε (upper bound): {(double.IsFinite(r.Epsilon) ? r.Epsilon.ToString("F3", inv) : "∞ (no DP)")} at δ = {PrivacyStatement.Delta(r.Settings.Delta)}"));
        w.WriteLine(string.Create(
            inv,
            $"one-run ε lower bound:      {r.Audit.EpsilonLowerBound:F3} at {100 * r.Audit.Confidence:G3}% confidence ({r.Audit.CorrectGuesses} of {r.Audit.Guesses} guesses right; " +
            $"{r.Audit.Candidates.Count} guess counts, Bonferroni)"));
        w.WriteLine(string.Create(inv, $"largest certifiable bound with {r.Audit.Canaries} canaries: {r.Audit.MaxCertifiable:F3}"));
        w.WriteLine(string.Create(inv, $"test accuracy {100 * r.TestAccuracy:F2}%, {r.Steps} steps, {r.Seconds:F0} s; {OneRunAuditRunner.ResultsFile} in {r.RunDir}"));
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
