namespace DiffPriv.Auditing.MembershipInference;

/// <summary>How a slice of the examples is chosen.</summary>
public enum SliceKind
{
    /// <summary>Every example.</summary>
    All,

    /// <summary>Examples whose true label is one class.</summary>
    Class,

    /// <summary>Examples the model classifies correctly (argmax of logits/probabilities = label; first maximum on ties).</summary>
    CorrectlyClassified,

    /// <summary>Examples the model misclassifies.</summary>
    Misclassified,
}
