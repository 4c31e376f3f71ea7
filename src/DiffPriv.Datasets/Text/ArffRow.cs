namespace DiffPriv.Datasets.Text;

/// <summary>One data row of an ARFF file.</summary>
/// <param name="LineNumber">Its 1-based line number in the file.</param>
/// <param name="Values">One value per attribute, unquoted and unescaped; null where the file has <c>?</c> (missing).</param>
public sealed record ArffRow(int LineNumber, IReadOnlyList<string?> Values);
