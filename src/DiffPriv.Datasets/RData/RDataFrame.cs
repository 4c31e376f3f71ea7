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

    /// <summary>An integer column's values (NA is <see cref="int.MinValue"/>); a factor is refused (its codes are not values).</summary>
    /// <exception cref="DataFormatException">No such column, or it is not a plain integer vector.</exception>
    public IReadOnlyList<int> IntegerColumn(string source, string name)
    {
        var column = Column(source, name);
        return column is { Type: RType.Integer } && !column.Inherits("factor")
            ? column.Integers
            : throw new DataFormatException(source, $"column '{name}' is {column.Describe()}, not an integer vector");
    }

    /// <summary>A numeric column's values as doubles (integer NA becomes NaN; R's double NA is a NaN already).</summary>
    /// <exception cref="DataFormatException">No such column, or it is neither a double nor a plain integer vector.</exception>
    public IReadOnlyList<double> NumericColumn(string source, string name)
    {
        var column = Column(source, name);
        return column switch
        {
            { Type: RType.Double } => column.Doubles,
            { Type: RType.Integer } when !column.Inherits("factor") => [.. column.Integers.Select(v => v == int.MinValue ? double.NaN : v)],
            _ => throw new DataFormatException(source, $"column '{name}' is {column.Describe()}, not a numeric vector"),
        };
    }
}
