using System.Buffers.Binary;
using System.Text;

namespace DiffPriv.Datasets.Tests.RData;

/// <summary>
/// Writes R's XDR serialisation item by item, for edge cases no small real file holds. Layout from R Internals §1.8
/// (flags: type in bits 0-7, object bit 8, attribute bit 9, tag bit 10, levels from bit 12).
/// </summary>
internal sealed class XdrWriter
{
    public const int Nil = 254;
    public const int Ref = 255;
    public const int Altrep = 238;
    public const int NaInteger = int.MinValue;

    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];

    public XdrWriter Raw(ReadOnlySpan<byte> bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public XdrWriter Header(int version = 3, string nativeEncoding = "UTF-8")
    {
        Raw("X\n"u8).Int(version).Int(0x040201).Int(0x030500);
        if (version == 3)
        {
            Int(nativeEncoding.Length).Raw(Encoding.ASCII.GetBytes(nativeEncoding));
        }

        return this;
    }

    public XdrWriter Int(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        return Raw(b);
    }

    public XdrWriter Double(double value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(b, value);
        return Raw(b);
    }

    public XdrWriter Flags(int type, bool attributes = false, bool tag = false, bool isObject = false, int levels = 0) =>
        Int(type | (isObject ? 1 << 8 : 0) | (attributes ? 1 << 9 : 0) | (tag ? 1 << 10 : 0) | (levels << 12));

    public XdrWriter Null() => Int(Nil);

    /// <summary>A CHARSXP; null is NA. Levels: 8 UTF-8, 4 Latin-1, 64 ASCII, 0 native.</summary>
    public XdrWriter Char(string? value, int levels = 64, Encoding? encoding = null)
    {
        Flags(9, levels: levels);
        if (value is null)
        {
            return Int(-1);
        }

        var bytes = (encoding ?? Encoding.UTF8).GetBytes(value);
        return Int(bytes.Length).Raw(bytes);
    }

    /// <summary>A symbol written in full (R writes a later use of the same symbol as <see cref="Reference"/>).</summary>
    public XdrWriter Symbol(string name) => Flags(1).Char(name);

    public XdrWriter Reference(int index) => Int(Ref | (index << 8));

    /// <summary>A character vector; <paramref name="attributes"/> writes the attribute pairlist after it.</summary>
    public XdrWriter Strings(string?[] values, Action<XdrWriter>? attributes = null, bool isObject = false)
    {
        Flags(16, attributes: attributes is not null, isObject: isObject).Int(values.Length);
        foreach (var v in values)
        {
            Char(v, v is null || v.All(char.IsAscii) ? 64 : 8);
        }

        attributes?.Invoke(this);
        return this;
    }

    public XdrWriter Integers(int[] values, Action<XdrWriter>? attributes = null, bool isObject = false, bool logical = false)
    {
        Flags(logical ? 10 : 13, attributes: attributes is not null, isObject: isObject).Int(values.Length);
        foreach (var v in values)
        {
            Int(v);
        }

        attributes?.Invoke(this);
        return this;
    }

    public XdrWriter Doubles(double[] values)
    {
        Flags(14).Int(values.Length);
        foreach (var v in values)
        {
            Double(v);
        }

        return this;
    }

    public XdrWriter List(int count, Action<XdrWriter> elements, Action<XdrWriter>? attributes = null, bool isObject = false)
    {
        Flags(19, attributes: attributes is not null, isObject: isObject).Int(count);
        elements(this);
        attributes?.Invoke(this);
        return this;
    }

    /// <summary>A pairlist node with a tag; <paramref name="tag"/> writes the tag (a symbol or a reference).</summary>
    public XdrWriter Node(Action<XdrWriter> tag, Action<XdrWriter> value)
    {
        Flags(2, tag: true);
        tag(this);
        value(this);
        return this;
    }
}
