using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Experiments.Tabular;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DiffPriv.Experiments.Tests.Tabular;

/// <summary>
/// <c>train csv</c> end to end on small synthetic tables: what it spends, where its public facts come from, what it writes,
/// and (a property over random budgets and tables) that the ε it reports is the whole run's, preprocessing included.
/// </summary>
public sealed class TabularTrainRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-csv-").FullName;

    public TabularTrainRunnerTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A table of <paramref name="rows"/> loan applicants: age (numeric, some "NA"), city (a, b or c, some empty), income
    /// (numeric) and the class <c>y</c>, "yes" exactly when age &gt; 45 or the city is c. Seeded.
    /// </summary>
    private string Table(int rows, int seed, string name = "t.csv")
    {
        var random = new Random(seed);
        var text = new StringBuilder("age,city,income,y\n");
        for (var i = 0; i < rows; i++)
        {
            var age = random.Next(20, 71);
            var city = "abc"[random.Next(3)].ToString();
            var income = random.Next(1_000, 9_000);
            var label = age > 45 || city == "c" ? "yes" : "no";
            var ageText = random.Next(20) == 0 ? "NA" : age.ToString(CultureInfo.InvariantCulture);
            var cityText = random.Next(25) == 0 ? "" : city;
            text.Append(CultureInfo.InvariantCulture, $"{ageText},{cityText},{income},{label}\n");
        }

        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private TabularTrainSettings Settings(string data, string run) => new()
    {
        DataFile = data,
        TargetColumn = "y",
        Epochs = 4,
        BatchSize = 100,
        Seed = 11,
        OutDir = Path.Combine(_dir, run),
    };

    /// <summary>ε of the ledger the run describes, recomputed from its own files: the preprocessing events in metrics.json
    /// and the DP-SGD steps, composed by a fresh PLD accountant.</summary>
    private static double LedgerEpsilon(TabularTrainResult r)
    {
        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(r.RunDir, "metrics.json")))!;
        var preprocessing = DpEventJson.Deserialize(metrics["preprocessing_events"]!.ToJsonString());
        var all = new ComposedDpEvent([preprocessing, DpSgdCalibration.RunEvent(r.SamplingProbability, r.NoiseMultiplier, r.Steps)]);
        return new PldAccountant().Compose(all).GetEpsilon(r.Settings.Delta);
    }

    [Fact]
    public void WithoutASchemaThePreprocessingIsComputedWithDpAndChargedToTheTotal()
    {
        var r = TabularTrainRunner.Run(Settings(Table(600, 1), "a"));

        Assert.Equal(3.0, r.Settings.EffectiveTargetEpsilon);
        Assert.InRange(r.PreprocessingEpsilon, 0.29, 0.3);
        Assert.True(r.Epsilon <= 3.0 && r.Epsilon > 2.99, $"ε = {r.Epsilon}");
        Assert.True(r.Epsilon > r.TrainingEpsilon, $"total {r.Epsilon} ≤ training alone {r.TrainingEpsilon}");
        Assert.Equal(LedgerEpsilon(r), r.Epsilon, 1e-9);

        Assert.Equal(["age", "city", "income"], r.Columns.Select(c => c.Name));
        Assert.All(r.Columns, c => Assert.Equal(TabularSource.InferredFromValues, c.KindSource));
        Assert.All(r.Columns, c => Assert.Equal(TabularSource.DifferentialPrivacy, c.ValuesSource));
        Assert.Equal([TabularColumnKind.Numeric, TabularColumnKind.Categorical, TabularColumnKind.Numeric], r.Columns.Select(c => c.Kind));
        Assert.Equal((20.0, 100.0), (r.Columns[0].RangeLow!.Value, r.Columns[0].RangeHigh!.Value));
        Assert.Equal(["a", "b", "c"], r.Columns[1].Categories);
        Assert.Equal(TabularSource.DifferentialPrivacy, r.ClassesSource);
        Assert.Equal(["no", "yes"], r.Classes);
        Assert.Equal(2 + 5 + 2, r.Features);
        Assert.Equal((480, 120), (r.TrainExamples, r.TestExamples));
        Assert.Equal(TabularModelKind.Logistic, r.Model);
        Assert.True(r.TestAccuracy > r.MajorityBaseline + 0.05, $"accuracy {r.TestAccuracy} vs majority {r.MajorityBaseline}");

        foreach (var file in new[] { "report.md", "metrics.json", "schema.json", "model.bin", "command.txt", "test-lines.txt" })
        {
            Assert.True(File.Exists(Path.Combine(r.RunDir, file)), file);
        }

        Assert.Equal(120, File.ReadAllLines(Path.Combine(r.RunDir, "test-lines.txt")).Length);
        var report = File.ReadAllText(Path.Combine(r.RunDir, "report.md"));
        Assert.Contains("treated as public", report, StringComparison.Ordinal);
        Assert.Contains("differential privacy", report, StringComparison.Ordinal);
        var json = TabularTrainRunner.SummaryJson(r);
        foreach (var key in new[] { "test_accuracy", "epsilon", "delta", "noise_multiplier", "steps", "run_dir", "majority_baseline", "preprocessing_epsilon" })
        {
            Assert.True(json.ContainsKey(key), key);
        }
    }

    [Fact]
    public void TheWrittenSchemaDeclaresEverythingSoAReRunSpendsNothingBeforeTraining()
    {
        var data = Table(600, 2);
        var first = TabularTrainRunner.Run(Settings(data, "b1"));
        var r = TabularTrainRunner.Run(Settings(data, "b2") with { SchemaFile = Path.Combine(first.RunDir, "schema.json") });

        Assert.Equal(0, r.PreprocessingEpsilon);
        Assert.Null(r.PreprocessingNoiseMultiplier);
        Assert.Equal(r.TrainingEpsilon, r.Epsilon, 1e-9);
        Assert.Equal(LedgerEpsilon(r), r.Epsilon, 1e-9);
        Assert.All(r.Columns, c => Assert.Equal((TabularSource.Schema, TabularSource.Schema), (c.KindSource, c.ValuesSource)));
        Assert.Equal(TabularSource.Schema, r.ClassesSource);
        Assert.Equal(first.Columns.Select(c => (c.RangeLow, c.RangeHigh, string.Join("|", c.Categories))), r.Columns.Select(c => (c.RangeLow, c.RangeHigh, string.Join("|", c.Categories))));
        // The same total budget, all of it for training: less noise.
        Assert.True(r.NoiseMultiplier < first.NoiseMultiplier, $"σ {r.NoiseMultiplier} vs {first.NoiseMultiplier}");
    }

    [Fact]
    public void AnArffTablesHeaderDeclaresItsTypesCategoriesAndClasses()
    {
        var path = Path.Combine(_dir, "t.arff");
        var rows = string.Concat(Enumerable.Range(0, 300).Select(i => $"{20 + (i % 50)},{(i % 3 == 0 ? "'new car'" : "?")},{(20 + (i % 50) > 45 ? "good" : "bad")}\n"));
        File.WriteAllText(path, "% a comment\n@relation loans\n@attribute age numeric\n@attribute purpose {'new car', other}\n@attribute class {good, bad}\n@data\n" + rows);
        var r = TabularTrainRunner.Run(Settings(path, "c") with { TargetColumn = "class" });

        Assert.Equal((TabularSource.ArffHeader, TabularSource.DifferentialPrivacy), (r.Columns[0].KindSource, r.Columns[0].ValuesSource));
        Assert.Equal((TabularSource.ArffHeader, TabularSource.ArffHeader), (r.Columns[1].KindSource, r.Columns[1].ValuesSource));
        Assert.Equal(["new car", "other"], r.Columns[1].Categories);
        Assert.Equal(TabularSource.ArffHeader, r.ClassesSource);
        Assert.Equal(["good", "bad"], r.Classes);
        Assert.True(r.PreprocessingEpsilon > 0);
    }

    [Fact]
    public void RowsWithoutATargetAreLeftOutAndAFixedSigmaReportsTheTotalItReaches()
    {
        var path = Path.Combine(_dir, "m.csv");
        var rows = string.Concat(Enumerable.Range(0, 400).Select(i => $"{i % 60},{(i % 7 == 0 ? "?" : i % 2 == 0 ? "x" : "y")},{(i % 50 == 0 ? "NA" : i % 60 > 30 ? "1" : "0")}\n"));
        File.WriteAllText(path, "a,b,y\n" + rows);
        var r = TabularTrainRunner.Run(Settings(path, "d") with { NoiseMultiplier = 2, PreprocessingEpsilon = 0.5 });

        Assert.Null(r.Settings.EffectiveTargetEpsilon);
        Assert.Equal(2, r.NoiseMultiplier);
        Assert.Equal(8, r.LeftOutMissingTarget);
        Assert.Equal(392, r.TrainExamples + r.TestExamples);
        Assert.InRange(r.PreprocessingEpsilon, 0.49, 0.5);
        Assert.Equal(LedgerEpsilon(r), r.Epsilon, 1e-9);
        Assert.True(r.Epsilon > r.TrainingEpsilon);
    }

    /// <summary>One random run: table size and seed, target ε, the preprocessing's share of it, and whether the classes are
    /// declared (always below a preprocessing ε of 0.5, where DP may release only one of the two classes and the run stops
    /// with an error instead).</summary>
    public sealed record BudgetCase(int Rows, int Seed, double TargetEpsilon, double Share, bool DeclareClasses);

    private static readonly Gen<BudgetCase> Cases =
        from rows in Gen.Choose(200, 800)
        from seed in Gen.Choose(1, 1000)
        from epsilon in Gen.Elements(0.5, 1.0, 2.0, 4.0, 8.0)
        from share in Gen.Elements(0.02, 0.1, 0.3, 0.6)
        from declare in Gen.Elements(false, true)
        select new BudgetCase(rows, seed, epsilon, share, declare || share * epsilon < 0.5);

    /// <summary>
    /// The report's ε is the whole run's: it equals the PLD ε of the preprocessing events composed with the DP-SGD steps,
    /// it exceeds the training-only ε whenever the preprocessing spent anything, it is at least the preprocessing's own ε,
    /// and it stays within the target.
    /// </summary>
    [Property(MaxTest = 6)]
    public Property TheReportedEpsilonIncludesThePreprocessingsSpend() =>
        Prop.ForAll(Cases.ToArbitrary(), c =>
        {
            var run = $"p{c.Rows}-{c.Seed}-{c.TargetEpsilon}-{c.Share}-{c.DeclareClasses}";
            var settings = Settings(Table(c.Rows, c.Seed, run + ".csv"), run) with
            {
                TargetEpsilon = c.TargetEpsilon,
                PreprocessingEpsilon = c.Share * c.TargetEpsilon,
                Epochs = 2,
                Seed = c.Seed,
            };
            if (c.DeclareClasses)
            {
                var schema = Path.Combine(_dir, run + ".json");
                File.WriteAllText(schema, """{"target": {"classes": ["no", "yes"]}}""");
                settings = settings with { SchemaFile = schema };
            }

            var r = TabularTrainRunner.Run(settings);
            Assert.True(r.PreprocessingEpsilon > 0 && r.PreprocessingEpsilon <= settings.PreprocessingEpsilon, $"{c}: preprocessing ε {r.PreprocessingEpsilon}");
            Assert.Equal(LedgerEpsilon(r), r.Epsilon, 1e-9);
            Assert.True(r.Epsilon > r.TrainingEpsilon, $"{c}: total {r.Epsilon} ≤ training alone {r.TrainingEpsilon}");
            Assert.True(r.Epsilon >= r.PreprocessingEpsilon, $"{c}: total {r.Epsilon} < preprocessing alone {r.PreprocessingEpsilon}");
            Assert.True(r.Epsilon <= c.TargetEpsilon, $"{c}: total {r.Epsilon} > target {c.TargetEpsilon}");
            Assert.Equal(JsonValue.Create(r.Epsilon).ToJsonString(), TabularTrainRunner.SummaryJson(r)["epsilon"]!.ToJsonString());
        });
}
