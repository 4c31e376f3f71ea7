using System.Globalization;
using System.Text;

namespace DiffPriv.Datasets.Text;

/// <summary>
/// Reads WEKA's dense ARFF format (the files in Debian's <c>weka</c> examples): <c>%</c> comments, <c>@relation</c>,
/// <c>@attribute</c> lines (numeric/real/integer, string, date, nominal <c>{…}</c>), then <c>@data</c> and one
/// comma-separated row per line. Values may be quoted with <c>'</c> or <c>"</c>; inside quotes a backslash escapes the
/// next character (<c>\n</c> newline, <c>\r</c> carriage return, <c>\t</c> tab, any other character stands for itself,
/// e.g. <c>\'</c>, <c>\"</c>, <c>\\</c>, <c>\%</c>). An unquoted <c>?</c> is a missing value. The file is UTF-8.
/// Sparse rows (<c>{i v, …}</c>), instance weights and relational attributes are refused with an error.
/// Every problem is reported as an <see cref="ArffFormatException"/> naming the line.
/// </summary>
public static class ArffReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads an ARFF file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its header and rows.</returns>
    /// <exception cref="ArffFormatException">The file breaks the format (the message names the line).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ArffFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses ARFF text held in memory.</summary>
    /// <param name="bytes">The UTF-8 bytes of the file.</param>
    /// <param name="sourceName">The name used in error messages (usually the path).</param>
    /// <returns>Its header and rows.</returns>
    /// <exception cref="ArffFormatException">The text breaks the format (the message names the line).</exception>
    public static ArffFile Parse(ReadOnlySpan<byte> bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(sourceName);
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }

        string? relation = null;
        var attributes = new List<ArffColumn>();
        var rows = new List<ArffRow>();
        var inData = false;
        var lineNumber = 0;
        while (!bytes.IsEmpty)
        {
            lineNumber++;
            var end = bytes.IndexOf((byte)'\n');
            var raw = end < 0 ? bytes : bytes[..end];
            bytes = end < 0 ? [] : bytes[(end + 1)..];
            if (!raw.IsEmpty && raw[^1] == (byte)'\r')
            {
                raw = raw[..^1];
            }

            var line = Decode(raw, sourceName, lineNumber);
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '%')
            {
                continue;
            }

            if (inData)
            {
                rows.Add(new ArffRow(lineNumber, ParseRow(trimmed, attributes, sourceName, lineNumber)));
                continue;
            }

            if (trimmed[0] != '@')
            {
                throw new ArffFormatException(sourceName, lineNumber, $"expected @relation, @attribute or @data, found '{Shorten(trimmed)}'");
            }

            var keywordEnd = trimmed.IndexOfAny([' ', '\t']);
            var keyword = (keywordEnd < 0 ? trimmed : trimmed[..keywordEnd]).ToUpperInvariant();
            var rest = keywordEnd < 0 ? string.Empty : trimmed[keywordEnd..].Trim();
            switch (keyword)
            {
                case "@RELATION":
                    if (relation is not null)
                    {
                        throw new ArffFormatException(sourceName, lineNumber, "a second @relation line");
                    }

                    var (name, after) = ReadName(rest, sourceName, lineNumber, "@relation");
                    if (after.Length > 0)
                    {
                        throw new ArffFormatException(sourceName, lineNumber, $"unexpected text after the relation name: '{Shorten(after)}'");
                    }

                    relation = name;
                    break;
                case "@ATTRIBUTE":
                    if (relation is null)
                    {
                        throw new ArffFormatException(sourceName, lineNumber, "@attribute before @relation");
                    }

                    attributes.Add(ParseAttribute(rest, attributes, sourceName, lineNumber));
                    break;
                case "@DATA":
                    if (attributes.Count == 0)
                    {
                        throw new ArffFormatException(sourceName, lineNumber, "@data before any @attribute line");
                    }

                    inData = true;
                    break;
                default:
                    throw new ArffFormatException(sourceName, lineNumber, $"unknown header keyword '{Shorten(keyword)}'");
            }
        }

        if (!inData)
        {
            throw new ArffFormatException(sourceName, lineNumber + 1, "the file ends before its @data line (truncated, or not an ARFF file)");
        }

        return new ArffFile(relation!, attributes, rows);
    }

    private static string Decode(ReadOnlySpan<byte> raw, string sourceName, int lineNumber)
    {
        string line;
        try
        {
            line = StrictUtf8.GetString(raw);
        }
        catch (DecoderFallbackException)
        {
            throw new ArffFormatException(sourceName, lineNumber, "the line is not valid UTF-8 text (binary data or a damaged file)");
        }

        for (var i = 0; i < line.Length; i++)
        {
            if (char.IsControl(line[i]) && line[i] != '\t')
            {
                throw new ArffFormatException(
                    sourceName, lineNumber, $"control character U+{(int)line[i]:X4} at column {i + 1} (binary data or a damaged file)");
            }
        }

        return line;
    }

    private static ArffColumn ParseAttribute(string rest, List<ArffColumn> previous, string sourceName, int lineNumber)
    {
        var (name, type) = ReadName(rest, sourceName, lineNumber, "@attribute");
        if (previous.Any(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArffFormatException(sourceName, lineNumber, $"the attribute '{name}' is declared twice");
        }

        if (type.Length == 0)
        {
            throw new ArffFormatException(sourceName, lineNumber, $"the attribute '{name}' has no type");
        }

        if (type[0] == '{')
        {
            if (type[^1] != '}')
            {
                throw new ArffFormatException(sourceName, lineNumber, $"the nominal type of '{name}' does not end with '}}'");
            }

            var values = SplitValues(type[1..^1], sourceName, lineNumber, allowMissing: false);
            if (values.Count == 0 || values.Distinct(StringComparer.Ordinal).Count() != values.Count)
            {
                throw new ArffFormatException(sourceName, lineNumber, $"the nominal attribute '{name}' needs distinct values");
            }

            return new ArffColumn(name, ArffColumnKind.Nominal, values!);
        }

        var keywordEnd = type.IndexOfAny([' ', '\t']);
        var keyword = (keywordEnd < 0 ? type : type[..keywordEnd]).ToUpperInvariant();
        var kind = keyword switch
        {
            "NUMERIC" or "REAL" or "INTEGER" when keywordEnd < 0 => ArffColumnKind.Numeric,
            "STRING" when keywordEnd < 0 => ArffColumnKind.Text,
            "DATE" => ArffColumnKind.Date,
            "RELATIONAL" => throw new ArffFormatException(sourceName, lineNumber, $"relational attributes ('{name}') are not supported"),
            _ => throw new ArffFormatException(sourceName, lineNumber, $"unknown type '{Shorten(type)}' for attribute '{name}'"),
        };
        return new ArffColumn(name, kind, []);
    }

    private static (string Name, string Remainder) ReadName(string text, string sourceName, int lineNumber, string what)
    {
        if (text.Length == 0)
        {
            throw new ArffFormatException(sourceName, lineNumber, $"{what} without a name");
        }

        if (text[0] is '\'' or '"')
        {
            var (value, next) = ReadQuoted(text, 0, sourceName, lineNumber);
            return (value, text[next..].Trim());
        }

        var end = text.IndexOfAny([' ', '\t']);
        return end < 0 ? (text, string.Empty) : (text[..end], text[end..].Trim());
    }

    private static string?[] ParseRow(string line, List<ArffColumn> attributes, string sourceName, int lineNumber)
    {
        if (line[0] == '{')
        {
            throw new ArffFormatException(sourceName, lineNumber, "sparse rows ({index value, …}) are not supported");
        }

        var values = SplitValues(line, sourceName, lineNumber, allowMissing: true);
        if (values.Count != attributes.Count)
        {
            throw new ArffFormatException(
                sourceName, lineNumber, $"{values.Count} values, but the header declares {attributes.Count} attributes (a damaged or cut line?)");
        }

        for (var i = 0; i < values.Count; i++)
        {
            if (values[i] is not { } value)
            {
                continue;
            }

            var attribute = attributes[i];
            if (attribute.Kind == ArffColumnKind.Nominal && !attribute.NominalValues.Contains(value, StringComparer.Ordinal))
            {
                throw new ArffFormatException(
                    sourceName, lineNumber, $"'{Shorten(value)}' is not a value of the nominal attribute '{attribute.Name}' {{{string.Join(",", attribute.NominalValues)}}}");
            }

            if (attribute.Kind == ArffColumnKind.Numeric && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                throw new ArffFormatException(sourceName, lineNumber, $"'{Shorten(value)}' is not a number (attribute '{attribute.Name}')");
            }
        }

        return [.. values];
    }

    // Splits comma-separated values; quoted values are unescaped; an unquoted ? is null when allowMissing.
    private static List<string?> SplitValues(string text, string sourceName, int lineNumber, bool allowMissing)
    {
        var values = new List<string?>();
        var pos = 0;
        if (text.Trim().Length == 0)
        {
            return values;
        }

        while (true)
        {
            while (pos < text.Length && text[pos] is ' ' or '\t')
            {
                pos++;
            }

            if (pos == text.Length)
            {
                throw new ArffFormatException(sourceName, lineNumber, $"a value is missing after the comma at column {pos}");
            }

            string? value;
            if (text[pos] is '\'' or '"')
            {
                (value, pos) = ReadQuoted(text, pos, sourceName, lineNumber);
                while (pos < text.Length && text[pos] is ' ' or '\t')
                {
                    pos++;
                }

                if (pos < text.Length && text[pos] != ',')
                {
                    throw new ArffFormatException(sourceName, lineNumber, $"unexpected '{text[pos]}' after a quoted value at column {pos + 1}");
                }
            }
            else
            {
                var comma = text.IndexOf(',', pos);
                var end = comma < 0 ? text.Length : comma;
                value = text[pos..end].Trim();
                if (value.Length == 0)
                {
                    throw new ArffFormatException(sourceName, lineNumber, $"an empty value at column {pos + 1}");
                }

                if (value.IndexOfAny(['\'', '"']) >= 0)
                {
                    throw new ArffFormatException(sourceName, lineNumber, $"a stray quote in the unquoted value '{Shorten(value)}'");
                }

                if (value == "?")
                {
                    if (!allowMissing)
                    {
                        throw new ArffFormatException(sourceName, lineNumber, "'?' (missing) is not allowed here");
                    }

                    value = null;
                }

                pos = end;
            }

            values.Add(value);
            if (pos == text.Length)
            {
                return values;
            }

            pos++; // the comma
        }
    }

    // Reads the quoted value starting at text[start] (a ' or "); returns it unescaped and the index after the closing quote.
    private static (string Value, int Next) ReadQuoted(string text, int start, string sourceName, int lineNumber)
    {
        var quote = text[start];
        var value = new StringBuilder();
        for (var i = start + 1; i < text.Length; i++)
        {
            var c = text[i];
            if (c == quote)
            {
                return (value.ToString(), i + 1);
            }

            if (c == '\\')
            {
                if (i + 1 == text.Length)
                {
                    break;
                }

                i++;
                value.Append(text[i] switch
                {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    var other => other,
                });
                continue;
            }

            value.Append(c);
        }

        throw new ArffFormatException(
            sourceName, lineNumber, $"the value quoted with {quote} at column {start + 1} is not closed on its line (a cut or damaged line)");
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
