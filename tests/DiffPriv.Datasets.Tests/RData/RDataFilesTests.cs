using System.IO.Compression;
using System.Security.Cryptography;
using DiffPriv.Datasets.RData;

namespace DiffPriv.Datasets.Tests.RData;

public sealed class RDataFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-rdata-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Gzip(byte[] bytes) => RDataFixtures.Gzip(bytes);

    private static byte[] Zlib(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal))
        {
            zlib.Write(bytes);
        }

        return output.ToArray();
    }

    private static byte[] Payload() => RDataFixtures.Payload();

    // Golden values: the help index of r-cran-janeaustenr 1.0.0 (RDataFixtures), as R's readRDS() shows it and an
    // independent Python decoder of the same bytes printed.
    private static void AssertIsJaneaustenrHelpIndex(RObject value, string source)
    {
        var frame = value.AsDataFrame(source, "Rd.rds");
        Assert.Equal(["File", "Name", "Type", "Title", "Encoding", "Aliases", "Concepts", "Keywords"], frame.ColumnNames);
        Assert.Equal(8, frame.RowCount);
        Assert.Equal(
            ["austen_books", "emma", "janeaustenr-package", "mansfieldpark", "northangerabbey", "persuasion", "prideprejudice", "sensesensibility"],
            frame.CharacterColumn(source, "Name"));
        Assert.Equal(["", "data", "package", "data", "data", "data", "data", "data"], frame.CharacterColumn(source, "Type"));
        Assert.Equal("The text of Jane Austen's novel \"Pride and Prejudice\"", frame.CharacterColumn(source, "Title")[6]);
        RSerializationTests.AssertStrings(["janeaustenr", "janeaustenr-package"], frame.Column(source, "Aliases").Elements[2].Strings);

        var e = Assert.Throws<DataFormatException>(() => frame.CharacterColumn(source, "Aliases"));
        Assert.Contains("column 'Aliases' is a list, not a character vector or factor", e.Message, StringComparison.Ordinal);
        Assert.Contains("no column 'Author'", Assert.Throws<DataFormatException>(() => frame.Column(source, "Author")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheFixturePayloadIsTheOneThatWasRecompressed() =>
        Assert.Equal(RDataFixtures.PayloadSha256, Convert.ToHexStringLower(SHA256.HashData(Payload())));

    [Fact]
    public void ARealGzipRdsFileIsADataFrameOfCharacterColumns() =>
        AssertIsJaneaustenrHelpIndex(RDataFiles.ReadRds(Write("Rd.rds", RDataFixtures.RdRdsGzip)), "Rd.rds");

    [Theory]
    [InlineData("bzip2")]
    [InlineData("xz")]
    [InlineData("none")]
    public void Bzip2XzAndUncompressedRdsFilesReadTheSame(string compression)
    {
        var bytes = compression switch
        {
            "bzip2" => RDataFixtures.RdRdsBzip2,
            "xz" => RDataFixtures.RdRdsXz,
            _ => Payload(),
        };
        Assert.Equal(Payload(), RDataFiles.Decompress(bytes, compression));
        AssertIsJaneaustenrHelpIndex(RDataFiles.ReadRds(Write($"Rd-{compression}.rds", bytes)), compression);
    }

    [Fact]
    public void LazyLoadRecordsDecompressWithEachOfRsCompressionTypes()
    {
        var payload = Payload();
        var length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, payload.Length);
        var bzip2 = RDataFixtures.RdRdsBzip2; // a bzip2 stream, as R_compress2 writes after its 5-byte header

        Assert.Equal(payload, RDataFiles.DecompressRecord([.. length, .. Zlib(payload)], 1, "c1"));
        Assert.Equal(payload, RDataFiles.DecompressRecord([.. length, (byte)'2', .. bzip2], 2, "c2"));
        Assert.Equal(payload, RDataFiles.DecompressRecord([.. length, (byte)'1', .. Zlib(payload)], 2, "c2z"));
        Assert.Equal(payload, RDataFiles.DecompressRecord([.. length, (byte)'Z', .. RDataFixtures.RdLzma2Raw], 3, "c3"));
        Assert.Equal(payload, RDataFiles.DecompressRecord([.. length, (byte)'0', .. payload], 3, "c3s"));
        Assert.Equal(payload, RDataFiles.DecompressRecord(payload, 0, "c0"));

        var wrongLength = (byte[])[0, 0, 0, 9, .. Zlib(payload)];
        Assert.Contains("decompressed to 1791 bytes, its header says 9", Assert.Throws<DataFormatException>(() => RDataFiles.DecompressRecord(wrongLength, 1, "x")).Message, StringComparison.Ordinal);
        Assert.Contains("unknown record compression type 'Q'", Assert.Throws<DataFormatException>(() => RDataFiles.DecompressRecord([.. length, (byte)'Q', 1, 2], 3, "x")).Message, StringComparison.Ordinal);
        var corrupt = (byte[])[.. length, .. Zlib(payload)];
        corrupt[10] ^= 0xFF;
        corrupt[11] ^= 0xFF;
        Assert.Contains("the zlib data are corrupt or truncated", Assert.Throws<DataFormatException>(() => RDataFiles.DecompressRecord(corrupt, 1, "x")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATruncatedCompressedFileIsAFormatError()
    {
        var path = Write("cut.rds", RDataFixtures.RdRdsGzip[..300]);
        var e = Assert.Throws<DataFormatException>(() => RDataFiles.ReadRds(path));
        Assert.StartsWith($"{path}: the gzip data are corrupt or truncated", e.Message, StringComparison.Ordinal);

        var xz = Write("cut.xz", RDataFixtures.RdRdsXz[..300]);
        Assert.Contains("the xz data are corrupt or truncated", Assert.Throws<DataFormatException>(() => RDataFiles.ReadRds(xz)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnRdaFileIsATaggedPairlistOfObjects()
    {
        var rda = new XdrWriter().Raw("RDX3\n"u8).Header()
            .Node(t => t.Symbol("lines"), v => v.Strings(["It is a truth", null, "universally acknowledged"]))
            .Node(t => t.Symbol("frame"), v => v.List(
                1,
                e => e.Strings(["a", "b"]),
                attributes => attributes
                    .Node(t => t.Symbol("names"), n => n.Strings(["text"]))
                    .Node(t => t.Symbol("class"), c => c.Strings(["data.frame"]))
                    .Node(t => t.Symbol("row.names"), r => r.Integers([XdrWriter.NaInteger, -2]))
                    .Null(),
                isObject: true))
            .Null()
            .ToArray();
        foreach (var (name, bytes) in new[] { ("plain.rda", rda), ("gzip.rda", Gzip(rda)) })
        {
            var objects = RDataFiles.ReadRda(Write(name, bytes));
            Assert.Equal(["lines", "frame"], objects.Keys);
            RSerializationTests.AssertStrings(["It is a truth", null, "universally acknowledged"], objects["lines"].AsCharacter(name, "lines"));
            var frame = objects["frame"].AsDataFrame(name, "frame");
            Assert.Equal(2, frame.RowCount);
            Assert.Equal(["a", "b"], frame.CharacterColumn(name, "text"));
        }

        var ascii = Write("ascii.rda", [.. "RDA3\n"u8, .. "A\n3\n"u8]);
        Assert.Contains("ASCII format, which is not supported", Assert.Throws<DataFormatException>(() => RDataFiles.ReadRda(ascii)).Message, StringComparison.Ordinal);
        var rds = Write("notrda.rda", RDataFixtures.RdRdsGzip);
        Assert.Contains("not an R data file", Assert.Throws<DataFormatException>(() => RDataFiles.ReadRda(rds)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALazyLoadDatabaseIsReadThroughItsIndex()
    {
        var first = new XdrWriter().Header().Strings(["EMMA", string.Empty, "By Jane Austen"]).ToArray();
        var second = new XdrWriter().Header().Strings(["Persuasion"]).ToArray();
        var records = new[] { Record(first), Record(second) };
        var rdb = Write("Rdata.rdb", [.. records[0], .. records[1]]);

        byte[] Index(int secondOffset) =>
            RDataFixtures.LazyLoadIndex(["emma", "persuasion"], [(0, records[0].Length), (secondOffset, records[1].Length)], compression: 1);

        var objects = RDataFiles.ReadLazyLoadDatabase(rdb, Write("Rdata.rdx", Index(records[0].Length)));
        Assert.Equal(["emma", "persuasion"], objects.Keys);
        Assert.Equal(["EMMA", string.Empty, "By Jane Austen"], objects["emma"].AsCharacter("x", "emma"));
        Assert.Equal(["Persuasion"], objects["persuasion"].AsCharacter("x", "persuasion"));

        var badIndex = Write("bad.rdx", Index(records[0].Length + 1000));
        var e = Assert.Throws<DataFormatException>(() => RDataFiles.ReadLazyLoadDatabase(rdb, badIndex));
        Assert.Contains("the index's key for 'persuasion' does not point inside the", e.Message, StringComparison.Ordinal);

        static byte[] Record(byte[] serialised)
        {
            var length = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, serialised.Length);
            return [.. length, .. Zlib(serialised)];
        }
    }

    // R's makeLazyLoadDB(compress = 3) writes each record as a 4-byte length, 'Z' and raw LZMA2 (xz preset 6), or '0' and
    // the bytes themselves when compressing does not help (R's src/main/serialize.c, R_compress3): modeldata 1.1.0's data
    // are such a database.
    [Fact]
    public void ALazyLoadDatabaseOfLzma2RecordsIsReadThroughItsIndex()
    {
        var lzma2 = RDataFixtures.Lzma2Record();
        var serialised = new XdrWriter().Header().Strings(["great", "other"]).ToArray();
        var length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, serialised.Length);
        var stored = (byte[])[.. length, (byte)'0', .. serialised];
        var rdb = Write("Rdata.rdb", [.. stored, .. lzma2]);
        var rdx = Write("Rdata.rdx", RDataFixtures.LazyLoadIndex(["labels", "Rd"], [(0, stored.Length), (stored.Length, lzma2.Length)], compression: 3));

        var objects = RDataFiles.ReadLazyLoadDatabase(rdb, rdx);
        Assert.Equal(["labels", "Rd"], objects.Keys);
        Assert.Equal(["great", "other"], objects["labels"].AsCharacter("x", "labels"));
        AssertIsJaneaustenrHelpIndex(objects["Rd"], "Rdata.rdb");

        // The same bytes with the index saying zlib (compression 1): the record is taken for zlib data and refused.
        var asZlib = Write("zlib.rdx", RDataFixtures.LazyLoadIndex(["Rd"], [(stored.Length, lzma2.Length)], compression: 1));
        Assert.Contains("the zlib data are corrupt or truncated", Assert.Throws<DataFormatException>(() => RDataFiles.ReadLazyLoadDatabase(rdb, asZlib)).Message, StringComparison.Ordinal);

        // A damaged LZMA2 record is a format error that names the variable, not a crash.
        var damaged = (byte[])[.. stored, .. lzma2];
        damaged[stored.Length + 40] ^= 0xFF;
        damaged[stored.Length + 41] ^= 0xFF;
        var e = Assert.Throws<DataFormatException>(() => RDataFiles.ReadLazyLoadDatabase(Write("damaged.rdb", damaged), rdx));
        Assert.Contains("('Rd')", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyTheRequestedVariablesOfALazyLoadDatabaseAreDecoded()
    {
        var lzma2 = RDataFixtures.Lzma2Record();
        var garbage = (byte[])[0, 0, 0, 9, (byte)'Z', 1, 2, 3]; // would fail to decode
        var rdb = Write("Rdata.rdb", [.. garbage, .. lzma2]);
        var rdx = Write("Rdata.rdx", RDataFixtures.LazyLoadIndex(["broken", "Rd"], [(0, garbage.Length), (garbage.Length, lzma2.Length)], compression: 3));

        var objects = RDataFiles.ReadLazyLoadDatabase(rdb, rdx, ["Rd", "absent"]);
        Assert.Equal(["Rd"], objects.Keys);
        AssertIsJaneaustenrHelpIndex(objects["Rd"], "Rdata.rdb");
        Assert.Throws<DataFormatException>(() => RDataFiles.ReadLazyLoadDatabase(rdb, rdx));
    }
}
