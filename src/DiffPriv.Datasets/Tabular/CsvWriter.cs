using System.Text;

namespace DiffPriv.Datasets.Tabular;

/// <summary>
/// Writes comma-separated values as RFC 4180 defines them, so that <see cref="CsvReader"/> (and spreadsheet programs,
/// Python's <c>csv</c> module, pandas) read back exactly the same fields: records end with <c>\r\n</c>; a field that holds
/// a comma, a quote, a carriage return or a line feed is enclosed in quotes, with every quote inside doubled; other
/// fields are written as they are (nothing is trimmed), except that a record of one empty field is written <c>""</c>,
/// since an empty line is no record to a reader. UTF-8 without a byte-order mark.
/// </summary>
internal static class CsvWriter
{
    /// <summary>One field, quoted when RFC 4180 requires it.</summary>
    /// <param name="field">The value.</param>
    /// <returns>The field as it appears in the file.</returns>
    public static string Field(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
    }

    /// <summary>
    /// Writes a header and records to <paramref name="path"/>, through a temporary file beside it so that a failed write
    /// never leaves a partial file under the final name.
    /// </summary>
    /// <param name="path">The file; replaced if it exists.</param>
    /// <param name="header">The column names.</param>
    /// <param name="records">The records, each with as many fields as the header.</param>
    /// <exception cref="ArgumentException">A record's field count differs from the header's.</exception>
    public static void Write(string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> records)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(records);
        var part = path + ".part";
        try
        {
            using (var writer = new StreamWriter(part, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            {
                WriteRecord(writer, header);
                var number = 0;
                foreach (var record in records)
                {
                    number++;
                    if (record.Count != header.Count)
                    {
                        throw new ArgumentException($"record {number} has {record.Count} fields, the header has {header.Count}", nameof(records));
                    }

                    WriteRecord(writer, record);
                }
            }

            File.Move(part, path, overwrite: true);
        }
        finally
        {
            File.Delete(part);
        }
    }

    private static void WriteRecord(TextWriter writer, IReadOnlyList<string> fields)
    {
        if (fields is [""])
        {
            writer.Write("\"\"\r\n");
            return;
        }

        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                writer.Write(',');
            }

            writer.Write(Field(fields[i]));
        }

        writer.Write("\r\n");
    }
}
