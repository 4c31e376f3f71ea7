namespace DiffPriv.Experiments.Tabular;

/// <summary>Where a fact about a column that preprocessing needs (its kind, range, categories, the target's classes) comes from.</summary>
public enum TabularSource
{
    /// <summary>Declared by the user in the schema file: public by the user's word; costs no privacy.</summary>
    Schema,

    /// <summary>Declared in the ARFF file's header (attribute types, nominal values): treated as public; costs no privacy.</summary>
    ArffHeader,

    /// <summary>Inferred from the training values (a column is numeric when every present value is a number): treated as public.</summary>
    InferredFromValues,

    /// <summary>Computed from the training table with differential privacy and charged to the run's ledger.</summary>
    DifferentialPrivacy,

    /// <summary>Nothing was needed (an ignored column).</summary>
    None,
}
