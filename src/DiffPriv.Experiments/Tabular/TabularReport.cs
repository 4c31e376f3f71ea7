using System.Globalization;
using System.Text;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Experiments.Tabular;

/// <summary>The report.md of a <c>diffpriv train csv</c> run: the result, the ledger, and what preprocessing treated as public.</summary>
internal static class TabularReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Markdown(TabularTrainResult r, IReadOnlyList<string> missing)
    {
        var s = r.Settings;
        var b = new StringBuilder();
        b.AppendLine(Inv, $"# diffpriv train csv: {Path.GetFileName(s.DataFile)}");
        b.AppendLine();
        b.AppendLine("```bash");
        b.AppendLine(s.CommandLine);
        b.AppendLine("```");
        b.AppendLine();
        b.AppendLine("## Result");
        b.AppendLine();
        b.AppendLine(Inv, $"- Test accuracy: **{Percent(r.TestAccuracy)}** on {r.TestExamples} test rows (always answering the test split's most frequent class: {Percent(r.MajorityBaseline)})");
        var targetNote = s.EffectiveTargetEpsilon is { } t ? $"; target {PrivacyStatement.Format(t)}" : "";
        b.AppendLine(Inv, $"- ε = **{r.Epsilon.ToString("F3", Inv)}** at δ = {PrivacyStatement.Delta(s.Delta)} for the whole run, preprocessing included (PLD accountant over one ledger; the exact ε lies in [{r.EpsilonLower.ToString("F4", Inv)}, {r.Epsilon.ToString("F4", Inv)}]){targetNote}");
        b.AppendLine(Inv, $"- Of which: the preprocessing alone ε = {r.PreprocessingEpsilon.ToString("F3", Inv)}, the {r.Steps} DP-SGD steps alone ε = {r.TrainingEpsilon.ToString("F3", Inv)} (composed, the total is below their sum)");
        b.AppendLine(Inv, $"- {(r.Model == TabularModelKind.Logistic ? "Logistic regression" : $"MLP ({s.HiddenUnits} tanh units)")} on {r.Features} features, {r.TrainExamples} training rows; {r.WallSeconds.ToString("F1", Inv)} s");
        b.AppendLine();
        b.AppendLine("## Privacy ledger");
        b.AppendLine();
        b.AppendLine("| what | events (dp_accounting names) | ε alone at δ |");
        b.AppendLine("|---|---|---|");
        if (r.PreprocessingNoiseMultiplier is { } preSigma)
        {
            var numeric = r.Columns.Count(c => c.Kind == TabularColumnKind.Numeric && c.ValuesSource == TabularSource.DifferentialPrivacy);
            var categorical = r.Columns.Count(c => c.Kind == TabularColumnKind.Categorical && c.ValuesSource == TabularSource.DifferentialPrivacy)
                + (r.ClassesSource == TabularSource.DifferentialPrivacy ? 1 : 0);
            b.AppendLine(Inv, $"| preprocessing: {numeric} numeric range(s) from noisy histograms over a public grid, {categorical} category list(s) from thresholded noisy histograms | " +
                $"{numeric + categorical} × gaussian(σ = {preSigma.ToString("G6", Inv)}){(categorical > 0 ? $", {categorical} × epsilon_delta(0, δ_τ = {PrivacyStatement.Format(TabularMechanisms.DeltaPerColumn(categorical, s.Delta))})" : "")} | {r.PreprocessingEpsilon.ToString("F3", Inv)} |");
        }
        else
        {
            b.AppendLine("| preprocessing: everything declared public | none | 0 |");
        }

        b.AppendLine(Inv, $"| DP-SGD | {r.Steps} × poisson_sampled(q = {r.SamplingProbability.ToString("G5", Inv)}, gaussian(σ = {r.NoiseMultiplier.ToString("G6", Inv)})) | {r.TrainingEpsilon.ToString("F3", Inv)} |");
        b.AppendLine(Inv, $"| **whole run** | all of the above, composed | **{r.Epsilon.ToString("F3", Inv)}** |");
        b.AppendLine();
        b.AppendLine("## Preprocessing: what was treated as public, and where it came from");
        b.AppendLine();
        b.AppendLine("| column | used as | type from | range or categories | from |");
        b.AppendLine("|---|---|---|---|---|");
        foreach (var c in r.Columns)
        {
            var values = c.Kind switch
            {
                TabularColumnKind.Numeric => $"[{PrivacyStatement.Format(c.RangeLow!.Value)}, {PrivacyStatement.Format(c.RangeHigh!.Value)}], missing → {PrivacyStatement.Format(c.Impute!.Value)}",
                TabularColumnKind.Categorical => c.Categories.Count == 0 ? "(none released: every value is \"other\")" : string.Join(", ", c.Categories.Take(12)) + (c.Categories.Count > 12 ? $", … ({c.Categories.Count})" : ""),
                _ => "",
            };
            b.AppendLine(Inv, $"| {c.Name} | {TabularTrainRunner.Word(c.Kind)} | {TabularPreprocessing.Describe(c.KindSource)} | {values} | {TabularPreprocessing.Describe(c.ValuesSource)} |");
        }

        b.AppendLine(Inv, $"| **{s.TargetColumn}** (target) | classes | | {string.Join(", ", r.Classes)} | {TabularPreprocessing.Describe(r.ClassesSource)} |");
        b.AppendLine();
        if (r.Columns.Any(c => c.KindSource == TabularSource.InferredFromValues))
        {
            b.AppendLine("- Column types marked \"values (inferred …)\" were read from the training file (numeric when every present value is a number) and are treated as public. Declare them in a schema if that is not so.");
        }

        if (r.Columns.Any(c => c.KindSource == TabularSource.ArffHeader) || r.ClassesSource == TabularSource.ArffHeader)
        {
            b.AppendLine("- Facts marked \"ARFF header\" (attribute types, nominal values) are declared in the data file's header and treated as public, as if a schema declared them.");
        }

        if (r.PreprocessingNoiseMultiplier is { } sigma)
        {
            var budget = s.PreprocessingEpsilon is { } pe
                ? $"--preprocessing-epsilon {PrivacyStatement.Format(pe)}"
                : string.Create(Inv, $"{100 * TabularTrainSettings.DefaultPreprocessingShare}% of the target ε (the default; set --preprocessing-epsilon, or declare the facts in a schema to spend nothing)");
            var how = new List<string>();
            if (r.Columns.Any(c => c.Kind == TabularColumnKind.Numeric && c.ValuesSource == TabularSource.DifferentialPrivacy))
            {
                how.Add(string.Create(Inv, $"a numeric range spans the bins of a fixed public grid (0, ±1·10^k, ±2·10^k, ±5·10^k for k = −3 … 9) whose noisy count exceeds {TabularMechanisms.NumericThresholdSigmas}σ, values outside it are clipped"));
            }

            if (r.CategoryThreshold is { } tau)
            {
                how.Add($"a category (or class) is kept when its noisy count exceeds τ = {tau.ToString("F1", Inv)}, so a value held by one record is released with probability δ_τ and rare values become \"other\"");
            }

            b.AppendLine(Inv, $"- Computed with differential privacy from noisy counts (Gaussian noise σ = {sigma.ToString("G4", Inv)}; one record changes one count per column by 1): {string.Join("; ", how)}. Budget: {budget}.");
        }

        b.AppendLine("- Missing values (" + string.Join(", ", missing.Select(m => $"\"{m}\"")) + ", and ARFF's ?): a numeric entry takes its column's public impute value (the middle of the range unless the schema gives \"impute\") and sets the column's missing indicator; a categorical entry sets its column's \"missing\" slot." +
            (r.LeftOutMissingTarget > 0 ? string.Create(Inv, $" {r.LeftOutMissingTarget} rows without a target were left out.") : ""));
        if (r.LeftOutUnknownClass > 0)
        {
            b.AppendLine(Inv, $"- {r.LeftOutUnknownClass} training rows of classes not released by DP were left out; test rows of such classes count as wrong.");
        }

        b.AppendLine("- schema.json in this folder holds every public fact the run used; they are already paid for, so passing it to --schema on the same data costs nothing more for them.");
        b.AppendLine();
        b.AppendLine("## Settings");
        b.AppendLine();
        b.AppendLine("| setting | value |");
        b.AppendLine("|---|---|");
        b.AppendLine(Inv, $"| data | {Path.GetFileName(s.DataFile)}{(s.TestFile is { } tf ? $", test file {Path.GetFileName(tf)}" : $", {(100 * s.TestFraction).ToString("G3", Inv)}% held out by a seeded split (lines in test-lines.txt)")}{(s.SchemaFile is { } sf ? $", schema {Path.GetFileName(sf)}" : ", no schema")} |");
        b.AppendLine(Inv, $"| training | DP-SGD: Poisson sampling q = {r.SamplingProbability.ToString("G4", Inv)} (expected batch {r.BatchSize}), {r.Epochs.ToString(Inv)} epochs, per-example clipping C = {PrivacyStatement.Format(s.MaxGradNorm)}, Gaussian noise σ = {r.NoiseMultiplier.ToString("G6", Inv)}{(s.EffectiveTargetEpsilon is { } te ? $" (calibrated for a total ε ≤ {PrivacyStatement.Format(te)})" : " (fixed)")}, Adam lr {PrivacyStatement.Format(r.LearningRate)} |");
        b.AppendLine(Inv, $"| noise | {(s.Seed is { } seed ? $"SEEDED ({seed}): reproducible, for experiments only, NOT secret" : "secure (OS CSPRNG)")} |");
        b.AppendLine();
        b.AppendLine("The run folder holds model.bin (the trained classifier), schema.json, metrics.json (with the feature names and the preprocessing events) and this report.");
        return b.ToString();
    }

    private static string Percent(double x) => (100 * x).ToString("F2", Inv) + "%";
}
