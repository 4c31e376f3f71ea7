using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace DiffPriv.Datasets.RData;

/// <summary>
/// Reads R's serialisation format (R Internals §1.8; <c>src/main/serialize.c</c>, <c>ReadItem</c>) in its portable XDR
/// variant, versions 2 and 3 — what <c>saveRDS</c>, <c>save</c> and package lazy-load databases write by default —
/// without R. Enough of it for data: <c>NULL</c>, logical, integer, double, complex, character and raw vectors, lists,
/// pairlists (attributes), symbols and references to them, environments (their contents are skipped), and the ALTREP
/// forms R 3.5+ writes for compact sequences, wrappers and deferred strings of integers. Byte code and the ASCII and
/// native-binary variants are refused with a clear error.
/// </summary>
internal static class RSerialization
{
    private const int MaxDepth = 1000;

    /// <summary>Reads one serialised R object that starts at <paramref name="offset"/> with its <c>X\n</c> header.</summary>
    /// <param name="data">Decompressed bytes.</param>
    /// <param name="offset">Where the header starts.</param>
    /// <param name="source">The file, for error messages.</param>
    /// <returns>The object.</returns>
    /// <exception cref="DataFormatException">The bytes are not an XDR serialisation this reader understands.</exception>
    public static RObject Unserialize(byte[] data, int offset, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        var reader = new Reader(data, offset, source);
        reader.ReadHeader();
        var value = reader.ReadItem(0);
        if (reader.Position != data.Length)
        {
            throw new DataFormatException(source, $"{data.Length - reader.Position} bytes left after the serialised R object (corrupt, or not one object)");
        }

        return value;
    }

    private sealed class Reader(byte[] data, int position, string source)
    {
        private readonly List<RObject> _references = [];
        private Encoding _native = Encoding.UTF8;

        public int Position { get; private set; } = position;

        public void ReadHeader()
        {
            var format = Take(2);
            if (format[1] != '\n' || format[0] is not ((byte)'X' or (byte)'A' or (byte)'B'))
            {
                throw Fail("not an R serialisation (no X, A or B format mark)");
            }

            if (format[0] != 'X')
            {
                throw Fail(format[0] == 'A'
                    ? "R's ASCII serialisation is not supported; save with ascii = FALSE"
                    : "R's native binary serialisation is not supported; save with xdr = TRUE");
            }

            var version = ReadInt();
            ReadInt(); // the R version that wrote it
            ReadInt(); // the oldest R version that can read it
            if (version is < 2 or > 3)
            {
                throw Fail($"serialisation format version {version} is not supported (2 and 3 are)");
            }

            if (version == 3)
            {
                var length = ReadInt();
                if (length is < 0 or > 1024)
                {
                    throw Fail($"invalid native-encoding name length {length}");
                }

                var name = Encoding.ASCII.GetString(Take(length));
                _native = name.ToUpperInvariant() switch
                {
                    "LATIN1" or "ISO-8859-1" or "ISO8859-1" or "CP1252" or "WINDOWS-1252" => Encoding.Latin1,
                    _ => Encoding.UTF8,
                };
            }
        }

        public RObject ReadItem(int depth)
        {
            if (depth > MaxDepth)
            {
                throw Fail($"objects nested more than {MaxDepth} deep (corrupt data)");
            }

            return ReadItem(ReadInt(), depth);
        }

        private RObject ReadItem(int flags, int depth)
        {
            var type = flags & 0xFF;
            var levels = flags >> 12;
            var hasAttributes = (flags & (1 << 9)) != 0;
            switch (type)
            {
                case 254: // NILVALUE_SXP
                    return RObject.Null;
                case 242 or 241 or 253 or 250: // EMPTYENV, BASEENV, GLOBALENV, BASENAMESPACE
                    return new RObject(RType.Environment);
                case 252 or 251: // UNBOUNDVALUE, MISSINGARG
                    return RObject.Null;
                case 255: // REFSXP
                    {
                        var index = flags >> 8;
                        if (index == 0)
                        {
                            index = ReadInt();
                        }

                        return index >= 1 && index <= _references.Count
                            ? _references[index - 1]
                            : throw Fail($"reference {index} to an object not read yet ({_references.Count} so far)");
                    }

                case 247 or 248 or 249: // PERSISTSXP, PACKAGESXP, NAMESPACESXP: a name vector standing for an environment
                    {
                        var environment = new RObject(RType.Environment) { Strings = ReadStringVector(depth) };
                        _references.Add(environment);
                        return environment;
                    }

                case 238: // ALTREP_SXP
                    return ReadAltrep(depth);
                case (int)RType.Symbol:
                    {
                        var name = ReadItem(depth + 1);
                        if (name.Type != RType.Char)
                        {
                            throw Fail($"a symbol's name is {name.Describe()}");
                        }

                        var symbol = new RObject(RType.Symbol) { Strings = name.Strings };
                        _references.Add(symbol);
                        return symbol;
                    }

                case (int)RType.Environment:
                    {
                        ReadInt(); // locked
                        var environment = new RObject(RType.Environment);
                        _references.Add(environment); // registered before its contents, which may refer to it
                        ReadItem(depth + 1); // enclosing environment
                        ReadItem(depth + 1); // frame
                        ReadItem(depth + 1); // hash table
                        environment.Attributes = ToAttributes(ReadItem(depth + 1));
                        return environment;
                    }

                case (int)RType.Pairlist or (int)RType.Language or (int)RType.Closure or (int)RType.Promise or (int)RType.Dots:
                    return ReadPairlist(flags, depth);
                default:
                    break;
            }

            RObject value;
            switch ((RType)type)
            {
                case RType.ExternalPointer:
                    value = new RObject(RType.ExternalPointer);
                    _references.Add(value);
                    ReadItem(depth + 1); // protected value
                    ReadItem(depth + 1); // tag
                    break;
                case RType.WeakReference:
                    value = new RObject(RType.WeakReference);
                    _references.Add(value);
                    break;
                case RType.Special or RType.Builtin:
                    {
                        var length = ReadInt();
                        value = new RObject((RType)type) { Strings = [Encoding.ASCII.GetString(Take(CheckLength(length, 1)))] };
                        break;
                    }

                case RType.Char:
                    value = new RObject(RType.Char) { Strings = [ReadCharacters(levels)] };
                    if (hasAttributes)
                    {
                        ReadItem(depth + 1); // R ignores these too
                    }

                    return value;
                case RType.Logical or RType.Integer:
                    {
                        var ints = new int[CheckLength(ReadLength(), 4)];
                        for (var i = 0; i < ints.Length; i++)
                        {
                            ints[i] = ReadInt();
                        }

                        value = new RObject((RType)type) { Integers = ints };
                        break;
                    }

                case RType.Double or RType.Complex:
                    {
                        var perValue = type == (int)RType.Complex ? 2 : 1;
                        var doubles = new double[CheckLength(ReadLength(), 8 * perValue) * perValue];
                        for (var i = 0; i < doubles.Length; i++)
                        {
                            doubles[i] = BinaryPrimitives.ReadDoubleBigEndian(Take(8));
                        }

                        value = new RObject((RType)type) { Doubles = doubles };
                        break;
                    }

                case RType.Character:
                    {
                        var strings = new string?[CheckLength(ReadLength(), 4)];
                        for (var i = 0; i < strings.Length; i++)
                        {
                            var element = ReadItem(depth + 1);
                            strings[i] = element.Type == RType.Char ? element.Strings[0] : throw Fail($"element {i + 1} of a character vector is {element.Describe()}");
                        }

                        value = new RObject(RType.Character) { Strings = strings };
                        break;
                    }

                case RType.List or RType.Expression:
                    {
                        var elements = new RObject[CheckLength(ReadLength(), 4)];
                        for (var i = 0; i < elements.Length; i++)
                        {
                            elements[i] = ReadItem(depth + 1);
                        }

                        value = new RObject((RType)type) { Elements = elements };
                        break;
                    }

                case RType.Raw:
                    value = new RObject(RType.Raw) { Bytes = Take(CheckLength(ReadLength(), 1)).ToArray() };
                    break;
                case RType.S4:
                    value = new RObject(RType.S4);
                    break;
                case RType.Bytecode:
                    throw Fail("R byte code (a compiled function) cannot be read; only data objects are supported");
                default:
                    throw Fail($"unknown R object type {type} (written by a newer R, or corrupt)");
            }

            if (hasAttributes)
            {
                value.Attributes = ToAttributes(ReadItem(depth + 1));
            }

            return value;
        }

        /// <summary>A pairlist-like chain (pairlist, call, closure, promise, …), read iteratively along its CDRs.</summary>
        private RObject ReadPairlist(int flags, int depth)
        {
            var type = (RType)(flags & 0xFF);
            IReadOnlyList<KeyValuePair<string, RObject>> attributes = [];
            var elements = new List<RObject>();
            var tags = new List<string?>();
            var first = true;
            while ((flags & 0xFF) is (int)RType.Pairlist or (int)RType.Language or (int)RType.Closure or (int)RType.Promise or (int)RType.Dots)
            {
                var nodeAttributes = (flags & (1 << 9)) != 0 ? ToAttributes(ReadItem(depth + 1)) : [];
                if (first)
                {
                    attributes = nodeAttributes;
                    first = false;
                }

                string? tag = null;
                if ((flags & (1 << 10)) != 0)
                {
                    var tagObject = ReadItem(depth + 1);
                    tag = tagObject.Type is RType.Symbol or RType.Char ? tagObject.Strings[0] : null;
                }

                tags.Add(tag);
                elements.Add(ReadItem(depth + 1));
                flags = ReadInt();
            }

            var rest = ReadItem(flags, depth + 1);
            if (rest.Type != RType.Null)
            {
                elements.Add(rest); // a dotted pair's final CDR, or a closure's body
                tags.Add(null);
            }

            return new RObject(type) { Elements = [.. elements], Tags = [.. tags], Attributes = attributes };
        }

        private RObject ReadAltrep(int depth)
        {
            var info = ReadItem(depth + 1);
            var state = ReadItem(depth + 1);
            var attributes = ReadItem(depth + 1);
            var className = info.Elements is [{ Type: RType.Symbol } name, ..] ? name.Strings[0] : null;
            RObject value;
            switch (className)
            {
                case "compact_intseq" or "compact_realseq":
                    {
                        // The state is c(n, first, step) (R's altclasses.c, new_compact_intseq / new_compact_realseq).
                        var (n, start, step) = state switch
                        {
                            { Type: RType.Double, Doubles: [var a, var b, var c] } => (a, b, c),
                            { Type: RType.Integer, Integers: [var a, var b, var c] } => ((double)a, (double)b, (double)c),
                            _ => throw Fail($"{className}: unexpected state {state.Describe()}"),
                        };
                        if (n < 0 || n > data.Length * 64.0)
                        {
                            throw Fail($"{className}: implausible length {n}");
                        }

                        var count = (int)n;
                        value = className == "compact_intseq"
                            ? new RObject(RType.Integer) { Integers = [.. Enumerable.Range(0, count).Select(i => (int)(start + (i * step)))] }
                            : new RObject(RType.Double) { Doubles = [.. Enumerable.Range(0, count).Select(i => start + (i * step))] };
                        break;
                    }

                case { } wrapper when wrapper.StartsWith("wrap_", StringComparison.Ordinal):
                    // The state is the pairlist (wrapped value, metadata).
                    value = state.Elements.Length > 0 ? state.Elements[0] : throw Fail($"{className}: empty state");
                    break;
                case "deferred_string":
                    {
                        // The state is the pairlist (numbers, formatting info); expanded strings are written as plain vectors.
                        var numbers = state.Elements.Length > 0 ? state.Elements[0] : throw Fail("deferred_string: empty state");
                        value = numbers.Type == RType.Integer
                            ? new RObject(RType.Character) { Strings = [.. numbers.Integers.Select(i => i == int.MinValue ? null : i.ToString(CultureInfo.InvariantCulture))] }
                            : throw Fail($"deferred_string over {numbers.Describe()} is not supported (only integers)");
                        break;
                    }

                default:
                    throw Fail($"the ALTREP class '{className ?? "?"}' is not supported");
            }

            if (attributes.Type != RType.Null)
            {
                value = new RObject(value.Type)
                {
                    Strings = value.Strings,
                    Integers = value.Integers,
                    Doubles = value.Doubles,
                    Bytes = value.Bytes,
                    Elements = value.Elements,
                    Tags = value.Tags,
                    Attributes = ToAttributes(attributes),
                };
            }

            return value;
        }

        private IReadOnlyList<KeyValuePair<string, RObject>> ToAttributes(RObject pairlist)
        {
            if (pairlist.Type == RType.Null)
            {
                return [];
            }

            if (pairlist.Type != RType.Pairlist)
            {
                throw Fail($"attributes are {pairlist.Describe()}, not a pairlist");
            }

            return [.. pairlist.Elements.Select((v, i) => new KeyValuePair<string, RObject>(pairlist.Tags[i] ?? string.Empty, v))];
        }

        private string?[] ReadStringVector(int depth)
        {
            if (ReadInt() != 0)
            {
                throw Fail("a name vector does not start with 0");
            }

            var strings = new string?[CheckLength(ReadInt(), 4)];
            for (var i = 0; i < strings.Length; i++)
            {
                var element = ReadItem(depth + 1);
                strings[i] = element.Type == RType.Char ? element.Strings[0] : null;
            }

            return strings;
        }

        private string? ReadCharacters(int levels)
        {
            var length = ReadInt();
            if (length == -1)
            {
                return null; // NA_STRING
            }

            var bytes = Take(CheckLength(length, 1));

            // Encoding bits of a CHARSXP's levels (R's Defn.h): BYTES 2, LATIN1 4, UTF8 8, ASCII 64.
            var encoding = (levels & 8) != 0 ? Encoding.UTF8
                : (levels & 4) != 0 || (levels & 2) != 0 ? Encoding.Latin1
                : (levels & 64) != 0 ? Encoding.UTF8
                : _native;
            return encoding.GetString(bytes);
        }

        private long ReadLength()
        {
            var length = ReadInt();
            if (length >= 0)
            {
                return length;
            }

            if (length != -1)
            {
                throw Fail($"negative vector length {length}");
            }

            var upper = (uint)ReadInt();
            var lower = (uint)ReadInt();
            return ((long)upper << 32) + lower;
        }

        /// <summary>Checks that a length is possible before anything is allocated for it.</summary>
        private int CheckLength(long length, int minBytesEach)
        {
            if (length < 0 || length > int.MaxValue || length * minBytesEach > data.Length - Position)
            {
                throw Fail($"a length of {length} does not fit in the {data.Length - Position} bytes left (truncated or corrupt)");
            }

            return (int)length;
        }

        private int ReadInt() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > data.Length - Position)
            {
                throw Fail($"the data end at byte {data.Length}, {count} more bytes were expected (truncated)");
            }

            var span = data.AsSpan(Position, count);
            Position += count;
            return span;
        }

        private DataFormatException Fail(string problem) => new(source, $"{problem} (at byte {Position} of the serialised object)");
    }
}
