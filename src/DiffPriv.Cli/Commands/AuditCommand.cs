using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPriv.Auditing.MembershipInference;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv audit mia</c>: membership-inference attacks on a model's per-example outputs; <c>audit one-run</c> is
/// <see cref="AuditOneRunCommand"/>.</summary>
internal static class AuditCommand
{
    /// <summary>File with every number of the audit, ROC points included, written into the output folder.</summary>
    public const string ResultsFile = "mia.json";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var audit = new Command("audit", "Empirical privacy tests of a trained model.");
        audit.Subcommands.Add(CreateMia(stdout, stderr));
        audit.Subcommands.Add(AuditOneRunCommand.Create(stdout, stderr));
        audit.Subcommands.Add(AuditLiraCommand.Create(stdout, stderr));
        return audit;
    }

    private static Command CreateMia(TextWriter stdout, TextWriter stderr)
    {
        var input = new Option<string?>("--input", "-i")
        {
            Description = "CSV with a header and one row per example: split (train = member, test = non-member), loss, and optionally label and logit_0 … logit_k.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object with the results instead of tables." };
        var outDir = new Option<string?>("--out", "-o") { Description = "Folder for the ROC plots (PNG) and mia.json (default runs/mia-<timestamp>)." };
        var delta = new Option<double?>("--delta") { Description = "δ of the empirical ε lower bound, in [0, 1) (default 1e-5; use the δ of the model's ε)." };
        var seed = new Option<int?>("--seed") { Description = "Seeds the audit's splits, folds and attack-model initialisation (default 0): same input and seed, same numbers." };
        var command = new Command(
            "mia",
            "Membership-inference audit: threshold attacks on loss, confidence and entropy, logistic-regression and MLP attacks, per class and by correctness, with ROC, AUC, advantage, TPR at low FPR and an empirical ε lower bound.");
        foreach (var option in new Option[] { input, json, outDir, delta, seed })
        {
            command.Options.Add(option);
        }

        command.SetAction(result =>
        {
            var path = result.GetValue(input);
            if (string.IsNullOrWhiteSpace(path))
            {
                throw new UsageException("--input is required: a CSV with columns split, loss and optionally label, logit_0 … logit_k");
            }

            var deltaValue = result.GetValue(delta) ?? 1e-5;
            if (!(deltaValue >= 0 && deltaValue < 1))
            {
                throw new UsageException($"--delta must be in [0, 1) (got {AccountingOptions.Format(deltaValue)})");
            }

            AttackInput attackInput;
            try
            {
                attackInput = AttackInputCsv.ReadFile(path);
            }
            catch (FileNotFoundException)
            {
                throw new UsageException($"--input: file not found: {path}");
            }
            catch (FormatException e)
            {
                throw new UsageException($"{path}: {e.Message}");
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"{path}: {e.Message}");
            }

            var options = new AuditOptions { Delta = deltaValue, Seed = result.GetValue(seed) ?? 0 };
            var audit = MembershipInferenceAudit.Run(attackInput, options);
            var dir = OutputDirectory(result.GetValue(outDir));
            Directory.CreateDirectory(dir);
            var plots = RocPlot.Write(audit, dir);
            var summary = ToJson(audit, path, dir, plots);
            var full = ToJson(audit, path, dir, plots, withCurves: true);
            File.WriteAllText(Path.Combine(dir, ResultsFile), full.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
            if (result.GetValue(json))
            {
                stdout.WriteLine(summary.ToJsonString());
            }
            else
            {
                WriteTables(stdout, audit, path, dir);
            }

            return CliApp.ExitOk;
        });
        return command;
    }

    private static string OutputDirectory(string? requested) => RunFolder.Resolve(requested, "mia");

    internal static JsonObject ToJson(AuditResult audit, string input, string dir, IReadOnlyList<string> plots, bool withCurves = false)
    {
        var results = new JsonArray();
        foreach (var r in audit.Results)
        {
            var e = r.EpsilonLowerBound;
            var item = new JsonObject
            {
                ["attack"] = r.Attack.Name(),
                ["slice"] = r.Slice.Name,
                ["members"] = r.MemberCount,
                ["non_members"] = r.NonMemberCount,
                ["auc"] = r.Auc,
                ["advantage"] = r.AttackerAdvantage,
                ["tpr_at_fpr_0.001"] = r.TprAtTenthPercentFpr,
                ["tpr_at_fpr_0.01"] = r.TprAtOnePercentFpr,
                ["ppv"] = r.Ppv,
                ["epsilon_lower_bound"] = e.Epsilon,
            };
            if (withCurves)
            {
                item["epsilon_threshold"] = Finite(e.Threshold);
                item["epsilon_counts"] = new JsonObject
                {
                    ["true_positives"] = e.TruePositives,
                    ["false_negatives"] = e.FalseNegatives,
                    ["false_positives"] = e.FalsePositives,
                    ["true_negatives"] = e.TrueNegatives,
                };
                item["roc"] = new JsonObject
                {
                    ["fpr"] = new JsonArray([.. r.Roc.Points.Select(p => (JsonNode?)p.FalsePositiveRate)]),
                    ["tpr"] = new JsonArray([.. r.Roc.Points.Select(p => (JsonNode?)p.TruePositiveRate)]),
                    ["thresholds"] = new JsonArray([.. r.Roc.Points.Select(p => Finite(p.Threshold))]),
                };
            }

            results.Add(item);
        }

        return new JsonObject
        {
            ["input"] = input,
            ["members"] = audit.MemberCount,
            ["non_members"] = audit.NonMemberCount,
            ["delta"] = audit.Options.Delta,
            ["confidence"] = audit.Options.Confidence,
            ["seed"] = audit.Options.Seed,
            ["results"] = results,
            ["notes"] = new JsonArray([.. audit.Notes.Select(n => (JsonNode?)n)]),
            ["plots"] = new JsonArray([.. plots.Select(p => (JsonNode?)p)]),
            ["out_dir"] = dir,
        };
    }

    // JSON has no infinity: the leading ROC point's threshold (+∞) is written as null.
    private static JsonValue? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static void WriteTables(TextWriter w, AuditResult audit, string input, string dir)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine($"Membership-inference audit of {input}: {audit.MemberCount} members (train), {audit.NonMemberCount} non-members (test).");
        w.WriteLine(
            $"ε lower bounds at δ = {PrivacyStatement.Delta(audit.Options.Delta)}, each with {(100 * audit.Options.Confidence).ToString("G3", inv)}% confidence " +
            "(threshold chosen on one half of the examples, bound computed on the other).");
        foreach (var slice in audit.Results.Select(r => r.Slice).Distinct())
        {
            var rows = audit.Results.Where(r => r.Slice == slice).ToList();
            w.WriteLine();
            w.WriteLine($"slice {slice.Name} ({rows[0].MemberCount} train / {rows[0].NonMemberCount} test)");
            w.WriteLine($"  {"attack",-22} {"AUC",6} {"advantage",9} {"TPR@0.1%FPR",11} {"TPR@1%FPR",9} {"PPV",6} {"ε ≥",6}");
            foreach (var r in rows)
            {
                w.WriteLine(string.Create(
                    inv,
                    $"  {r.Attack.Name(),-22} {r.Auc,6:F3} {r.AttackerAdvantage,9:F3} {r.TprAtTenthPercentFpr,11:F4} {r.TprAtOnePercentFpr,9:F4} {r.Ppv,6:F3} {r.EpsilonLowerBound.Epsilon,6:F3}"));
            }
        }

        if (audit.Notes.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Notes:");
            foreach (var note in audit.Notes)
            {
                w.WriteLine($"  - {note}");
            }
        }

        var strongest = audit.StrongestByEpsilon;
        var level = (100 * audit.Options.Confidence).ToString("G3", inv);
        w.WriteLine();
        w.WriteLine(string.Create(
            inv,
            $"Largest ε lower bound: {strongest.EpsilonLowerBound.Epsilon:F3} ({strongest.Attack.Name()}, slice {strongest.Slice.Name})."));
        w.WriteLine(audit.FamilyConfidence > 0
            ? $"Each bound holds with {level}% confidence; the largest of these {audit.Results.Count} holds with ≥ {(100 * audit.FamilyConfidence).ToString("G3", inv)}% (union bound)."
            : $"Each bound holds with {level}% confidence on its own; picking the largest of {audit.Results.Count} is not covered by that (see docs/auditing.md).");
        w.WriteLine($"ROC plots and {ResultsFile}: {dir}");
    }
}
