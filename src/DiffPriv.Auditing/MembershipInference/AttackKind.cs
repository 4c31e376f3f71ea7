namespace DiffPriv.Auditing.MembershipInference;

/// <summary>A membership-inference attack. Every attack turns each example into a score, higher = more likely a member.</summary>
public enum AttackKind
{
    /// <summary>Score −loss (Yeom et al. 2018): members tend to have lower loss. Needs only losses.</summary>
    LossThreshold,

    /// <summary>Score = probability of the true label, or the largest probability without labels. Needs logits or probabilities.</summary>
    ConfidenceThreshold,

    /// <summary>Score −entropy: Song &amp; Mittal's modified entropy with labels, Shannon entropy without. Needs logits or probabilities.</summary>
    EntropyThreshold,

    /// <summary>L2-regularised logistic regression on [loss, sorted probabilities], 2-fold cross-validated on balanced sets.</summary>
    LogisticRegression,

    /// <summary>A one-hidden-layer perceptron on the same features, 2-fold cross-validated on balanced sets.</summary>
    Mlp,
}

/// <summary>Names of attacks as printed and written to JSON.</summary>
public static class AttackKinds
{
    /// <summary>Every attack, in reporting order.</summary>
    public static IReadOnlyList<AttackKind> All { get; } =
        [AttackKind.LossThreshold, AttackKind.ConfidenceThreshold, AttackKind.EntropyThreshold, AttackKind.LogisticRegression, AttackKind.Mlp];

    /// <summary>The stable name: loss-threshold, confidence-threshold, entropy-threshold, logistic-regression, mlp.</summary>
    /// <param name="kind">The attack.</param>
    /// <returns>Its name.</returns>
    public static string Name(this AttackKind kind) => kind switch
    {
        AttackKind.LossThreshold => "loss-threshold",
        AttackKind.ConfidenceThreshold => "confidence-threshold",
        AttackKind.EntropyThreshold => "entropy-threshold",
        AttackKind.LogisticRegression => "logistic-regression",
        AttackKind.Mlp => "mlp",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown attack."),
    };

    /// <summary>True for the attacks that train a classifier (2-fold cross-validation).</summary>
    /// <param name="kind">The attack.</param>
    /// <returns>Whether it is trained.</returns>
    public static bool IsTrained(this AttackKind kind) => kind is AttackKind.LogisticRegression or AttackKind.Mlp;

    /// <summary>True when the attack needs logits or probabilities.</summary>
    /// <param name="kind">The attack.</param>
    /// <returns>Whether it needs predictions.</returns>
    public static bool NeedsPredictions(this AttackKind kind) => kind is AttackKind.ConfidenceThreshold or AttackKind.EntropyThreshold;
}
