namespace DiffPriv.Auditing.MembershipInference;

/// <summary>Settings of a membership-inference audit. Every member has a default; <see cref="Validate"/> checks ranges.</summary>
public sealed record AuditOptions
{
    /// <summary>The attacks to run, or null for every attack the input supports (confidence and entropy need logits or
    /// probabilities). Naming an attack the input cannot support is an error.</summary>
    public IReadOnlyList<AttackKind>? Attacks { get; init; }

    /// <summary>Also run every attack on each class present (needs labels). Default true.</summary>
    public bool SliceByClass { get; init; } = true;

    /// <summary>Also run every attack on correctly and on incorrectly classified examples (needs labels and
    /// logits/probabilities). Default true.</summary>
    public bool SliceByCorrectness { get; init; } = true;

    /// <summary>A slice other than "all" is attacked only when it has at least this many members and this many
    /// non-members (smaller slices give numbers dominated by chance). Default 10, ≥ 1.</summary>
    public int MinSliceExamples { get; init; } = 10;

    /// <summary>δ of the empirical ε lower bound, in [0, 1). Default 1e-5; use the δ of the accountant's ε.</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>Confidence of each ε lower bound, in (0, 1). Default 0.95. The largest of m reported bounds holds with
    /// confidence ≥ 1 − m·(1 − Confidence) (union bound).</summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>Seeds the audit's non-secret random choices (ε selection/evaluation split, balancing, folds, attack-model
    /// initialisation). Same input and seed ⇒ same result. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(Delta >= 0 && Delta < 1))
        {
            throw new ArgumentException($"Delta must be in [0, 1) (got {Delta}).");
        }

        if (!(Confidence > 0 && Confidence < 1))
        {
            throw new ArgumentException($"Confidence must be in (0, 1) (got {Confidence}).");
        }

        if (MinSliceExamples < 1)
        {
            throw new ArgumentException($"MinSliceExamples must be ≥ 1 (got {MinSliceExamples}).");
        }

        if (Attacks is not null)
        {
            if (Attacks.Count == 0)
            {
                throw new ArgumentException("Attacks is empty: name at least one attack, or leave it null for all.");
            }

            if (Attacks.Any(a => !Enum.IsDefined(a)))
            {
                throw new ArgumentException("Attacks contains an undefined AttackKind.");
            }

            if (Attacks.Distinct().Count() != Attacks.Count)
            {
                throw new ArgumentException("Attacks names an attack twice.");
            }
        }
    }
}
