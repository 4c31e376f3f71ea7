namespace DiffPriv.Datasets.Tabular;

/// <summary>One example for text classification taken from a CSV record: its text, its target and where it starts.</summary>
/// <param name="LineNumber">The 1-based physical line on which the record starts.</param>
/// <param name="Text">The text column's value, never empty or only white space.</param>
/// <param name="Target">The target column's value (a class label as written in the file), never empty or only white space.</param>
public sealed record CsvTextRecord(int LineNumber, string Text, string Target);
