using System.Text;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Datasets.Tests.Text;

public sealed class ArffReaderTests : IDisposable
{
    // The layout of WEKA's Reuters files, with the escapes they use (\n, \', \") and a comma inside the text.
    internal const string SmallReuters =
        "% a comment\n" +
        "@relation 'Reuters-21578 Corn ModApte Train'\n" +
        "\n" +
        "@attribute Text string\n" +
        "@attribute class-att {0,1}\n" +
        "\n" +
        "@data\n" +
        "\n" +
        "'BAHIA COCOA REVIEW Showers continued, it said.\\n    Brazil\\'s \\\"temporao\\\" crop is late.\\n Reuter\\n&#3;',0\n" +
        "'U.S. M-1 MONEY SUPPLY RISES 2.1 BILLION DLRS\\n ',1\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-arff-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ArffFile Parse(string text) => ArffReader.Parse(Encoding.UTF8.GetBytes(text), "test.arff");

    private static ArffFormatException Fails(string text) => Assert.Throws<ArffFormatException>(() => Parse(text));

    [Fact]
    public void ReadsHeaderRowsQuotesEscapesAndCommasInsideText()
    {
        var arff = Parse(SmallReuters);
        Assert.Equal("Reuters-21578 Corn ModApte Train", arff.Relation);
        Assert.Equal(["Text", "class-att"], arff.Attributes.Select(a => a.Name));
        Assert.Equal(ArffColumnKind.Text, arff.Attributes[0].Kind);
        Assert.Equal(ArffColumnKind.Nominal, arff.Attributes[1].Kind);
        Assert.Equal(["0", "1"], arff.Attributes[1].NominalValues);
        Assert.Equal(2, arff.Rows.Count);
        Assert.Equal(9, arff.Rows[0].LineNumber);
        Assert.Equal(
            "BAHIA COCOA REVIEW Showers continued, it said.\n    Brazil's \"temporao\" crop is late.\n Reuter\n&#3;",
            arff.Rows[0].Values[0]);
        Assert.Equal("0", arff.Rows[0].Values[1]);
        Assert.Equal("U.S. M-1 MONEY SUPPLY RISES 2.1 BILLION DLRS\n ", arff.Rows[1].Values[0]);
        Assert.Equal(1, arff.IndexOf("CLASS-ATT"));
    }

    [Fact]
    public void ReadsNumericMissingDoubleQuotedAndOtherEscapes()
    {
        var arff = Parse(
            "@RELATION r\n@ATTRIBUTE 'age in years' NUMERIC\n@attribute name string\n@attribute when date yyyy-MM-dd\n" +
            "@attribute ok {'yes, really', no}\n@DATA\n" +
            "42.5, \"tab\\there \\\\ and \\% percent\", 2020-01-31, 'yes, really'\n" +
            "?, ?, ?, no\r\n" +
            "-1e3,'',2021-02-01,no");
        Assert.Equal("age in years", arff.Attributes[0].Name);
        Assert.Equal(ArffColumnKind.Numeric, arff.Attributes[0].Kind);
        Assert.Equal(ArffColumnKind.Date, arff.Attributes[2].Kind);
        Assert.Equal(["yes, really", "no"], arff.Attributes[3].NominalValues);
        Assert.Equal(["42.5", "tab\there \\ and % percent", "2020-01-31", "yes, really"], arff.Rows[0].Values);
        Assert.Equal([null, null, null, "no"], arff.Rows[1].Values);
        Assert.Equal(["-1e3", string.Empty, "2021-02-01", "no"], arff.Rows[2].Values);
    }

    [Fact]
    public void ReadsFromAFileAndSkipsAByteOrderMark()
    {
        var path = Path.Combine(_dir, "bom.arff");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(SmallReuters)]);
        Assert.Equal(2, ArffReader.Read(path).Rows.Count);
    }

    [Fact]
    public void AQuoteLeftOpenByACutLineNamesTheFileAndLine()
    {
        var cut = SmallReuters[..SmallReuters.IndexOf("',0", StringComparison.Ordinal)] + "\n";
        var e = Fails(cut);
        Assert.Equal(9, e.LineNumber);
        Assert.Contains("test.arff, line 9", e.Message, StringComparison.Ordinal);
        Assert.Contains("not closed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileWithoutItsDataSectionIsReportedAsTruncated()
    {
        var e = Fails(SmallReuters[..SmallReuters.IndexOf("@data", StringComparison.Ordinal)]);
        Assert.Contains("ends before its @data", e.Message, StringComparison.Ordinal);
        Assert.Equal(7, e.LineNumber);
    }

    [Theory]
    [InlineData("'text',0,1", 1, "3 values, but the header declares 2")]
    [InlineData("'text'", 1, "1 values, but the header declares 2")]
    [InlineData("'text',2", 1, "'2' is not a value of the nominal attribute 'class-att'")]
    [InlineData("'text',", 1, "a value is missing after the comma")]
    [InlineData("'text' x,0", 1, "unexpected 'x' after a quoted value")]
    [InlineData("te'xt,0", 1, "stray quote")]
    [InlineData("{0 'text'}", 1, "sparse rows")]
    [InlineData("'ok',0\n,0", 2, "an empty value")]
    public void BadRowsNameTheirLine(string rows, int rowLine, string problem)
    {
        var e = Fails("@relation r\n@attribute Text string\n@attribute class-att {0,1}\n@data\n" + rows + "\n");
        Assert.Equal(4 + rowLine, e.LineNumber);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("@attribute x numeric\n@relation r\n@data\n1", 1, "@attribute before @relation")]
    [InlineData("@relation r\n@data\n1", 2, "@data before any @attribute")]
    [InlineData("@relation r\n@attribute x numeric\n@attribute X string\n@data\n1,a", 3, "declared twice")]
    [InlineData("@relation r\n@attribute x complex\n@data\n1", 2, "unknown type 'complex'")]
    [InlineData("@relation r\n@attribute x {a,b\n@data\na", 2, "does not end with '}'")]
    [InlineData("@relation r\n@attribute x relational\n@data\na", 2, "relational attributes")]
    [InlineData("@relation r\n@attribute x numeric\n@data\nabc", 4, "'abc' is not a number")]
    [InlineData("@relation r\n@attribute x numeric\n@datum\n1", 3, "unknown header keyword '@DATUM'")]
    [InlineData("hello\n@relation r", 1, "expected @relation, @attribute or @data")]
    public void BadHeadersNameTheirLine(string text, int line, string problem)
    {
        var e = Fails(text);
        Assert.Equal(line, e.LineNumber);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BinaryGarbageIsRejectedWithItsLine()
    {
        var good = Encoding.UTF8.GetBytes(SmallReuters);
        byte[] invalidUtf8 = [.. good[..40], 0xC3, 0x28, .. good[40..]];
        var e = Assert.Throws<ArffFormatException>(() => ArffReader.Parse(invalidUtf8, "bad.arff"));
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("not valid UTF-8", e.Message, StringComparison.Ordinal);

        byte[] nul = [.. good[..^5], 0, .. good[^5..]];
        var e2 = Assert.Throws<ArffFormatException>(() => ArffReader.Parse(nul, "nul.arff"));
        Assert.Equal(10, e2.LineNumber);
        Assert.Contains("control character U+0000", e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownAttributeNamesListTheKnownOnes()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => Parse(SmallReuters).IndexOf("body"));
        Assert.Contains("Text, class-att", e.Message, StringComparison.Ordinal);
    }
}
