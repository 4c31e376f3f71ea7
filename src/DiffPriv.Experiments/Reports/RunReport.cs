using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Auditing.MembershipInference;
using DiffPriv.Experiments.Training;

namespace DiffPriv.Experiments.Reports;

/// <summary>Writes a run folder: report.md, metrics.json, accuracy.png, epsilon.png and command.txt.</summary>
public static class RunReport
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes the run folder: command.txt, report.md, metrics.json and the plots.</summary>
    /// <param name="r">The finished run.</param>
    public static void Write(TrainResult r)
    {
        Directory.CreateDirectory(r.RunDir);
        File.WriteAllText(Path.Combine(r.RunDir, "command.txt"), r.Settings.CommandLine + "\n");
        File.WriteAllText(Path.Combine(r.RunDir, "metrics.json"), MetricsJson(r).ToJsonString(Indented) + "\n");
        RunPlots.Write(r);
        if (r.Audit is { } audit)
        {
            var auditDir = Path.Combine(r.RunDir, "audit");
            Directory.CreateDirectory(auditDir);
            RocPlot.Write(audit.Result, auditDir);
        }

        File.WriteAllText(Path.Combine(r.RunDir, "report.md"), Markdown(r));
    }

    /// <summary>The one-line JSON summary printed last with <c>--json</c>.</summary>
    public static JsonObject SummaryJson(TrainResult r) => new()
    {
        ["dataset"] = r.Settings.DatasetId,
        ["test_accuracy"] = r.TestAccuracy,
        ["epsilon"] = PrivacyStatement.JsonNumber(r.Epsilon),
        ["epsilon_lower"] = r.EpsilonLower is { } lower ? PrivacyStatement.JsonNumber(lower) : r.Settings.NoDp ? "inf" : null,
        ["delta"] = r.Settings.NoDp ? null : r.Settings.Delta,
        ["mechanism"] = r.Settings.MechanismId,
        ["model"] = r.Settings.ModelId,
        ["ema"] = r.Settings.EmaDecay,
        ["neighboring_relation"] = r.Settings.NeighboringRelationId,
        ["accountant"] = r.Settings.NoDp ? null : IsFtrl(r) ? "rdp" : "pld",
        ["noise_multiplier"] = r.NoiseMultiplier,
        ["max_grad_norm"] = r.Settings.NoDp ? null : r.Settings.MaxGradNorm,
        ["clipping"] = r.Settings.NoDp ? null : r.Settings.AutomaticClipping ? "automatic" : r.Settings.AdaptiveClipping ? "adaptive" : r.Settings.PerLayerClipping ? "per-layer" : "flat",
        ["final_clip"] = r.FinalClip,
        ["sampling_probability"] = r.SamplingProbability,
        ["steps"] = r.Steps,
        ["epochs"] = r.Settings.Epochs,
        ["wall_seconds"] = Math.Round(r.WallSeconds, 3),
        ["run_dir"] = r.RunDir,
        ["world_size"] = r.WorldSize,
        ["communication_share"] = r.CommunicationShare,
        ["examples_per_rank"] = r.ExamplesPerRank is { } perRank ? new JsonArray([.. perRank.Select(x => (JsonNode)x)]) : null,
        ["audit"] = r.Audit is { } audit ? AuditJson(audit) : null,
        ["one_run_audit"] = r.OneRunAudit is { } oneRun ? new JsonObject
        {
            ["canaries_inserted_into_this_run"] = oneRun.Canaries,
            ["epsilon_lower_bound"] = oneRun.EpsilonLowerBound,
            ["guesses"] = oneRun.Guesses,
            ["correct_guesses"] = oneRun.CorrectGuesses,
            ["confidence"] = oneRun.Confidence,
            ["max_certifiable"] = oneRun.MaxCertifiable,
        } : null,
    };

    private static JsonObject AuditJson(TrainAuditResult audit)
    {
        var results = new JsonArray();
        foreach (var x in audit.Result.Results.Where(x => x.Slice.Kind == SliceKind.All))
        {
            results.Add(new JsonObject
            {
                ["attack"] = x.Attack.Name(),
                ["auc"] = x.Auc,
                ["advantage"] = x.AttackerAdvantage,
                ["epsilon_lower_bound"] = x.EpsilonLowerBound.Epsilon,
            });
        }

        return new JsonObject
        {
            ["members"] = audit.Members,
            ["non_members"] = audit.NonMembers,
            ["epsilon_lower_bound"] = audit.Headline.EpsilonLowerBound.Epsilon,
            ["epsilon_lower_bound_attack"] = audit.Headline.Attack.Name(),
            ["loss_threshold_auc"] = audit.Result.Find(AttackKind.LossThreshold, SliceSpec.All)?.Auc,
            ["results"] = results,
        };
    }

    private static JsonObject MetricsJson(TrainResult r)
    {
        var epochs = new JsonArray();
        foreach (var m in r.History)
        {
            epochs.Add(new JsonObject
            {
                ["epoch"] = m.Epoch,
                ["steps"] = m.Steps,
                ["train_loss"] = Finite(m.TrainLoss),
                ["train_accuracy"] = Finite(m.TrainAccuracy),
                ["test_accuracy"] = m.TestAccuracy,
                ["epsilon"] = m.Epsilon is { } e ? PrivacyStatement.JsonNumber(e) : "inf",
                ["epsilon_lower"] = m.EpsilonLower is { } l ? PrivacyStatement.JsonNumber(l) : m.Epsilon is null ? "inf" : null,
                ["seconds"] = Math.Round(m.Seconds, 3),
            });
        }

        var summary = SummaryJson(r);
        summary["private"] = !r.Settings.NoDp;
        summary["epsilon_rdp"] = r.RdpEpsilon is { } rdp ? PrivacyStatement.JsonNumber(rdp) : null;
        summary["rdp_order"] = r.RdpOrder;
        summary["seeded"] = r.Settings.Seed is not null;
        summary["train_examples"] = r.TrainExamples;
        summary["test_examples"] = r.TestExamples;
        summary["per_epoch"] = epochs;
        return summary;
    }

    private static JsonValue? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static string Markdown(TrainResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = r.Settings;
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"# diffpriv train {s.DatasetId}{(s.Smoke ? " (smoke run)" : "")}{(s.NoDp ? " — NOT PRIVATE (--no-dp)" : "")}");
        b.AppendLine();
        b.AppendLine("```bash");
        b.AppendLine(s.CommandLine);
        b.AppendLine("```");
        b.AppendLine();
        b.AppendLine("## Result");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"- Test accuracy: **{Pct(r.TestAccuracy)}** on {r.TestExamples} test examples");
        if (s.NoDp)
        {
            b.AppendLine("- Privacy: **none** (ε = ∞): ordinary training");
        }
        else if (IsFtrl(r))
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"- ε = **{r.Epsilon.ToString("F3", inv)}** at δ = {PrivacyStatement.Delta(s.Delta)} under the **replace-special** relation (RDP{(r.RdpOrder is { } o ? $", order {o.ToString("0.0##", inv)}" : "")}): not the add/remove-one unit of DP-SGD's ε");
        }
        else
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"- ε = **{r.Epsilon.ToString("F3", inv)}** at δ = {PrivacyStatement.Delta(s.Delta)} under the add-or-remove-one relation (PLD; the exact ε lies in [{r.EpsilonLower!.Value.ToString("F4", inv)}, {r.Epsilon.ToString("F4", inv)}]); RDP: {Num(r.RdpEpsilon)}{(r.RdpOrder is { } o ? $" (order {o.ToString("0.0##", inv)})" : "")}");
        }

        b.AppendLine(CultureInfo.InvariantCulture, $"- Steps: {r.Steps}; wall time: {r.WallSeconds.ToString("F1", inv)} s (data loading, training, evaluation, accounting)");
        b.AppendLine();
        b.AppendLine("## Settings");
        b.AppendLine();
        b.AppendLine("| setting | value |");
        b.AppendLine("|---|---|");
        Row(b, "data set", $"{s.DatasetId}: {r.TrainExamples} train / {r.TestExamples} test examples{(s.Smoke ? " (smoke subset)" : "")}");
        Row(b, "model", s.Model switch
        {
            ImageModel.ScatterNetLinear => "ScatterNet + linear (Tramèr & Boneh 2021): scattering transform J = 2, L = 8 (81×7×7 features per image), GroupNorm (27 groups, per example), linear",
            ImageModel.ScatterNetCnn => "ScatterNet + CNN (Tramèr & Boneh 2021): scattering transform J = 2, L = 8 (81×7×7 features per image), GroupNorm (27 groups, per example), conv 16 → conv 32 → linear 32 → linear, tanh",
            _ => $"TF Privacy's tutorial CNN (ModelZoo.MnistCnn), {s.Activation.ToString().ToLowerInvariant()} activations",
        });
        Row(b, "training", s.NoDp ? "ordinary (shuffled mini-batches, mean loss)"
            : IsFtrl(r) ? "DP-FTRL (fixed batches over a fresh shuffle per pass, per-example clipping, tree-aggregated Gaussian noise, a tree per pass)"
            : "DP-SGD (Poisson sampling, per-example clipping, Gaussian noise)");
        if (!s.NoDp)
        {
            Row(b, "neighbouring relation", IsFtrl(r) ? "replace-special (one example replaced by a zero example)" : "add-or-remove-one");
            Row(b, "noise multiplier σ", $"{r.NoiseMultiplier!.Value.ToString("G6", inv)}{(s.NoiseMultiplier is null ? $" (calibrated for ε ≤ {PrivacyStatement.Format(s.TargetEpsilon!.Value)})" : "")}");
            Row(b, "clipping norm C", s.AutomaticClipping
                ? $"{PrivacyStatement.Format(s.MaxGradNorm)}, automatic clipping: every per-example gradient scaled to g·C/(‖g‖ + 0.01)"
                : s.AdaptiveClipping
                    ? $"adaptive (quantile {s.ClipQuantile.ToString("G3", CultureInfo.InvariantCulture)} of the per-example norms, η = 0.2, count noise σ_b = B/20; the release rescaled to C = {PrivacyStatement.Format(TrainRunner.AdaptiveReleaseClip(s))}): from {PrivacyStatement.Format(s.MaxGradNorm)} to {r.FinalClip?.ToString("G4", CultureInfo.InvariantCulture)}"
                    : s.PerLayerClipping
                        ? $"{PrivacyStatement.Format(s.MaxGradNorm)}, per layer: each trainable layer clipped at C/√L (the whole gradient stays within C)"
                        : PrivacyStatement.Format(s.MaxGradNorm));
            Row(b, "batches", IsFtrl(r)
                ? $"fixed size {s.BatchSize.ToString(inv)}, a fresh shuffle per pass (no sampling; the guarantee holds for any order)"
                : $"Poisson sampling, q = {r.SamplingProbability!.Value.ToString("G6", inv)}");
            Row(b, "δ", PrivacyStatement.Delta(s.Delta));
            Row(b, "noise", s.Seed is { } seed ? $"SEEDED ({seed}): reproducible, for experiments only — not secret" : "secure (OS CSPRNG)");
        }
        else if (s.Seed is { } seed)
        {
            Row(b, "seed", seed.ToString(inv));
        }

        Row(b, IsFtrl(r) ? "batch size B" : "expected batch size B", s.BatchSize.ToString(inv));
        Row(b, "epochs", s.Epochs.ToString(inv));
        if (s.EmaDecay is { } ema)
        {
            Row(b, "parameter average", $"exponential moving average over the steps, β = {PrivacyStatement.Format(ema)} (the released and tested model; post-processing)");
        }

        Row(b, "optimizer", s.Optimizer == OptimizerKind.Sgd ? $"SGD, learning rate {PrivacyStatement.Format(s.LearningRate)}, momentum {PrivacyStatement.Format(s.Momentum)}" : $"Adam, learning rate {PrivacyStatement.Format(s.LearningRate)}");
        Row(b, "learning-rate schedule", LrSchedules.Describe(s.Schedule));
        b.AppendLine();
        b.AppendLine("## Per epoch");
        b.AppendLine();
        b.AppendLine("Train loss and accuracy are measured on the sampled training batches during the epoch (local diagnostics on");
        b.AppendLine("private data; they are not covered by ε and should not be published). Test accuracy is on the test set.");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"| epoch | steps | train loss | train acc | test acc | {(IsFtrl(r) ? "ε (RDP, replace-special)" : "ε (PLD upper)")} | seconds |");
        b.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in r.History)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"| {m.Epoch} | {m.Steps} | {m.TrainLoss.ToString("F4", inv)} | {Pct(m.TrainAccuracy)} | {Pct(m.TestAccuracy)} | {(m.Epsilon is { } e ? e.ToString("F3", inv) : "∞")} | {m.Seconds.ToString("F1", inv)} |");
        }

        b.AppendLine();
        b.AppendLine("![accuracy per epoch](accuracy.png)");
        if (!s.NoDp)
        {
            b.AppendLine();
            b.AppendLine("![ε per epoch](epsilon.png)");
        }

        b.AppendLine();
        if (r.Audit is { } audit)
        {
            AuditSection(b, r, audit);
        }

        if (r.OneRunAudit is { } oneRun)
        {
            OneRunSection(b, r, oneRun);
        }

        b.AppendLine("## Privacy statement");
        b.AppendLine();
        b.AppendLine("```text");
        b.Append(r.PrivacyStatement);
        b.AppendLine("```");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Files: metrics.json, accuracy.png{(s.NoDp ? "" : ", epsilon.png")}, model.bin (model.save){(s.NoDp ? "" : ", checkpoint.bin (PrivacyEngine.SaveCheckpoint: model, optimizer state, privacy ledger)")}, command.txt{(File.Exists(Path.Combine(r.RunDir, TrainResume.SettingsFile)) ? ", settings.json" : "")}{(File.Exists(Path.Combine(r.RunDir, TrainResume.CheckpointFile)) ? ", resume.bin (the last checkpoint to resume from)" : "")}.");
        return b.ToString();
    }

    private static void OneRunSection(StringBuilder b, TrainResult r, DiffPriv.Auditing.OneRun.OneRunAuditResult a)
    {
        var inv = CultureInfo.InvariantCulture;
        b.AppendLine("## One-run audit (canaries inserted into this training run)");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"{a.Canaries} white-box gradient canaries were inserted into this training run: each was included with probability ½ and, when");
        b.AppendLine("included, added to the clipped gradient sum (a record of norm C) at the steps where Poisson sampling drew it, before the noise.");
        b.AppendLine("The model's updates therefore contain them. The audit guesses which canaries were included from the released updates");
        b.AppendLine("(Steinke, Nasr & Jagielski, NeurIPS 2023) and turns the right guesses into an ε lower bound.");
        b.AppendLine();
        b.AppendLine("| | ε |");
        b.AppendLine("|---|---:|");
        b.AppendLine(CultureInfo.InvariantCulture, $"| accountant (upper bound) | {Num(r.Settings.NoDp ? double.PositiveInfinity : r.Epsilon)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| one-run audit (lower bound, {(100 * a.Confidence).ToString("G3", inv)}% confidence) | {a.EpsilonLowerBound.ToString("F3", inv)} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| largest bound {a.Canaries} canaries can certify | {a.MaxCertifiable.ToString("F3", inv)} |");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"{a.CorrectGuesses} of {a.Guesses} guesses were right ({a.Candidates.Count} guess counts fixed in advance, Bonferroni-corrected). On the full training");
        b.AppendLine("set the data's own gradients hide the canaries, so expect a bound near 0; `diffpriv audit one-run` audits the same DP-SGD code");
        b.AppendLine("on a small training set where the canaries can be seen. How to read it: docs/auditing.md.");
        b.AppendLine();
    }

    private static void AuditSection(StringBuilder b, TrainResult r, TrainAuditResult audit)
    {
        var inv = CultureInfo.InvariantCulture;
        var a = audit.Result;
        var strongest = audit.Headline;
        var all = a.Results.Where(x => x.Slice.Kind == SliceKind.All).ToList();
        var lossAttack = a.Find(AttackKind.LossThreshold, SliceSpec.All);
        b.AppendLine("## Privacy audit");
        b.AppendLine();
        b.AppendLine(CultureInfo.InvariantCulture, $"Membership-inference attacks try to tell {audit.Members} training examples (members) from {audit.NonMembers} examples of the");
        b.AppendLine("training split that were held out at random before training (non-members), using the model's loss and outputs.");
        b.AppendLine("An AUC of 0.5 means the attack does no better than a coin.");
        b.AppendLine();
        b.AppendLine("| | ε |");
        b.AppendLine("|---|---:|");
        b.AppendLine(CultureInfo.InvariantCulture, $"| accountant (upper bound: the guarantee) | {(r.Settings.NoDp ? "∞ (not private)" : r.Epsilon.ToString("F3", inv))} |");
        b.AppendLine(CultureInfo.InvariantCulture, $"| attacks (empirical lower bound at 95% confidence, δ = {PrivacyStatement.Delta(a.Options.Delta)}) | {strongest.EpsilonLowerBound.Epsilon.ToString("F3", inv)} ({strongest.Attack.Name()}, all examples) |");
        b.AppendLine();
        if (lossAttack is not null)
        {
            b.AppendLine(CultureInfo.InvariantCulture, $"Loss-threshold attack on all examples: AUC **{lossAttack.Auc.ToString("F4", inv)}** (|AUC − 0.5| = {Math.Abs(lossAttack.Auc - 0.5).ToString("F4", inv)}; the standard error of the AUC of a useless attack on these sets is {lossAttack.Roc.NullAucStandardError.ToString("F4", inv)}).");
            b.AppendLine();
        }

        b.AppendLine("The empirical ε is a lower bound: the model leaks at least this much about membership. Members and non-members");
        b.AppendLine("were assigned at random, so for a correct DP run it exceeds the accountant's ε with probability at most 5%. The");
        b.AppendLine("bound treats the examples as independent trials (Jagielski et al. 2020); with one trained model that is an");
        b.AppendLine("approximation (Steinke, Nasr & Jagielski 2023 analyse one-run audits exactly). A bound near 0 does not prove privacy; only the");
        b.AppendLine(CultureInfo.InvariantCulture, $"accountant's ε does. Each bound below holds with confidence {(100 * a.Options.Confidence).ToString("F0", inv)}%; the headline is the largest of the {audit.HeadlineCount}");
        b.AppendLine("bounds on all examples, so it holds with confidence ≥ 95% (union bound). Per-slice rows are exploratory: the largest");
        b.AppendLine("of many per-slice bounds is not a 95% bound.");
        b.AppendLine();
        b.AppendLine("| attack | slice | members | non-members | AUC | advantage | TPR at FPR 0.1% | TPR at FPR 1% | ε lower bound |");
        b.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var x in all.Concat(a.Results.Where(x => x.Slice.Kind != SliceKind.All)))
        {
            b.AppendLine(CultureInfo.InvariantCulture,
                $"| {x.Attack.Name()} | {x.Slice.Name} | {x.MemberCount} | {x.NonMemberCount} | {x.Auc.ToString("F4", inv)} | {x.AttackerAdvantage.ToString("F4", inv)} | {x.TprAtTenthPercentFpr.ToString("F4", inv)} | {x.TprAtOnePercentFpr.ToString("F4", inv)} | {x.EpsilonLowerBound.Epsilon.ToString("F3", inv)} |");
        }

        foreach (var note in a.Notes)
        {
            b.AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"Note: {note}");
        }

        b.AppendLine();
        b.AppendLine("![ROC curves of the attacks on all examples](audit/roc-all.png) ![the same, log-log: the low-FPR region](audit/roc-all-log.png)");
        b.AppendLine();
        b.AppendLine("ROC curves per slice: audit/roc-<slice>.png.");
        b.AppendLine();
        b.AppendLine("How to read these numbers: docs/auditing.md.");
        b.AppendLine();
    }

    private static bool IsFtrl(TrainResult r) => !r.Settings.NoDp && r.Settings.Mechanism == MechanismKind.DpFtrl;

    private static void Row(StringBuilder b, string name, string value) => b.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {value} |");

    private static string Pct(double fraction) =>
        double.IsFinite(fraction) ? (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%" : "–";

    private static string Num(double? value) => value is { } v
        ? double.IsFinite(v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "∞"
        : "–";
}
