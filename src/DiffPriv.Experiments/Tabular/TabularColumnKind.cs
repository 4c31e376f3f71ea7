namespace DiffPriv.Experiments.Tabular;

/// <summary>How <c>diffpriv train csv</c> uses a column.</summary>
public enum TabularColumnKind
{
    /// <summary>A number, scaled from its public range to [−1, 1] (clipped), with a missing-value indicator.</summary>
    Numeric,

    /// <summary>One of a public list of categories, one-hot encoded with an "other" and a "missing" slot.</summary>
    Categorical,

    /// <summary>Not used (declared <c>"ignore"</c> in the schema, an ARFF date, or a column with no values).</summary>
    Ignored,
}
