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
