namespace DiffPriv.Auditing.MembershipInference;

/// <summary>A slice of the audited examples; attacks run on each slice separately (members and non-members alike).</summary>
/// <param name="Kind">The kind of slice.</param>
/// <param name="ClassLabel">The class for <see cref="SliceKind.Class"/>, else null.</param>
public sealed record SliceSpec(SliceKind Kind, int? ClassLabel = null)
{
    /// <summary>Every example.</summary>
    public static SliceSpec All { get; } = new(SliceKind.All);

    /// <summary>Correctly classified examples.</summary>
    public static SliceSpec CorrectlyClassified { get; } = new(SliceKind.CorrectlyClassified);

    /// <summary>Misclassified examples.</summary>
    public static SliceSpec Misclassified { get; } = new(SliceKind.Misclassified);

    /// <summary>Examples of one class.</summary>
    /// <param name="label">The class index ≥ 0.</param>
    /// <returns>The slice.</returns>
    public static SliceSpec Class(int label) => new(SliceKind.Class, label);

    /// <summary>The stable name: all, class=3, correct, incorrect.</summary>
    public string Name => Kind switch
    {
        SliceKind.All => "all",
        SliceKind.Class => $"class={ClassLabel}",
        SliceKind.CorrectlyClassified => "correct",
        SliceKind.Misclassified => "incorrect",
        _ => Kind.ToString(),
    };

    /// <inheritdoc />
    public override string ToString() => Name;
}
