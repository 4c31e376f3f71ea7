namespace DiffPriv.Datasets.Text;

/// <summary>The type of an ARFF attribute.</summary>
public enum ArffColumnKind
{
    /// <summary><c>numeric</c>, <c>real</c> or <c>integer</c>: values parse as invariant-culture numbers.</summary>
    Numeric,

    /// <summary><c>{a, b, …}</c>: values are one of <see cref="ArffColumn.NominalValues"/>.</summary>
    Nominal,

    /// <summary>ARFF <c>string</c>: free text, usually quoted.</summary>
    Text,

    /// <summary><c>date [format]</c>: kept as the written text.</summary>
    Date,
}
