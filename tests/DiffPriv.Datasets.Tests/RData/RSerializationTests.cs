using System.Text;
using DiffPriv.Datasets.RData;

namespace DiffPriv.Datasets.Tests.RData;

public sealed class RSerializationTests
{
    private static RObject Read(XdrWriter writer) => RSerialization.Unserialize(writer.ToArray(), 0, "test.rds");

    /// <summary>Compares string vectors that may hold NA (null).</summary>
    internal static void AssertStrings(string?[] expected, IEnumerable<string?> actual) =>
        Assert.Equal(expected.Select(s => s ?? "<NA>"), actual.Select(s => s ?? "<NA>"));

    private static DataFormatException Fails(byte[] bytes) => Assert.Throws<DataFormatException>(() => RSerialization.Unserialize(bytes, 0, "test.rds"));

    [Fact]
    public void StringsKeepNaAndTheirDeclaredEncodings()
    {
        var value = Read(new XdrWriter().Header(version: 3, nativeEncoding: "latin1")
            .Flags(16).Int(5)
            .Char("plain", levels: 64)
            .Char(null)
            .Char("caf\u00e9", levels: 8)                              // flagged UTF-8
            .Char("caf\u00e9", levels: 4, encoding: Encoding.Latin1)   // flagged Latin-1
            .Char("na\u00efve", levels: 0, encoding: Encoding.Latin1)); // unflagged: the header's native encoding
        AssertStrings(["plain", null, "caf\u00e9", "caf\u00e9", "na\u00efve"], value.AsCharacter("test.rds", "x"));
    }

    [Fact]
    public void Version2HasNoEncodingNameAndUnflaggedStringsAreUtf8()
    {
        var value = Read(new XdrWriter().Header(version: 2).Flags(16).Int(1).Char("\u00e9t\u00e9", levels: 0));
        AssertStrings(["\u00e9t\u00e9"], value.Strings);
    }

    [Fact]
    public void FactorsReadAsTheirLabelsAndABadCodeIsAnError()
    {
        XdrWriter Factor(int[] codes) => new XdrWriter().Header().Integers(
            codes,
            a => a.Node(t => t.Symbol("levels"), l => l.Strings(["negative", "positive"]))
                .Node(t => t.Symbol("class"), c => c.Strings(["factor"]))
                .Null(),
            isObject: true);

        AssertStrings(["positive", null, "negative"], Read(Factor([2, XdrWriter.NaInteger, 1])).AsCharacter("f.rds", "sentiment"));
        var e = Assert.Throws<DataFormatException>(() => Read(Factor([3])).AsCharacter("f.rds", "sentiment"));
        Assert.Equal("f.rds: sentiment: factor code 3 at position 1 is outside its 2 levels.", e.Message);
        Assert.Contains("is an integer vector, not a character vector", Assert.Throws<DataFormatException>(
            () => Read(new XdrWriter().Header().Integers([1])).AsCharacter("f.rds", "x")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADataFrameWithRepeatedSymbolsAsReferencesAndCharacterAndFactorColumns()
    {
        // As R writes data.frame(text = c("a", "b"), label = factor(c("y", "n")), stringsAsFactors = FALSE): the second
        // use of the symbols "class" is a reference to the first.
        var value = Read(new XdrWriter().Header().List(
            2,
            e => e.Strings(["good film", "bad film"])
                .Integers(
                    [2, 1],
                    a => a.Node(t => t.Symbol("levels"), l => l.Strings(["n", "y"]))
                        .Node(t => t.Symbol("class"), c => c.Strings(["factor"]))
                        .Null(),
                    isObject: true),
            a => a.Node(t => t.Symbol("names"), n => n.Strings(["text", "label"]))
                .Node(t => t.Reference(2), c => c.Strings(["data.frame"]))
                .Node(t => t.Symbol("row.names"), r => r.Integers([XdrWriter.NaInteger, -2]))
                .Null(),
            isObject: true));
        var frame = value.AsDataFrame("df.rds", "df");
        Assert.Equal(["text", "label"], frame.ColumnNames);
        Assert.Equal(2, frame.RowCount);
        Assert.Equal(["good film", "bad film"], frame.CharacterColumn("df.rds", "text"));
        Assert.Equal(["y", "n"], frame.CharacterColumn("df.rds", "label"));
    }

    [Fact]
    public void ARaggedDataFrameOrANonFrameIsAnError()
    {
        var ragged = Read(new XdrWriter().Header().List(
            1,
            e => e.Strings(["a"]),
            a => a.Node(t => t.Symbol("names"), n => n.Strings(["text"]))
                .Node(t => t.Symbol("class"), c => c.Strings(["data.frame"]))
                .Node(t => t.Symbol("row.names"), r => r.Integers([XdrWriter.NaInteger, -3]))
                .Null(),
            isObject: true));
        Assert.Equal("df.rds: df: column 'text' has 1 values, the data frame has 3 rows.", Assert.Throws<DataFormatException>(() => ragged.AsDataFrame("df.rds", "df")).Message);

        var list = Read(new XdrWriter().Header().List(1, e => e.Strings(["a"])));
        Assert.Equal("df.rds: df is a list, not a data frame.", Assert.Throws<DataFormatException>(() => list.AsDataFrame("df.rds", "df")).Message);
    }

    [Fact]
    public void AltrepCompactSequencesWrappersAndDeferredStringsAreExpanded()
    {
        // 1:4 as R 3.5+ writes it: ALTREP_SXP, info = pairlist(class, package, type), state = c(n, first, step), attributes.
        XdrWriter Altrep(string className, Action<XdrWriter> state, Action<XdrWriter>? attributes = null)
        {
            var w = new XdrWriter().Header().Int(XdrWriter.Altrep);
            w.Flags(2).Symbol(className).Flags(2).Symbol("base").Flags(2).Integers([13]).Null();
            state(w);
            if (attributes is null)
            {
                w.Null();
            }
            else
            {
                attributes(w);
            }

            return w;
        }

        Assert.Equal([1, 2, 3, 4], Read(Altrep("compact_intseq", s => s.Doubles([4, 1, 1]))).Integers);
        Assert.Equal([10.0, 8.0, 6.0], Read(Altrep("compact_realseq", s => s.Doubles([3, 10, -2]))).Doubles);

        var wrapped = Read(Altrep(
            "wrap_string",
            s => s.Flags(2).Strings(["x", null]).Flags(2).Integers([0, 0]).Null(),
            a => a.Node(t => t.Symbol("names"), n => n.Strings(["first", "second"])).Null()));
        AssertStrings(["x", null], wrapped.Strings);
        AssertStrings(["first", "second"], wrapped.Names!);

        var deferred = Read(Altrep("deferred_string", s => s.Flags(2).Integers([7, XdrWriter.NaInteger]).Flags(2).Integers([0]).Null()));
        AssertStrings(["7", null], deferred.Strings);

        var unknown = Assert.Throws<DataFormatException>(() => Read(Altrep("mmap_real", s => s.Null())));
        Assert.Contains("the ALTREP class 'mmap_real' is not supported", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALongVectorLengthIsReadFromTwoWords()
    {
        var value = Read(new XdrWriter().Header().Flags(16).Int(-1).Int(0).Int(2).Char("a").Char("b"));
        AssertStrings(["a", "b"], value.Strings);
    }

    [Fact]
    public void ALongPairlistIsReadWithoutRecursionAndDeepNestingIsRefused()
    {
        var writer = new XdrWriter().Header();
        for (var i = 0; i < 100_000; i++)
        {
            writer.Flags(2).Integers([i]);
        }

        var pairlist = Read(writer.Null());
        Assert.Equal(100_000, pairlist.Elements.Length);
        Assert.Equal(99_999, pairlist.Elements[^1].Integers[0]);

        var deep = new XdrWriter().Header();
        for (var i = 0; i < 5000; i++)
        {
            deep.Flags(19).Int(1);
        }

        var e = Fails(deep.Null().ToArray());
        Assert.Contains("nested more than 1000 deep", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BrokenOrUnsupportedInputFailsWithTheProblemNamed()
    {
        var strings = new XdrWriter().Header().Strings(["alpha", "beta"]).ToArray();
        Assert.Contains("truncated", Fails(strings[..^3]).Message, StringComparison.Ordinal);
        Assert.Contains("3 bytes left after the serialised R object", Fails([.. strings, 1, 2, 3]).Message, StringComparison.Ordinal);
        Assert.Contains("a length of 1000000 does not fit", Fails(new XdrWriter().Header().Flags(13).Int(1_000_000).Int(1).ToArray()).Message, StringComparison.Ordinal);
        Assert.Contains("reference 7 to an object not read yet", Fails(new XdrWriter().Header().Reference(7).ToArray()).Message, StringComparison.Ordinal);
        Assert.Contains("R byte code", Fails(new XdrWriter().Header().Flags(21).ToArray()).Message, StringComparison.Ordinal);
        Assert.Contains("unknown R object type 99", Fails(new XdrWriter().Header().Flags(99).ToArray()).Message, StringComparison.Ordinal);
        Assert.Contains("version 4 is not supported", Fails([.. "X\n"u8, 0, 0, 0, 4, 0, 4, 2, 1, 0, 4, 0, 0]).Message, StringComparison.Ordinal);
        Assert.Contains("ASCII serialisation is not supported", Fails([.. "A\n3\n"u8]).Message, StringComparison.Ordinal);
        Assert.Contains("native binary serialisation is not supported", Fails([.. "B\n"u8, 3, 0, 0, 0]).Message, StringComparison.Ordinal);
        Assert.StartsWith("test.rds: not an R serialisation", Fails([.. "PK\u0003\u0004"u8]).Message, StringComparison.Ordinal);
    }
}
