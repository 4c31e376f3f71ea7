namespace DiffPriv.Datasets.Tabular;

/// <summary>A CSV file read by <see cref="CsvReader"/>: its header and its records, each with its starting line.</summary>
public sealed class CsvTable
{
    internal CsvTable(string fileName, IReadOnlyList<string> header, IReadOnlyList<CsvRecord> records)
    {
        FileName = fileName;
        Header = header;
        Records = records;
    }

    /// <summary>The file as the user named it; used in error messages.</summary>
    public string FileName { get; }

    /// <summary>The column names from the header row (line 1), in file order.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The records after the header, in file order; each has exactly <c>Header.Count</c> fields.</summary>
    public IReadOnlyList<CsvRecord> Records { get; }

    /// <summary>The 0-based position of a column, matched exactly (ordinal, case-sensitive) against the header.</summary>
    /// <param name="column">The column name.</param>
    /// <returns>Its index in <see cref="Header"/> and in every record's fields.</returns>
    /// <exception cref="CsvFormatException">No header field or more than one has this name (reported at line 1).</exception>
    public int ColumnIndex(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var matches = Enumerable.Range(0, Header.Count).Where(i => string.Equals(Header[i], column, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new CsvFormatException(FileName, 1, $"no column '{column}' in the header (columns: {string.Join(", ", Header.Select(h => $"'{h}'"))})"),
            _ => throw new CsvFormatException(FileName, 1, $"column '{column}' appears {matches.Count} times in the header (columns {string.Join(", ", matches.Select(i => i + 1))})"),
        };
    }

    /// <summary>
    /// The examples for text classification: each record's text and target, checked. For
    /// <c>diffpriv train text --data FILE.csv --text-column C --target L</c>.
    /// </summary>
    /// <param name="textColumn">The column holding the text.</param>
    /// <param name="targetColumn">The column holding the class label.</param>
    /// <returns>One example per record, in file order.</returns>
    /// <exception cref="CsvFormatException">A column is missing or ambiguous (line 1), the two names are the same column
    /// (line 1), or a record's text or target is empty or only white space (that record's line).</exception>
    public IReadOnlyList<CsvTextRecord> TextRecords(string textColumn, string targetColumn)
    {
        var text = ColumnIndex(textColumn);
        var target = ColumnIndex(targetColumn);
        if (text == target)
        {
            throw new CsvFormatException(FileName, 1, $"the text column and the target column are both '{textColumn}'");
        }

        var examples = new List<CsvTextRecord>(Records.Count);
        foreach (var record in Records)
        {
            var value = record.Fields[text];
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new CsvFormatException(FileName, record.LineNumber, $"the text column '{textColumn}' is empty");
            }

            var label = record.Fields[target];
            if (string.IsNullOrWhiteSpace(label))
            {
                throw new CsvFormatException(FileName, record.LineNumber, $"the target column '{targetColumn}' is empty");
            }

            examples.Add(new CsvTextRecord(record.LineNumber, value, label));
        }

        return examples;
    }
}
