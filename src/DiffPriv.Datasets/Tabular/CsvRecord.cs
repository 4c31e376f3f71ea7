namespace DiffPriv.Datasets.Tabular;

/// <summary>One record of a CSV file: its fields, unquoted, and where it starts.</summary>
/// <param name="LineNumber">The 1-based physical line on which the record starts (the header is line 1; a field with
/// line breaks inside quotes makes the next record start further down).</param>
/// <param name="Fields">The field values in header order, quotes removed and doubled quotes undone; line breaks inside
/// quoted fields are kept as they are in the file (<c>\n</c> or <c>\r\n</c>).</param>
public sealed record CsvRecord(int LineNumber, IReadOnlyList<string> Fields);
