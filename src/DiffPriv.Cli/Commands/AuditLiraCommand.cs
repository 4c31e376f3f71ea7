using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPriv.Experiments.Auditing;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv audit lira</c>: K models on random halves of a pool, each attacked by LiRA with the others as shadow
/// models (Carlini et al. 2022), beside the accountant's ε.</summary>
internal static class AuditLiraCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var d = new LiraAuditSettings();
        var shadows = new Option<int?>("--shadows", "-k") { Description = $"K, the models trained (even, ≥ 4); each in turn is the target and the other K − 1 its shadow models (default {d.Shadows})." };
        var target = new Option<double?>("--target-epsilon") { Description = $"Train every model with DP-SGD calibrated to this ε at --delta (default {Format(d.TargetEpsilon)})." };
        var noDp = new Option<bool>("--no-dp") { Description = "The same runs without noise (σ = 0, ε = ∞; clipping and sampling unchanged): shows the attack's power." };
        var seed = new Option<long?>("--seed") { Description = "Seeds who trains on what, the models, sampling and noise (default 0; the noise is then not secret: an experiment)." };
        var delta = new Option<double?>("--delta") { Description = $"δ of the accountant's ε (default {PrivacyStatement.Delta(d.Delta)})." };
        var pool = new Option<int?>("--pool") { Description = $"N, the first N Fashion-MNIST training examples; each model trains on about N/2 (default {d.PoolSize})." };
        var epochs = new Option<int?>("--epochs") { Description = $"Epochs per model (default {d.Epochs})." };
        var batch = new Option<int?>("--batch-size", "-b") { Description = $"Expected batch size B (default {d.BatchSize})." };
        var lr = new Option<double?>("--learning-rate", "--lr") { Description = $"SGD learning rate, momentum 0.9 (default {Format(d.LearningRate)})." };
        var clip = new Option<double?>("--max-grad-norm", "-c") { Description = $"Clip norm C (default {Format(d.MaxGradNorm)})." };
        var hidden = new Option<int?>("--hidden") { Description = $"Hidden units of the MLP 784 → H → 10 (default {d.Hidden})." };
        var testExamples = new Option<int?>("--test-examples") { Description = $"Test examples for the models' accuracy (default {d.TestExamples})." };
        var outDir = new Option<string?>("--out", "-o") { Description = $"Run folder (default runs/lira-<timestamp>); holds report.md, {LiraAuditRunner.ResultsFile} and {LiraAuditRunner.PlotFile}." };
        var json = new Option<bool>("--json") { Description = "The last line of stdout is one JSON object; progress goes to stderr." };
        var command = new Command(
            "lira",
            "LiRA (Carlini et al., IEEE S&P 2022): train K small models on random halves of a Fashion-MNIST pool, attack each with the others as shadow " +
            "models (online: in and out Gaussians of the logit-scaled confidence; offline: out only), and report AUC and TPR at 0.1% and 1% FPR beside the accountant's ε.");
        foreach (var option in new Option[] { shadows, target, noDp, seed, delta, pool, epochs, batch, lr, clip, hidden, testExamples, outDir, json })
        {
            command.Options.Add(option);
        }

        command.SetAction(result =>
        {
            if (result.GetValue(noDp) && result.GetValue(target) is not null)
            {
                throw new UsageException("--no-dp and --target-epsilon exclude each other");
            }

            var settings = d with
            {
                Shadows = result.GetValue(shadows) ?? d.Shadows,
                TargetEpsilon = result.GetValue(target) ?? d.TargetEpsilon,
                NoDp = result.GetValue(noDp),
                Seed = result.GetValue(seed) ?? 0,
                Delta = result.GetValue(delta) ?? d.Delta,
                PoolSize = result.GetValue(pool) ?? d.PoolSize,
                Epochs = result.GetValue(epochs) ?? d.Epochs,
                BatchSize = result.GetValue(batch) ?? d.BatchSize,
                LearningRate = result.GetValue(lr) ?? d.LearningRate,
                MaxGradNorm = result.GetValue(clip) ?? d.MaxGradNorm,
                Hidden = result.GetValue(hidden) ?? d.Hidden,
                TestExamples = result.GetValue(testExamples) ?? d.TestExamples,
                OutDir = result.GetValue(outDir),
            };
            return AuditRun.Execute(settings.Validate, result.GetValue(json), stdout, stderr, p => new LiraAuditRunner(settings, p).Run(), Summary, WriteSummary);
        });
        return command;
    }

    /// <summary>The contract's fields: the headline (online LiRA, global variance) at the top level like <c>audit mia</c>'s,
    /// then both tests (JSON has no infinity: ε of a run without DP is null).</summary>
    internal static JsonObject Summary(LiraAuditRunResult r)
    {
        var online = r.Lira.Online;
        return new JsonObject
        {
            ["auc"] = online.Auc,
            ["tpr_at_fpr_0.001"] = online.TprAtTenthPercentFpr,
            ["tpr_at_fpr_0.01"] = online.TprAtOnePercentFpr,
            ["tpr_at_fpr_0.001_ci"] = new JsonArray(online.TprAtTenthPercentFprInterval.Lower, online.TprAtTenthPercentFprInterval.Upper),
            ["epsilon"] = double.IsFinite(r.Epsilon) ? r.Epsilon : null,
            ["delta"] = r.Settings.Delta,
            ["shadows"] = r.Settings.Shadows,
            ["pool"] = r.Lira.Examples,
            ["online"] = LiraAuditRunner.AttackJson(online),
            ["offline"] = LiraAuditRunner.AttackJson(r.Lira.Offline),
            ["test_accuracy"] = r.TestAccuracies.Average(),
            ["train_accuracy"] = r.TrainAccuracies.Average(),
            ["seconds"] = r.Seconds,
            ["run_dir"] = r.RunDir,
        };
    }

    private static void WriteSummary(TextWriter w, LiraAuditRunResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine();
        w.WriteLine(string.Create(inv, $"accountant ε (upper bound): {(double.IsFinite(r.Epsilon) ? r.Epsilon.ToString("F3", inv) : "∞ (no DP)")} at δ = {PrivacyStatement.Delta(r.Settings.Delta)}"));
        foreach (var a in new[] { r.Lira.Online, r.Lira.Offline })
        {
            w.WriteLine(string.Create(
                inv,
                $"LiRA {a.Name,-8} AUC {a.Auc:F4}; TPR at 0.1% FPR {100 * a.TprAtTenthPercentFpr:F3}% (95% CI {100 * a.TprAtTenthPercentFprInterval.Lower:F3}–{100 * a.TprAtTenthPercentFprInterval.Upper:F3}%, " +
                $"{a.TruePositivesAtTenthPercentFpr}/{a.Roc.MemberCount}); TPR at 1% FPR {100 * a.TprAtOnePercentFpr:F3}%"));
        }

        w.WriteLine(string.Create(
            inv,
            $"{r.Settings.Shadows} models, mean train accuracy {100 * r.TrainAccuracies.Average():F1}%, test {100 * r.TestAccuracies.Average():F1}%, {r.Seconds:F0} s; report.md in {r.RunDir}"));
    }

    private static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
