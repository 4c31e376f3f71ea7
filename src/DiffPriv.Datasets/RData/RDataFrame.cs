namespace DiffPriv.Datasets.RData;

/// <summary>An R data frame: named columns of equal length.</summary>
/// <param name="ColumnNames">The column names in order.</param>
/// <param name="RowCount">The number of rows.</param>
/// <param name="Columns">The column vectors in order.</param>
internal sealed record RDataFrame(IReadOnlyList<string> ColumnNames, int RowCount, IReadOnlyList<RObject> Columns)
{
    /// <summary>A column by name.</summary>
    /// <exception cref="DataFormatException">No such column.</exception>
    public RObject Column(string source, string name)
    {
        var index = ColumnNames.ToList().IndexOf(name);
        return index >= 0
            ? Columns[index]
            : throw new DataFormatException(source, $"the data frame has no column '{name}' (columns: {string.Join(", ", ColumnNames)})");
    }

    /// <summary>A character or factor column's values (NA is null).</summary>
    /// <exception cref="DataFormatException">No such column, or it does not hold text.</exception>
    public IReadOnlyList<string?> CharacterColumn(string source, string name) => Column(source, name).AsCharacter(source, $"column '{name}'");
}
