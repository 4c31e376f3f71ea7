namespace DiffPriv.Datasets.Text;

/// <summary>The contents of an ARFF file.</summary>
/// <param name="Relation">The <c>@relation</c> name.</param>
/// <param name="Attributes">The attributes, in column order.</param>
/// <param name="Rows">The data rows, in file order.</param>
public sealed record ArffFile(string Relation, IReadOnlyList<ArffColumn> Attributes, IReadOnlyList<ArffRow> Rows)
{
    /// <summary>The column index of the attribute called <paramref name="name"/> (ordinal, case-insensitive).</summary>
    /// <param name="name">The attribute name.</param>
    /// <returns>Its 0-based index.</returns>
    /// <exception cref="KeyNotFoundException">There is no such attribute.</exception>
    public int IndexOf(string name)
    {
        for (var i = 0; i < Attributes.Count; i++)
        {
            if (string.Equals(Attributes[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new KeyNotFoundException(
            $"The ARFF relation '{Relation}' has no attribute '{name}' (it has {string.Join(", ", Attributes.Select(a => a.Name))}).");
    }
}
