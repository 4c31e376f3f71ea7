namespace DiffPriv.Datasets.Tabular;

/// <summary>
/// A CSV file that breaks RFC 4180 or the caller's expectations (a missing column, a record with the wrong number of
/// fields, an unterminated quote, an empty text). The message has the form <c>FILE:LINE: problem</c>, for example
/// <c>reviews.csv:17: record has 3 fields, the header has 2</c>, where LINE is the 1-based physical line.
/// </summary>
public sealed class CsvFormatException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="fileName">The file as the user named it.</param>
    /// <param name="lineNumber">The 1-based physical line: where the offending record or quoted field starts (1 for the header).</param>
    /// <param name="problem">What is wrong, without a final period.</param>
    public CsvFormatException(string fileName, int lineNumber, string problem)
        : base($"{fileName}:{lineNumber}: {problem}")
    {
        FileName = fileName;
        LineNumber = lineNumber;
        Problem = problem;
    }

    /// <summary>The offending file as the user named it.</summary>
    public string FileName { get; }

    /// <summary>The offending 1-based physical line.</summary>
    public int LineNumber { get; }

    /// <summary>What is wrong, without the file and line.</summary>
    public string Problem { get; }
}
