using System.Text;
using DiffPriv.Datasets.Tabular;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DiffPriv.Datasets.Tests.Tabular;

public sealed class CsvWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-csvw-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // RFC 4180 §2 rules 6 and 7: quote a field holding a comma, a quote, CR or LF; double the quotes inside.
    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("  spaces kept  ", "  spaces kept  ")]
    [InlineData("", "")]
    [InlineData("<br />é – ü", "<br />é – ü")]
    [InlineData("one, two", "\"one, two\"")]
    [InlineData("she said \"no\"", "\"she said \"\"no\"\"\"")]
    [InlineData("\"", "\"\"\"\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("carriage\rreturn", "\"carriage\rreturn\"")]
    [InlineData("crlf\r\n", "\"crlf\r\n\"")]
    public void FieldsAreQuotedExactlyWhenRfc4180RequiresIt(string field, string written) =>
        Assert.Equal(written, CsvWriter.Field(field));

    [Fact]
    public void AFileHasTheHeaderThenOneCrlfEndedRecordPerRowInUtf8WithoutBom()
    {
        var path = Path.Combine(_dir, "t.csv");
        CsvWriter.Write(path, ["text", "label"], [["good, really", "great"], ["\"meh\"", "other"]]);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("text,label\r\n\"good, really\",great\r\n\"\"\"meh\"\"\",other\r\n", Encoding.UTF8.GetString(bytes));
        Assert.NotEqual(0xEF, bytes[0]);
        Assert.False(File.Exists(path + ".part"));
    }

    [Fact]
    public void ARecordOfOneEmptyFieldIsQuotedSoThatItIsNotABlankLine()
    {
        var path = Path.Combine(_dir, "one.csv");
        CsvWriter.Write(path, ["text"], [[""], ["x"]]);
        Assert.Equal("text\r\n\"\"\r\nx\r\n", File.ReadAllText(path));
        Assert.Equal([[""], ["x"]], CsvReader.Read(path).Records.Select(r => r.Fields));
    }

    [Fact]
    public void ARecordWithTheWrongFieldCountIsRefusedAndLeavesNoFile()
    {
        var path = Path.Combine(_dir, "bad.csv");
        var e = Assert.Throws<ArgumentException>(() => CsvWriter.Write(path, ["text", "label"], [["a", "b"], ["c"]]));
        Assert.StartsWith("record 2 has 1 fields, the header has 2", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Property(MaxTest = 300)]
    public Property WrittenTablesReadBackExactlyThroughCsvReader()
    {
        var field = Gen.Elements("a", "b", " ", ",", "\"", "\n", "\r\n", "\r", "é", "x y", "<br />").ListOf().Select(p => string.Concat(p));
        var table = Gen.Choose(1, 4).SelectMany(columns =>
            field.ArrayOf(columns).ListOf().Select(rows => (Columns: columns, Rows: rows.ToList())));
        return Prop.ForAll(table.ToArbitrary(), t =>
        {
            var header = Enumerable.Range(1, t.Columns).Select(i => $"c{i}").ToArray();
            var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.csv");
            CsvWriter.Write(path, header, t.Rows.Select(r => (IReadOnlyList<string>)r));
            var read = CsvReader.Read(path);
            File.Delete(path);
            return read.Header.SequenceEqual(header)
                && read.Records.Count == t.Rows.Count
                && read.Records.Select((r, i) => r.Fields.SequenceEqual(t.Rows[i])).All(ok => ok);
        });
    }
}
