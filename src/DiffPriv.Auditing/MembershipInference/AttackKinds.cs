namespace DiffPriv.Auditing.MembershipInference;

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
