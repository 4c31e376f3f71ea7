using DiffPriv.Datasets.Tabular;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Experiments.Tabular;

/// <summary>One record of a table: where it starts and its fields (null where an ARFF file has <c>?</c>).</summary>
/// <param name="LineNumber">The 1-based physical line on which the record starts.</param>
/// <param name="Values">One field per column, as written (quotes removed).</param>
internal sealed record TabularRow(int LineNumber, IReadOnlyList<string?> Values);

/// <summary>
/// A table for <c>diffpriv train csv</c>: an RFC 4180 CSV file (<see cref="CsvReader"/>) or a WEKA ARFF file
/// (<see cref="ArffReader"/>; chosen by the extension <c>.arff</c> or a first line starting with <c>%</c> or <c>@relation</c>).
/// An ARFF header's attribute types and nominal values come with the table. Every problem is a
/// <see cref="CsvFormatException"/> whose message is <c>FILE:LINE: problem</c>.
/// </summary>
internal sealed class TabularTable
{
    private TabularTable(string fileName, IReadOnlyList<string> header, IReadOnlyList<TabularRow> rows, IReadOnlyList<ArffColumn>? arff)
    {
        FileName = fileName;
        Header = header;
        Rows = rows;
        ArffColumns = arff;
    }

    /// <summary>The file as the user named it.</summary>
    public string FileName { get; }

    /// <summary>The column names.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The records in file order.</summary>
    public IReadOnlyList<TabularRow> Rows { get; }

    /// <summary>An ARFF file's attribute declarations (in column order); null for CSV.</summary>
    public IReadOnlyList<ArffColumn>? ArffColumns { get; }

    /// <summary>Reads a CSV or ARFF file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The table (at least one record).</returns>
    /// <exception cref="CsvFormatException">The file is empty, has no records, or breaks its format (the message names the line).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static TabularTable Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = File.ReadAllBytes(path);
        return IsArff(path, bytes) ? FromArff(bytes, path) : FromCsv(path);
    }

    /// <summary>The index of a column, matched exactly (ordinal).</summary>
    /// <exception cref="CsvFormatException">No column or more than one has the name (line 1).</exception>
    public int ColumnIndex(string column)
    {
        var matches = Enumerable.Range(0, Header.Count).Where(i => string.Equals(Header[i], column, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new CsvFormatException(FileName, 1, $"no column '{column}' in the header (columns: {string.Join(", ", Header.Select(h => $"'{h}'"))})"),
            _ => throw new CsvFormatException(FileName, 1, $"column '{column}' appears {matches.Count} times in the header"),
        };
    }

    /// <summary>The same table with other rows (a split).</summary>
    public TabularTable WithRows(IReadOnlyList<TabularRow> rows) => new(FileName, Header, rows, ArffColumns);

    private static bool IsArff(string path, byte[] bytes)
    {
        if (path.EndsWith(".arff", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var text = System.Text.Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 4096)).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        return text.StartsWith('%') || text.StartsWith("@relation", StringComparison.OrdinalIgnoreCase);
    }

    private static TabularTable FromCsv(string path)
    {
        var csv = CsvReader.Read(path);
        if (csv.Records.Count == 0)
        {
            throw new CsvFormatException(path, 1, "the file has a header line but no records");
        }

        return new TabularTable(path, csv.Header, [.. csv.Records.Select(r => new TabularRow(r.LineNumber, r.Fields))], null);
    }

    private static TabularTable FromArff(byte[] bytes, string path)
    {
        ArffFile arff;
        try
        {
            arff = ArffReader.Parse(bytes, path);
        }
        catch (ArffFormatException e)
        {
            throw new CsvFormatException(path, e.LineNumber, e.Problem);
        }

        if (arff.Rows.Count == 0)
        {
            throw new CsvFormatException(path, 1, "the file has an ARFF header but no data rows");
        }

        return new TabularTable(path, [.. arff.Attributes.Select(a => a.Name)], [.. arff.Rows.Select(r => new TabularRow(r.LineNumber, r.Values))], arff.Attributes);
    }
}
