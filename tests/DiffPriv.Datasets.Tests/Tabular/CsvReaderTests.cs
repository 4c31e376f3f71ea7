using System.Text;
using DiffPriv.Datasets.Tabular;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DiffPriv.Datasets.Tests.Tabular;

public sealed class CsvReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-csv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CsvTable Parse(string text) => CsvReader.Parse(text, "reviews.csv");

    private static CsvFormatException Fails(string text) => Assert.Throws<CsvFormatException>(() => Parse(text));

    private static IEnumerable<(int Line, string[] Fields)> Rows(CsvTable table) => table.Records.Select(r => (r.LineNumber, r.Fields.ToArray()));

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void ReadsHeaderAndRecordsWithEveryLineEnding(string eol)
    {
        var table = Parse($"text,label{eol}great film,pos{eol}dull,neg{eol}");
        Assert.Equal("reviews.csv", table.FileName);
        Assert.Equal(["text", "label"], table.Header);
        Assert.Equal([(2, new[] { "great film", "pos" }), (3, ["dull", "neg"])], Rows(table));
    }

    [Fact]
    public void QuotedFieldsHoldCommasDoubledQuotesAndLineBreaksThatAdvanceTheLineCount()
    {
        var table = Parse(
            "text,label\n" +
            "\"one, two\",pos\n" +                            // line 2
            "\"she said \"\"no\"\"\nand left\n\",neg\n" +      // lines 3-5
            "\"\",neg\n" +                                     // line 6: an empty quoted field
            "plain,\"pos\"\n");                                // line 7
        Assert.Equal(
            [
                (2, new[] { "one, two", "pos" }),
                (3, ["she said \"no\"\nand left\n", "neg"]),
                (6, [string.Empty, "neg"]),
                (7, ["plain", "pos"]),
            ],
            Rows(table));
    }

    [Fact]
    public void CrLfInsideQuotesIsKeptAndCountsAsOneLine()
    {
        var table = Parse("a,b\r\n\"x\r\ny\",1\r\n\"p\rq\",2\r\nz,3\r\n");
        Assert.Equal([(2, new[] { "x\r\ny", "1" }), (4, ["p\rq", "2"]), (6, ["z", "3"])], Rows(table));
    }

    [Fact]
    public void AByteOrderMarkIsIgnoredInTextAndInFiles()
    {
        Assert.Equal(["text", "label"], Parse("\uFEFFtext,label\nx,1\n").Header);

        var path = Path.Combine(_dir, "bom.csv");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "text,label\r\nx,1\r\n"u8]);
        var table = CsvReader.Read(path);
        Assert.Equal(["text", "label"], table.Header);
        Assert.Equal([(2, new[] { "x", "1" })], Rows(table));
    }

    [Fact]
    public void AMissingFinalLineBreakStillEndsTheLastRecordAndAFinalOneAddsNone()
    {
        Assert.Equal([(2, new[] { "x", "1" })], Rows(Parse("a,b\nx,1")));
        Assert.Equal([(2, new[] { "x", "1" })], Rows(Parse("a,b\nx,1\n")));
        Assert.Equal([(2, new[] { "x", string.Empty })], Rows(Parse("a,b\nx,")));
        Assert.Equal([(2, new[] { "x", "q" })], Rows(Parse("a,b\nx,\"q\"")));
        Assert.Empty(Parse("a,b").Records);
        Assert.Empty(Parse("a,b\r\n").Records);
    }

    [Fact]
    public void EmptyLinesAreSkippedButCounted()
    {
        var table = Parse("a,b\n\n1,2\r\n\r\n\n3,4\n\n");
        Assert.Equal([(3, new[] { "1", "2" }), (6, ["3", "4"])], Rows(table));
    }

    [Fact]
    public void EmptyFieldsAndSpacesAreKeptAsTheyAre()
    {
        Assert.Equal([(2, new[] { string.Empty, string.Empty, " x " })], Rows(Parse("a,b,c\n,, x \n")));

        // A line of spaces is not empty: it is a record with one field.
        Assert.Equal([(2, new[] { "  " })], Rows(Parse("text\n  \n")));
    }

    [Fact]
    public void ARaggedRecordNamesTheFileTheLineWhereItStartsAndBothCounts()
    {
        var e = Fails("text,label\nok,pos\n\"multi\nline\",neg\n\nx,pos,extra\n");
        Assert.Equal("reviews.csv:6: record has 3 fields, the header has 2", e.Message);
        Assert.Equal(("reviews.csv", 6), (e.FileName, e.LineNumber));

        Assert.Equal("reviews.csv:2: record has 1 field, the header has 2", Fails("text,label\nlonely\n").Message);
        Assert.Equal("reviews.csv:3: record has 1 field, the header has 2", Fails("text,label\nx,y\n   \n").Message);

        // A record that spans lines is reported where it starts.
        Assert.Equal("reviews.csv:2: record has 1 field, the header has 2", Fails("text,label\n\"a\nb\nc\"\n").Message);
    }

    [Fact]
    public void AnUnterminatedQuoteIsReportedWhereTheQuotedFieldStarts()
    {
        var e = Fails("text,label\nok,pos\nfine,\"neg\nmore\n\nand more\n");
        Assert.Equal(3, e.LineNumber);
        Assert.StartsWith("reviews.csv:3: a quoted field starting on this line is never closed", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Fails("\"text,label\n").LineNumber);
    }

    [Fact]
    public void StrayQuotesAreErrorsOnTheirLine()
    {
        var afterClose = Fails("text,label\n\"a\nb\"c,pos\n");
        Assert.Equal(3, afterClose.LineNumber);
        Assert.Contains("'c' after the closing quote", afterClose.Message, StringComparison.Ordinal);

        var inside = Fails("text,label\nok,pos\nthe 5\" screen,neg\n");
        Assert.Equal("reviews.csv:3: a quote (\") inside an unquoted field; enclose the whole field in quotes and double the quote (\"\")", inside.Message);

        // A space before the opening quote makes the field unquoted, as RFC 4180 says.
        Assert.Equal(2, Fails("a,b\nx, \"y\"\n").LineNumber);
    }

    [Fact]
    public void AHeaderRowIsRequiredOnLineOne()
    {
        Assert.Equal("reviews.csv:1: the file is empty; a header row is required", Fails(string.Empty).Message);
        Assert.Equal("reviews.csv:1: the file is empty; a header row is required", Fails("\uFEFF").Message);
        Assert.Equal("reviews.csv:1: the first line is empty; it must be the header row", Fails("\ntext,label\nx,1\n").Message);
    }

    [Fact]
    public void ColumnsAreLookedUpExactlyAndMissingOrRepeatedOnesAreErrorsAtLineOne()
    {
        var table = Parse("text,label,text\nx,1,y\n");
        Assert.Equal(1, table.ColumnIndex("label"));
        Assert.Equal("reviews.csv:1: no column 'Label' in the header (columns: 'text', 'label', 'text')", Assert.Throws<CsvFormatException>(() => table.ColumnIndex("Label")).Message);
        Assert.Equal("reviews.csv:1: column 'text' appears 2 times in the header (columns 1, 3)", Assert.Throws<CsvFormatException>(() => table.ColumnIndex("text")).Message);
    }

    [Fact]
    public void TextRecordsTakeTheTwoColumnsWithTheirLines()
    {
        var table = Parse("id,review,sentiment\n1,\"Great, really.\nLoved it.\",pos\n2,Dull.,neg\n");
        Assert.Equal(
            [new CsvTextRecord(2, "Great, really.\nLoved it.", "pos"), new CsvTextRecord(4, "Dull.", "neg")],
            table.TextRecords("review", "sentiment"));
    }

    [Fact]
    public void AnEmptyTextOrTargetIsAnErrorAtItsRecordsLine()
    {
        var csv = "review,sentiment\n\"two\nlines\",pos\nfine,neg\n\"  \",pos\n";
        Assert.Equal("reviews.csv:5: the text column 'review' is empty", Assert.Throws<CsvFormatException>(() => Parse(csv).TextRecords("review", "sentiment")).Message);
        Assert.Equal("reviews.csv:2: the text column 'review' is empty", Assert.Throws<CsvFormatException>(() => Parse("review,sentiment\n,pos\n").TextRecords("review", "sentiment")).Message);
        Assert.Equal("reviews.csv:3: the target column 'sentiment' is empty", Assert.Throws<CsvFormatException>(() => Parse("review,sentiment\nok,pos\nok,\n").TextRecords("review", "sentiment")).Message);
        Assert.Equal("reviews.csv:1: no column 'label' in the header (columns: 'review', 'sentiment')", Assert.Throws<CsvFormatException>(() => Parse("review,sentiment\nok,pos\n").TextRecords("review", "label")).Message);
        Assert.Equal(1, Assert.Throws<CsvFormatException>(() => Parse("review,sentiment\nok,pos\n").TextRecords("review", "review")).LineNumber);
    }

    [Fact]
    public void AFileIsNamedAsGivenAndInvalidUtf8IsReportedOnItsLine()
    {
        var path = Path.Combine(_dir, "reviews.csv");
        File.WriteAllBytes(path, [.. "text,label\n\"a\nb\",1\nx"u8, 0xFF, .. "y,2\n"u8]);
        var e = Assert.Throws<CsvFormatException>(() => CsvReader.Read(path));
        Assert.Equal(path, e.FileName);
        Assert.Equal(4, e.LineNumber);
        Assert.Contains("not valid UTF-8 (byte 0xFF at offset 20)", e.Message, StringComparison.Ordinal);

        File.WriteAllText(path, "text,label\nok,pos\nbad\n");
        Assert.Equal($"{path}:3: record has 1 field, the header has 2", Assert.Throws<CsvFormatException>(() => CsvReader.Read(path)).Message);
        Assert.Throws<FileNotFoundException>(() => CsvReader.Read(Path.Combine(_dir, "missing.csv")));
    }

    // Oracle: an independent RFC 4180 writer. Any table of fields built from awkward characters, written with any line
    // ending (and optional blank lines), reads back to the same fields, and every record's line number is 1 + the number
    // of line breaks written before it.
    [Property(MaxTest = 300)]
    public Property WrittenTablesReadBackWithTheirStartingLines()
    {
        var field = Gen.Elements("a", "b", " ", ",", "\"", "\n", "\r\n", "\r", "é", "x y").ListOf().Select(p => string.Concat(p));
        var table = Gen.Choose(1, 4).SelectMany(columns =>
            field.ArrayOf(columns).ListOf().Select(rows => (Columns: columns, Rows: rows.ToList())));
        var layout =
            from eol in Gen.Elements("\n", "\r\n", "\r")
            from blankLines in Gen.Elements(true, false)
            from finalBreak in Gen.Elements(true, false)
            from quoteAll in Gen.Elements(true, false)
            select (Eol: eol, BlankLines: blankLines, FinalBreak: finalBreak, QuoteAll: quoteAll);
        return Prop.ForAll(table.ToArbitrary(), layout.ToArbitrary(), (t, l) =>
        {
            var (eol, blankLines, finalBreak, quoteAll) = l;
            var header = Enumerable.Range(1, t.Columns).Select(i => $"c{i}").ToArray();
            var text = new StringBuilder();
            var expectedLines = new List<int>();
            var line = 1;
            void Write(string s)
            {
                text.Append(s);
                line += LineBreaks(s);
            }

            Write(string.Join(',', header));
            foreach (var row in t.Rows.Select(r => r.ToArray()))
            {
                Write(eol);
                if (blankLines)
                {
                    Write(eol);
                }

                expectedLines.Add(line);
                Write(string.Join(',', row.Select(f => Quote(f, quoteAll))));
            }

            if (finalBreak)
            {
                Write(eol);
            }

            var parsed = CsvReader.Parse(text.ToString(), "p.csv");
            return parsed.Header.SequenceEqual(header)
                && parsed.Records.Count == t.Rows.Count
                && parsed.Records.Select((r, i) => r.Fields.SequenceEqual(t.Rows[i]) && r.LineNumber == expectedLines[i]).All(ok => ok);
        });
    }

    // Quotes what must be quoted; an empty field too (a one-column record with an empty field would be an empty line).
    private static string Quote(string field, bool always) =>
        !always && field.Length > 0 && field.IndexOfAny([',', '"', '\r', '\n']) < 0 ? field : $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static int LineBreaks(string s) => s.Replace("\r\n", "\n", StringComparison.Ordinal).Count(c => c is '\n' or '\r');
}
