using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace DiffPriv.Datasets.Tabular;

/// <summary>
/// Reads comma-separated values as RFC 4180 defines them, with a required header row:
/// <list type="bullet">
/// <item>Fields are separated by commas and records by line breaks: <c>\r\n</c>, <c>\n</c> or a lone <c>\r</c>. A final
/// line break does not start another record.</item>
/// <item>A field that starts with <c>"</c> is quoted: it may hold commas, line breaks and doubled quotes (<c>""</c> stands
/// for one <c>"</c>), and must be followed by a comma or the end of the record. A quote inside an unquoted field is an
/// error. Spaces are part of a field; nothing is trimmed.</item>
/// <item>The first line is the header; every record must have as many fields as the header.</item>
/// <item>Lines that are completely empty are skipped (they still count as lines). A line holding only spaces is a record.</item>
/// <item>The text is UTF-8; a byte-order mark is ignored.</item>
/// </list>
/// Every record carries the 1-based physical line on which it starts, counting the line breaks inside quoted fields, so
/// error messages point where an editor would show the record. Every problem is a <see cref="CsvFormatException"/>
/// with the message <c>FILE:LINE: problem</c>.
/// </summary>
public static class CsvReader
{
    /// <summary>Reads a CSV file.</summary>
    /// <param name="path">The file; it is named in error messages as given.</param>
    /// <returns>The header and the records.</returns>
    /// <exception cref="CsvFormatException">The file is empty, is not UTF-8, or breaks the format (the message names the line).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static CsvTable Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(Decode(File.ReadAllBytes(path), path), path);
    }

    /// <summary>Parses CSV text held in memory.</summary>
    /// <param name="text">The whole file as text (a leading byte-order mark is ignored).</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <returns>The header and the records.</returns>
    /// <exception cref="CsvFormatException">The text is empty or breaks the format (the message names the line).</exception>
    public static CsvTable Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        var parser = new Parser(text, fileName);
        if (parser.AtEnd)
        {
            throw new CsvFormatException(fileName, 1, "the file is empty; a header row is required");
        }

        if (parser.AtLineBreak)
        {
            throw new CsvFormatException(fileName, 1, "the first line is empty; it must be the header row");
        }

        var header = parser.ReadRecord();
        var records = new List<CsvRecord>();
        while (true)
        {
            while (parser.AtLineBreak)
            {
                parser.SkipLineBreak();
            }

            if (parser.AtEnd)
            {
                break;
            }

            var line = parser.Line;
            var fields = parser.ReadRecord();
            if (fields.Count != header.Count)
            {
                throw new CsvFormatException(
                    fileName, line, $"record has {fields.Count} {(fields.Count == 1 ? "field" : "fields")}, the header has {header.Count}");
            }

            records.Add(new CsvRecord(line, fields));
        }

        return new CsvTable(fileName, header, records);
    }

    private static string Decode(byte[] bytes, string path)
    {
        ReadOnlySpan<byte> span = bytes;
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            span = span[3..];
        }

        var chars = new char[span.Length];
        var status = Utf8.ToUtf16(span, chars, out var read, out var written, replaceInvalidSequences: false);
        if (status != OperationStatus.Done)
        {
            var line = 1;
            for (var i = 0; i < read; i++)
            {
                if (span[i] == '\n' || (span[i] == '\r' && (i + 1 >= read || span[i + 1] != '\n')))
                {
                    line++;
                }
            }

            throw new CsvFormatException(path, line, $"not valid UTF-8 (byte 0x{span[read]:X2} at offset {read + (bytes.Length - span.Length)}); save the file as UTF-8");
        }

        return new string(chars, 0, written);
    }

    /// <summary>A cursor over the text that counts physical lines.</summary>
    private sealed class Parser(string text, string fileName)
    {
        private int _position = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;

        /// <summary>The 1-based physical line of the cursor.</summary>
        public int Line { get; private set; } = 1;

        public bool AtEnd => _position >= text.Length;

        public bool AtLineBreak => !AtEnd && text[_position] is '\r' or '\n';

        public void SkipLineBreak()
        {
            if (text[_position] == '\r' && _position + 1 < text.Length && text[_position + 1] == '\n')
            {
                _position++;
            }

            _position++;
            Line++;
        }

        /// <summary>Reads one record from the cursor up to and including its line break (or the end of the text).</summary>
        public List<string> ReadRecord()
        {
            var fields = new List<string>();
            var field = new StringBuilder();
            while (true)
            {
                if (!AtEnd && text[_position] == '"')
                {
                    ReadQuoted(field);
                }
                else
                {
                    ReadUnquoted(field);
                }

                fields.Add(field.ToString());
                field.Clear();
                if (AtEnd)
                {
                    return fields;
                }

                if (AtLineBreak)
                {
                    SkipLineBreak();
                    return fields;
                }

                _position++; // the comma
            }
        }

        private void ReadUnquoted(StringBuilder field)
        {
            var start = _position;
            while (!AtEnd && text[_position] is not (',' or '\r' or '\n'))
            {
                if (text[_position] == '"')
                {
                    throw new CsvFormatException(
                        fileName, Line, "a quote (\") inside an unquoted field; enclose the whole field in quotes and double the quote (\"\")");
                }

                _position++;
            }

            field.Append(text, start, _position - start);
        }

        private void ReadQuoted(StringBuilder field)
        {
            var openedOn = Line;
            _position++; // the opening quote
            while (true)
            {
                if (AtEnd)
                {
                    throw new CsvFormatException(fileName, openedOn, "a quoted field starting on this line is never closed (the file ends inside quotes)");
                }

                var c = text[_position];
                if (c == '"')
                {
                    if (_position + 1 < text.Length && text[_position + 1] == '"')
                    {
                        field.Append('"');
                        _position += 2;
                        continue;
                    }

                    _position++; // the closing quote
                    if (!AtEnd && text[_position] is not (',' or '\r' or '\n'))
                    {
                        throw new CsvFormatException(
                            fileName, Line, $"'{text[_position]}' after the closing quote of a quoted field; a quote inside a quoted field must be doubled (\"\")");
                    }

                    return;
                }

                if (c is '\r' or '\n')
                {
                    var start = _position;
                    SkipLineBreak();
                    field.Append(text, start, _position - start);
                    continue;
                }

                field.Append(c);
                _position++;
            }
        }
    }
}
