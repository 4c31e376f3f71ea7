using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.LZMA;
using SharpCompress.Compressors.Xz;

namespace DiffPriv.Datasets.RData;

/// <summary>
/// R's data files, read without R: <c>.rds</c> (one object, <c>saveRDS</c>), <c>.rda</c>/<c>.RData</c> (named objects,
/// <c>save</c>; magic <c>RDX2</c>/<c>RDX3</c>) and the lazy-load databases in installed packages (<c>data/Rdata.rdb</c>
/// with its index <c>Rdata.rdx</c>). Whole files may be gzip-, bzip2- or xz-compressed (recognised by their magic
/// bytes); database records are compressed one by one as <c>makeLazyLoadDB</c> does (R's <c>src/main/connections.c</c>,
/// <c>R_decompress1/2/3</c>): a 4-byte big-endian length, then zlib data, or a type byte and zlib (<c>'1'</c>),
/// bzip2 (<c>'2'</c>), raw LZMA2 (<c>'Z'</c>, R's xz preset 6) or stored (<c>'0'</c>) data.
/// </summary>
internal static class RDataFiles
{
    /// <summary>Reads an <c>.rds</c> file.</summary>
    /// <exception cref="DataFormatException">The file is not a readable RDS file.</exception>
    public static RObject ReadRds(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return RSerialization.Unserialize(Decompress(File.ReadAllBytes(path), path), 0, path);
    }

    /// <summary>Reads an <c>.rda</c> / <c>.RData</c> file: object name → value, in the order they were saved.</summary>
    /// <exception cref="DataFormatException">The file is not a readable R data file.</exception>
    public static IReadOnlyDictionary<string, RObject> ReadRda(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var data = Decompress(File.ReadAllBytes(path), path);
        var magic = data.Length >= 5 ? Encoding.ASCII.GetString(data, 0, 5) : string.Empty;
        if (magic is not ("RDX2\n" or "RDX3\n"))
        {
            throw new DataFormatException(path, magic switch
            {
                "RDA2\n" or "RDA3\n" => "an R data file in ASCII format, which is not supported; save it with ascii = FALSE",
                "RDB2\n" or "RDB3\n" => "an R data file in native binary format, which is not supported; save it with the default XDR format",
                _ => "not an R data file (no RDX2 or RDX3 mark after decompression)",
            });
        }

        var pairlist = RSerialization.Unserialize(data, 5, path);
        if (pairlist.Type != RType.Pairlist || pairlist.Tags.Any(t => t is null))
        {
            throw new DataFormatException(path, $"an R data file should hold a tagged pairlist of objects, not {pairlist.Describe()}");
        }

        var objects = new Dictionary<string, RObject>();
        for (var i = 0; i < pairlist.Elements.Length; i++)
        {
            objects[pairlist.Tags[i]!] = pairlist.Elements[i];
        }

        return objects;
    }

    /// <summary>Reads the variables of a lazy-load database: variable name → value, in index order.</summary>
    /// <param name="rdbPath">The database, e.g. <c>data/Rdata.rdb</c>.</param>
    /// <param name="rdxPath">Its index, e.g. <c>data/Rdata.rdx</c>.</param>
    /// <param name="only">The variables to decode (others are skipped, so one data set of a package with many costs only its
    /// own records); null: all. Names the index does not list are simply absent from the result.</param>
    /// <exception cref="DataFormatException">A file is not what it should be.</exception>
    public static IReadOnlyDictionary<string, RObject> ReadLazyLoadDatabase(string rdbPath, string rdxPath, IReadOnlyCollection<string>? only = null)
    {
        ArgumentNullException.ThrowIfNull(rdbPath);
        ArgumentNullException.ThrowIfNull(rdxPath);
        return ReadLazyLoadDatabase(File.ReadAllBytes(rdbPath), rdbPath, File.ReadAllBytes(rdxPath), rdxPath, only);
    }

    /// <summary>
    /// <see cref="ReadLazyLoadDatabase(string, string, IReadOnlyCollection{string}?)"/> on files already in memory (for
    /// callers that have checked their digests), named <paramref name="rdbPath"/> and <paramref name="rdxPath"/> in errors.
    /// </summary>
    internal static IReadOnlyDictionary<string, RObject> ReadLazyLoadDatabase(
        byte[] database, string rdbPath, byte[] indexFile, string rdxPath, IReadOnlyCollection<string>? only)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(indexFile);
        var index = RSerialization.Unserialize(Decompress(indexFile, rdxPath), 0, rdxPath);
        var variables = index.Element("variables");
        if (variables is not { Type: RType.List } || variables.Names is not { } names)
        {
            throw new DataFormatException(rdxPath, "not a lazy-load index (no named list 'variables')");
        }

        var compression = index.Element("compressed") switch
        {
            null => 1,
            { Type: RType.Logical or RType.Integer, Integers: [var c] } => c,
            { Type: RType.Double, Doubles: [var c] } => (int)c,
            var other => throw new DataFormatException(rdxPath, $"the index's 'compressed' entry is {other.Describe()}"),
        };
        var objects = new Dictionary<string, RObject>();
        for (var i = 0; i < variables.Elements.Length; i++)
        {
            var name = names[i] ?? throw new DataFormatException(rdxPath, $"variable {i + 1} has no name");
            if (only is not null && !only.Contains(name))
            {
                continue;
            }

            if (variables.Elements[i] is not { Type: RType.Integer, Integers: [var offset, var length] }
                || offset < 0 || length < 0 || (long)offset + length > database.Length)
            {
                throw new DataFormatException(
                    rdbPath, $"the index's key for '{name}' does not point inside the {database.Length}-byte database (truncated, or not the database of this index)");
            }

            var record = DecompressRecord(database.AsSpan(offset, length), compression, $"{rdbPath} ('{name}')");
            objects[name] = RSerialization.Unserialize(record, 0, $"{rdbPath} ('{name}')");
        }

        return objects;
    }

    /// <summary>Decompresses a whole file by its magic bytes: gzip, bzip2, xz, or none.</summary>
    internal static byte[] Decompress(byte[] bytes, string source)
    {
        ReadOnlySpan<byte> head = bytes;
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]))
        {
            // .NET's GZipStream returns what it could decode from a truncated file without an error, so the trailer's
            // size field (RFC 1952: the uncompressed length mod 2^32; R writes one gzip member) is checked here.
            if (bytes.Length < 18)
            {
                throw new DataFormatException(source, $"the gzip data are corrupt or truncated ({bytes.Length} bytes is shorter than a gzip header and trailer)");
            }

            var inflated = Inflate(() => new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress), source, "gzip");
            var size = BinaryPrimitives.ReadUInt32LittleEndian(head[^4..]);
            return (uint)inflated.Length == size
                ? inflated
                : throw new DataFormatException(source, $"the gzip data are corrupt or truncated ({inflated.Length} bytes decompressed, the gzip trailer says {size})");
        }

        if (head.StartsWith("BZh"u8))
        {
            return Inflate(() => BZip2Stream.Create(new MemoryStream(bytes), SharpCompress.Compressors.CompressionMode.Decompress, true, false, false), source, "bzip2");
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00]))
        {
            return Inflate(() => new XZStream(new MemoryStream(bytes)), source, "xz");
        }

        return bytes;
    }

    /// <summary>Decompresses one lazy-load database record (R's <c>R_decompress1/2/3</c>).</summary>
    internal static byte[] DecompressRecord(ReadOnlySpan<byte> record, int compression, string source)
    {
        if (compression == 0)
        {
            return record.ToArray();
        }

        if (record.Length < (compression == 1 ? 4 : 5))
        {
            throw new DataFormatException(source, $"a compressed record of {record.Length} bytes is too short");
        }

        var expected = BinaryPrimitives.ReadUInt32BigEndian(record);
        if (expected > int.MaxValue)
        {
            throw new DataFormatException(source, $"a record claims {expected} bytes uncompressed");
        }

        var length = (int)expected;
        var type = compression == 1 ? (byte)'1' : record[4];
        var payload = record[(compression == 1 ? 4 : 5)..].ToArray();
        var result = type switch
        {
            (byte)'0' => payload,
            (byte)'1' => Inflate(() => new ZLibStream(new MemoryStream(payload), CompressionMode.Decompress), source, "zlib"),
            (byte)'2' => Inflate(() => BZip2Stream.Create(new MemoryStream(payload), SharpCompress.Compressors.CompressionMode.Decompress, false, false, false), source, "bzip2"),
            (byte)'Z' when compression == 3 => Inflate(
                () => LzmaStream.Create([DictionaryCode(length)], new MemoryStream(payload), payload.Length, length, null, true, false), source, "LZMA2"),
            _ => throw new DataFormatException(source, $"unknown record compression type '{(char)type}' (compression {compression})"),
        };
        if (result.Length != length)
        {
            throw new DataFormatException(source, $"the record decompressed to {result.Length} bytes, its header says {length} (corrupt)");
        }

        return result;
    }

    /// <summary>
    /// The LZMA2 dictionary-size byte for a record: R's encoder uses xz preset 6 (an 8 MiB dictionary), and no match
    /// reaches further back than the record's own length, so the smaller of the two is enough.
    /// </summary>
    private static byte DictionaryCode(int length)
    {
        var needed = Math.Min(length, 8 << 20);
        byte code = 0;
        while (((2L | (code & 1)) << ((code / 2) + 11)) < needed)
        {
            code++;
        }

        return code;
    }

    private static byte[] Inflate(Func<Stream> open, string source, string format)
    {
        try
        {
            using var stream = open();
            using var output = new MemoryStream();
            stream.CopyTo(output);
            return output.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException or ArgumentException or IndexOutOfRangeException
            or SharpCompress.Common.SharpCompressException or NotSupportedException or OverflowException)
        {
            throw new DataFormatException(source, $"the {format} data are corrupt or truncated ({e.Message})", e);
        }
    }
}
