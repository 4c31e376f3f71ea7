namespace DiffPriv.Experiments.Tabular;

/// <summary>What preprocessing did with one feature column and where each public fact about it came from.</summary>
/// <param name="Name">The column name.</param>
/// <param name="Kind">How it is used.</param>
/// <param name="KindSource">Where its kind comes from.</param>
/// <param name="ValuesSource">Where its range or categories come from (<see cref="TabularSource.None"/> for an ignored column).</param>
/// <param name="RangeLow">A numeric column's lower end (values below are clipped); null otherwise.</param>
/// <param name="RangeHigh">A numeric column's upper end (values above are clipped); null otherwise.</param>
/// <param name="Impute">A numeric column's value for a missing entry; null otherwise.</param>
/// <param name="Categories">A categorical column's categories (every other value is "other"); empty otherwise.</param>
public sealed record TabularColumnSummary(
    string Name,
    TabularColumnKind Kind,
    TabularSource KindSource,
    TabularSource ValuesSource,
    double? RangeLow,
    double? RangeHigh,
    double? Impute,
    IReadOnlyList<string> Categories);
