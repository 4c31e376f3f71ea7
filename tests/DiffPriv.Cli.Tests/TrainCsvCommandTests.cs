using System.Text;
using System.Text.Json.Nodes;

namespace DiffPriv.Cli.Tests;

/// <summary>
/// <c>diffpriv train csv</c>: every bad input exits 2 with one line naming the file and the 1-based physical line where the
/// offending record starts (the header is line 1), before anything is trained; a good table trains and prints the JSON
/// fields of <c>train mnist</c> plus the majority baseline and the preprocessing's ε.
/// </summary>
public sealed partial class TrainCsvCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-train-csv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private static string Fails(params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(["train", "csv", .. args]);
        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        return line;
    }

    [Fact]
    public void ARaggedRecordNamesTheLineWhereItStarts()
    {
        // Record 2 holds a quoted line break (lines 3 and 4); the ragged record starts on line 5.
        var file = File("ragged.csv", "age,note,y\n31,fine,yes\n40,\"two\nlines\",no\n52,short\n");
        var line = Fails("--data", file, "--target", "y");
        Assert.Equal($"error: {file}:5: record has 2 fields, the header has 3", line);
    }

    [Fact]
    public void ANonNumberInAColumnTheSchemaDeclaresNumericNamesItsLine()
    {
        var file = File("n.csv", "age,city,y\n31,\"Bad\nEms\",yes\nNA,Ulm,no\nforty,Ulm,no\n");
        var schema = File("s.json", """{"columns": {"age": {"type": "numeric", "range": [0, 120]}}}""");
        var line = Fails("--data", file, "--target", "y", "--schema", schema, "--test-fraction", "0.5");
        Assert.StartsWith($"error: {file}:5: 'forty' in column 'age' is not a number (the column is numeric by the schema", line, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownTargetColumnNamesTheHeaderLine()
    {
        var file = File("t.csv", "age,y\n31,yes\n40,no\n");
        var line = Fails("--data", file, "--target", "income");
        Assert.Equal($"error: {file}:1: no column 'income' in the header (columns: 'age', 'y')", line);
    }

    [Fact]
    public void ATargetWithOneClassNamesTheHeaderLine()
    {
        var file = File("one.csv", "age,y\n31,yes\n40,yes\n45,\n50,yes\n");
        var line = Fails("--data", file, "--target", "y");
        Assert.Equal($"error: {file}:1: the target column 'y' holds one class only ('yes'): nothing to classify", line);
    }

    [Fact]
    public void AnEmptyFileOrAHeaderWithoutRecordsNamesLineOne()
    {
        var empty = File("empty.csv", "");
        Assert.Equal($"error: {empty}:1: the file is empty; a header row is required", Fails("--data", empty, "--target", "y"));
        var header = File("header.csv", "age,y\n");
        Assert.Equal($"error: {header}:1: the file has a header line but no records", Fails("--data", header, "--target", "y"));
        var arff = File("empty.arff", "@relation r\n@attribute a numeric\n@attribute y {p, q}\n@data\n");
        Assert.Equal($"error: {arff}:1: the file has an ARFF header but no data rows", Fails("--data", arff, "--target", "y"));
    }

    [Fact]
    public void AnArffProblemNamesItsLineInTheSameForm()
    {
        var arff = File("bad.arff", "% loans\n@relation r\n@attribute a numeric\n@attribute y {p, q}\n@data\n1,p\n2,q\nthree,p\n");
        Assert.Equal($"error: {arff}:8: 'three' is not a number (attribute 'a')", Fails("--data", arff, "--target", "y"));
    }

    [Fact]
    public void AClassOutsideTheDeclaredClassesNamesItsLineInTheTestFile()
    {
        var train = File("train.csv", "age,y\n31,yes\n40,no\n");
        var test = File("test.csv", "age,y\n33,yes\n41,maybe\n");
        var schema = File("classes.json", """{"target": {"name": "y", "classes": ["no", "yes"]}}""");
        var line = Fails("--data", train, "--test", test, "--target", "y", "--schema", schema);
        Assert.Equal($"error: {test}:3: the target 'maybe' is not one of the classes declared in the schema (no, yes)", line);
    }

    [Fact]
    public void AnInvalidSchemaNamesTheSchemaFile()
    {
        var file = File("ok.csv", "age,y\n31,yes\n40,no\n");
        var typo = File("typo.json", """{"colums": {}}""");
        Assert.StartsWith($"error: {typo}: the schema: unknown key \"colums\"", Fails("--data", file, "--target", "y", "--schema", typo), StringComparison.Ordinal);
        var broken = File("broken.json", "{\n\"columns\": {\n\"age\": {\"type\": \"numeric\",}\n,,}\n");
        Assert.StartsWith($"error: {broken}:4: not valid JSON", Fails("--data", file, "--target", "y", "--schema", broken), StringComparison.Ordinal);
        var unknown = File("unknown.json", """{"columns": {"height": {"type": "numeric"}}}""");
        Assert.StartsWith($"error: {unknown}: column 'height' is not in {file}", Fails("--data", file, "--target", "y", "--schema", unknown), StringComparison.Ordinal);
    }

    [Fact]
    public void ConflictingOrOutOfRangeOptionsAndMissingFilesAreUsageErrors()
    {
        var file = File("g.csv", "age,y\n31,yes\n40,no\n");
        Assert.Contains("--test or --test-fraction", Fails("--data", file, "--target", "y", "--test", file, "--test-fraction", "0.5"), StringComparison.Ordinal);
        Assert.Contains("either --target-epsilon or --noise-multiplier", Fails("--data", file, "--target", "y", "--target-epsilon", "3", "--noise-multiplier", "1"), StringComparison.Ordinal);
        Assert.Contains("--model must be logistic or mlp", Fails("--data", file, "--target", "y", "--model", "forest"), StringComparison.Ordinal);
        Assert.Contains("--preprocessing-epsilon (3) must be below the target ε (3)", Fails("--data", file, "--target", "y", "--preprocessing-epsilon", "3"), StringComparison.Ordinal);
        Assert.Contains("--delta must be in (0, 1)", Fails("--data", file, "--target", "y", "--delta", "1"), StringComparison.Ordinal);
        Assert.Contains("no such file", Fails("--data", Path.Combine(_dir, "missing.csv"), "--target", "y"), StringComparison.Ordinal);
        Assert.Contains("--target", Fails("--data", file), StringComparison.Ordinal);
    }

    [Fact]
    public void ATableWithMissingValuesTrainsAndTheJsonCarriesTheTotalEpsilonAndTheBaseline()
    {
        var text = new StringBuilder("age,city,y\n");
        var random = new Random(3);
        for (var i = 0; i < 500; i++)
        {
            var age = random.Next(20, 71);
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{(i % 17 == 0 ? "?" : age)},{(i % 13 == 0 ? "" : "xyz"[i % 3])},{(i % 41 == 0 ? "NA" : age > 45 ? "yes" : "no")}\n");
        }

        var file = File("good.csv", text.ToString());
        var runDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = CliRunner.Run("train", "csv", "--data", file, "--target", "y", "--epochs", "3", "--seed", "5", "--json", "--out", runDir);
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        foreach (var key in new[] { "dataset", "test_accuracy", "epsilon", "epsilon_lower", "delta", "noise_multiplier", "max_grad_norm", "sampling_probability", "steps", "epochs", "wall_seconds", "run_dir", "majority_baseline", "preprocessing_epsilon" })
        {
            Assert.True(json.AsObject().ContainsKey(key), key);
        }

        var epsilon = json["epsilon"]!.GetValue<double>();
        Assert.InRange(epsilon, 2.99, 3.0);
        Assert.InRange(json["preprocessing_epsilon"]!.GetValue<double>(), 0.29, 0.3);
        Assert.True(epsilon > json["training_epsilon"]!.GetValue<double>());
        Assert.Equal("logistic", json["model"]!.GetValue<string>());
        Assert.Equal(runDir, json["run_dir"]!.GetValue<string>());
        Assert.True(System.IO.File.Exists(Path.Combine(runDir, "report.md")));
        Assert.Contains("treated as public", System.IO.File.ReadAllText(Path.Combine(runDir, "report.md")), StringComparison.Ordinal);
    }
}
