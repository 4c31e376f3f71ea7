namespace DiffPriv.Datasets.Text;

/// <summary>One <c>@attribute</c> line of an ARFF header.</summary>
/// <param name="Name">The attribute name (unquoted).</param>
/// <param name="Kind">Its type.</param>
/// <param name="NominalValues">The allowed values of a nominal attribute, in header order; empty otherwise.</param>
public sealed record ArffColumn(string Name, ArffColumnKind Kind, IReadOnlyList<string> NominalValues);
