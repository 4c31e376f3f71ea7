namespace DiffPriv.Auditing.MembershipInference;

/// <summary>
/// What a membership-inference audit sees of a trained model: per-example outputs on members (examples the model was
/// trained on) and on non-members (held-out examples from the same distribution).
/// </summary>
/// <remarks>
/// Losses are required. Logits or probabilities (not both) and integer labels are optional; with them the confidence and
/// entropy attacks, the richer trained-attack features, and the per-class and correctly/incorrectly classified slices
/// become available. Call <see cref="Validate"/> (the audit does) to get one clear message for malformed input.
/// </remarks>
public sealed class AttackInput
{
    /// <summary>Per-example loss of members (e.g. cross-entropy in nats), finite. Length = number of members ≥ 1.</summary>
    public required IReadOnlyList<double> MemberLosses { get; init; }

    /// <summary>Per-example loss of non-members, finite. Length = number of non-members ≥ 1.</summary>
    public required IReadOnlyList<double> NonMemberLosses { get; init; }

    /// <summary>Optional logits of members, [members][classes], classes ≥ 2, finite. Excludes probabilities.</summary>
    public IReadOnlyList<IReadOnlyList<double>>? MemberLogits { get; init; }

    /// <summary>Optional logits of non-members, [non-members][classes]; given exactly when <see cref="MemberLogits"/> is.</summary>
    public IReadOnlyList<IReadOnlyList<double>>? NonMemberLogits { get; init; }

    /// <summary>Optional class probabilities of members, [members][classes], each row in [0, 1] summing to 1 ± 1e-3. Excludes logits.</summary>
    public IReadOnlyList<IReadOnlyList<double>>? MemberProbabilities { get; init; }

    /// <summary>Optional class probabilities of non-members; given exactly when <see cref="MemberProbabilities"/> is.</summary>
    public IReadOnlyList<IReadOnlyList<double>>? NonMemberProbabilities { get; init; }

    /// <summary>Optional true class of each member, ≥ 0 (and &lt; classes when logits or probabilities are given).</summary>
    public IReadOnlyList<int>? MemberLabels { get; init; }

    /// <summary>Optional true class of each non-member; given exactly when <see cref="MemberLabels"/> is.</summary>
    public IReadOnlyList<int>? NonMemberLabels { get; init; }

    /// <summary>Number of members.</summary>
    public int MemberCount => MemberLosses.Count;

    /// <summary>Number of non-members.</summary>
    public int NonMemberCount => NonMemberLosses.Count;

    /// <summary>True when logits or probabilities are given.</summary>
    public bool HasPredictions => MemberLogits is not null || MemberProbabilities is not null;

    /// <summary>True when labels are given.</summary>
    public bool HasLabels => MemberLabels is not null;

    /// <summary>Number of classes (the row length of the logits or probabilities), or null without them.</summary>
    public int? ClassCount => (MemberLogits ?? MemberProbabilities) is { Count: > 0 } rows ? rows[0].Count : null;

    /// <summary>Checks shapes and values and throws one <see cref="ArgumentException"/> naming the first problem.</summary>
    /// <exception cref="ArgumentException">An empty split, a non-finite value, mismatched lengths, a half-given pair, both
    /// logits and probabilities, rows of different widths, probabilities that are not a distribution, or a bad label.</exception>
    public void Validate()
    {
        CheckLosses(MemberLosses, nameof(MemberLosses), "member (training)");
        CheckLosses(NonMemberLosses, nameof(NonMemberLosses), "non-member (held-out)");
        CheckPair(MemberLogits, NonMemberLogits, nameof(MemberLogits), nameof(NonMemberLogits));
        CheckPair(MemberProbabilities, NonMemberProbabilities, nameof(MemberProbabilities), nameof(NonMemberProbabilities));
        CheckPair(MemberLabels, NonMemberLabels, nameof(MemberLabels), nameof(NonMemberLabels));
        if (MemberLogits is not null && MemberProbabilities is not null)
        {
            throw new ArgumentException("Give logits or probabilities, not both.");
        }

        int? classes = null;
        if (MemberLogits is not null)
        {
            classes = CheckRows(MemberLogits, MemberCount, nameof(MemberLogits), probabilities: false, null);
            CheckRows(NonMemberLogits!, NonMemberCount, nameof(NonMemberLogits), probabilities: false, classes);
        }

        if (MemberProbabilities is not null)
        {
            classes = CheckRows(MemberProbabilities, MemberCount, nameof(MemberProbabilities), probabilities: true, null);
            CheckRows(NonMemberProbabilities!, NonMemberCount, nameof(NonMemberProbabilities), probabilities: true, classes);
        }

        if (MemberLabels is not null)
        {
            CheckLabels(MemberLabels, MemberCount, nameof(MemberLabels), classes);
            CheckLabels(NonMemberLabels!, NonMemberCount, nameof(NonMemberLabels), classes);
        }
    }

    private static void CheckLosses(IReadOnlyList<double>? losses, string name, string what)
    {
        if (losses is null || losses.Count == 0)
        {
            throw new ArgumentException($"{name} is empty: membership inference needs at least one {what} example.");
        }

        for (var i = 0; i < losses.Count; i++)
        {
            if (!double.IsFinite(losses[i]))
            {
                throw new ArgumentException($"{name}[{i}] is {losses[i]}: losses must be finite numbers.");
            }
        }
    }

    private static void CheckPair(object? members, object? nonMembers, string memberName, string nonMemberName)
    {
        if ((members is null) != (nonMembers is null))
        {
            throw new ArgumentException($"{(members is null ? nonMemberName : memberName)} is given without {(members is null ? memberName : nonMemberName)}: give both or neither.");
        }
    }

    private static int CheckRows(IReadOnlyList<IReadOnlyList<double>> rows, int count, string name, bool probabilities, int? classes)
    {
        if (rows.Count != count)
        {
            throw new ArgumentException($"{name} has {rows.Count} rows but there are {count} losses: one row per example.");
        }

        var width = classes ?? rows[0]?.Count ?? 0;
        if (width < 2)
        {
            throw new ArgumentException($"{name} rows have {width} entries: at least 2 classes are needed.");
        }

        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i] ?? throw new ArgumentException($"{name}[{i}] is null.");
            if (row.Count != width)
            {
                throw new ArgumentException($"{name}[{i}] has {row.Count} entries, expected {width} (every row has one entry per class).");
            }

            var sum = 0.0;
            for (var k = 0; k < width; k++)
            {
                var v = row[k];
                if (!double.IsFinite(v))
                {
                    throw new ArgumentException($"{name}[{i}][{k}] is {v}: values must be finite.");
                }

                if (probabilities && (v < 0 || v > 1))
                {
                    throw new ArgumentException($"{name}[{i}][{k}] = {v} is not a probability in [0, 1].");
                }

                sum += v;
            }

            if (probabilities && Math.Abs(sum - 1) > 1e-3)
            {
                throw new ArgumentException($"{name}[{i}] sums to {sum}, not 1: probabilities must be a distribution (pass logits instead?).");
            }
        }

        return width;
    }

    private static void CheckLabels(IReadOnlyList<int> labels, int count, string name, int? classes)
    {
        if (labels.Count != count)
        {
            throw new ArgumentException($"{name} has {labels.Count} entries but there are {count} losses: one label per example.");
        }

        for (var i = 0; i < labels.Count; i++)
        {
            if (labels[i] < 0 || (classes is { } k && labels[i] >= k))
            {
                throw new ArgumentException($"{name}[{i}] = {labels[i]} is not a class index{(classes is { } c ? $" in [0, {c - 1}]" : " ≥ 0")}.");
            }
        }
    }
}
