namespace DiffPriv.Cli.Tests;

/// <summary>
/// <c>diffpriv train text</c> on malformed input: every problem exits 2 with one line naming the file and the 1-based
/// physical line where the offending record starts (the header is line 1), before any model is loaded.
/// </summary>
public sealed partial class TrainTextCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-train-text-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Csv(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Fails(params string[] args)
    {
        var (code, stdout, stderr) = CliRunner.Run(["train", "text", .. args]);
        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        return line;
    }

    [Fact]
    public void AMissingTextColumnNamesTheHeaderLine()
    {
        var file = Csv("a.csv", "review,label\ngood,pos\nbad,neg\n");
        var line = Fails("--data", file, "--text-column", "text", "--target", "label");
        Assert.Contains($"{file}:1:", line, StringComparison.Ordinal);
        Assert.Contains("no column 'text'", line, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownLabelColumnNamesTheHeaderLine()
    {
        var file = Csv("b.csv", "text,label\ngood,pos\nbad,neg\n");
        var line = Fails("--data", file, "--text-column", "text", "--target", "sentiment");
        Assert.Contains($"{file}:1:", line, StringComparison.Ordinal);
        Assert.Contains("no column 'sentiment'", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ARaggedRecordNamesTheLineWhereItStarts()
    {
        // Record 2 holds a quoted line break (lines 3 and 4); the ragged record starts on line 5.
        var file = Csv("c.csv", "text,label\n\"fine, really\",pos\n\"two\nlines\",neg\nthree,fields,here\n");
        var line = Fails("--data", file, "--text-column", "text", "--target", "label");
        Assert.Contains($"{file}:5:", line, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyTextNamesItsLine()
    {
        var file = Csv("d.csv", "text,label\ngood,pos\n\"  \",neg\n");
        var line = Fails("--data", file, "--text-column", "text", "--target", "label");
        Assert.Contains($"{file}:3:", line, StringComparison.Ordinal);
        Assert.Contains("empty", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ALabelOutsideTheDeclaredSetNamesItsLineInTheTestFileToo()
    {
        var train = Csv("e.csv", "text,label\ngood,pos\nbad,neg\n");
        var test = Csv("f.csv", "text,label\nfine,pos\nmeh,neutral\n");
        var line = Fails("--data", train, "--test", test, "--text-column", "text", "--target", "label", "--labels", "pos,neg");
        Assert.Contains($"{test}:3:", line, StringComparison.Ordinal);
        Assert.Contains("'neutral'", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ConflictingOrOutOfRangeOptionsAndMissingFilesAreUsageErrors()
    {
        var file = Csv("g.csv", "text,label\ngood,pos\nbad,neg\n");
        Assert.Contains("--test or --test-fraction", Fails("--data", file, "--text-column", "text", "--target", "label", "--test", file, "--test-fraction", "0.5"), StringComparison.Ordinal);
        Assert.Contains("--test-fraction", Fails("--data", file, "--text-column", "text", "--target", "label", "--test-fraction", "1.5"), StringComparison.Ordinal);
        Assert.Contains("--target-epsilon", Fails("--data", file, "--text-column", "text", "--target", "label", "--target-epsilon", "0"), StringComparison.Ordinal);
        Assert.Contains("--labels", Fails("--data", file, "--text-column", "text", "--target", "label", "--labels", "pos"), StringComparison.Ordinal);
        Assert.Contains("no such file", Fails("--data", Path.Combine(_dir, "missing.csv"), "--text-column", "text", "--target", "label"), StringComparison.Ordinal);
        Assert.Contains("--data", Fails("--text-column", "text", "--target", "label"), StringComparison.Ordinal);
    }
}
