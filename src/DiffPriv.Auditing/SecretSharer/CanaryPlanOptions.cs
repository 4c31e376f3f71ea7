namespace DiffPriv.Auditing.SecretSharer;

/// <summary>What to generate for a Secret Sharer experiment (Carlini et al. 2019).</summary>
public sealed record CanaryPlanOptions
{
    /// <summary>The canary format, e.g. <c>"my pin is {d}{d}{d}{d}{d}{d}"</c> (see <see cref="CanaryFormat"/>).</summary>
    public required string Format { get; init; }

    /// <summary>The repetition counts r (each ≥ 1, distinct); every canary is inserted r times.</summary>
    public IReadOnlyList<int> Repetitions { get; init; } = [1, 2, 4, 8, 16, 32];

    /// <summary>Distinct canaries per repetition count, ≥ 1.</summary>
    public int CanariesPerRepetition { get; init; } = 5;

    /// <summary>
    /// Reference candidates: secrets of the format that are never inserted, ≥ 3 (the skew-normal fit needs 3). The
    /// exposure by rank is at most log2 of this; 2¹⁴ = 16 384 by default, since scoring all 10⁶ six-digit secrets is
    /// too slow on a CPU — the rank in the sample estimates the rank in the full space, and the skew-normal
    /// extrapolation extends the scale beyond log2 |references|.
    /// </summary>
    public int References { get; init; } = 16_384;

    /// <summary>
    /// Whether canaries are kept apart (default true): no two canaries share their first m slots, and no reference
    /// starts like any canary in those m slots, where m is the fewest leading slots with at least twice as many values
    /// as there are canaries (2 of 6 digits for 24 canaries). A canary the model learned (say one repeated 32 times,
    /// which even a DP model may learn) lifts every candidate that starts like it, the more the longer the shared
    /// start: a canary inserted once that shared four leading digits with it was measured at rank 2 of 16 384 in a
    /// private model. With the rule, two canaries share at most m − 1 leading slots. Without it, canaries and
    /// references are plain uniform draws, as in Carlini et al.
    /// </summary>
    public bool SeparatePrefixes { get; init; } = true;

    /// <summary>
    /// The number of leading slots kept distinct between canaries (see <see cref="SeparatePrefixes"/>): the fewest whose
    /// values number at least 2 × the canaries, or every slot (then the rule is plain distinctness).
    /// </summary>
    internal int PrefixSlots(CanaryFormat format)
    {
        if (!SeparatePrefixes)
        {
            return format.SlotCount;
        }

        for (var m = 1; m < format.SlotCount; m++)
        {
            if (format.PrefixSpaceSize(m) >= 2.0 * CanaryCount)
            {
                return m;
            }
        }

        return format.SlotCount;
    }

    /// <summary>How many secrets may serve as references: those that start like no canary.</summary>
    internal double AvailableReferences(CanaryFormat format) =>
        format.SpaceSize - ((double)CanaryCount * (format.SpaceSize / format.PrefixSpaceSize(PrefixSlots(format))));

    /// <summary>The number of canaries: repetition counts × canaries per count.</summary>
    internal int CanaryCount => Repetitions.Count * CanariesPerRepetition;

    /// <summary>Checks every value.</summary>
    /// <exception cref="ArgumentException">A value is out of range, or the format has fewer secrets than requested; the message names it.</exception>
    public void Validate()
    {
        var format = new CanaryFormat(Format);
        if (Repetitions is null || Repetitions.Count == 0)
        {
            throw new ArgumentException("Repetitions must list at least one repetition count.");
        }

        if (Repetitions.Any(r => r < 1) || Repetitions.Distinct().Count() != Repetitions.Count)
        {
            throw new ArgumentException($"Repetitions must be distinct counts ≥ 1 (got [{string.Join(", ", Repetitions)}]).");
        }

        if (CanariesPerRepetition < 1)
        {
            throw new ArgumentException($"CanariesPerRepetition must be ≥ 1 (got {CanariesPerRepetition}).");
        }

        if (References < 3)
        {
            throw new ArgumentException($"References must be ≥ 3 (got {References}).");
        }

        var needed = (double)CanaryCount + References;
        if (needed > format.SpaceSize)
        {
            throw new ArgumentException(
                $"The format \"{Format}\" has {format.SpaceSize} distinct secrets, fewer than the {needed} canaries and references requested.");
        }

        var available = AvailableReferences(format);
        if (References > available)
        {
            throw new ArgumentException(
                $"The format \"{Format}\" has {available} secrets that start like no canary (first {PrefixSlots(format)} slots), " +
                $"fewer than the {References} references requested; request fewer, or set SeparatePrefixes = false.");
        }
    }
}
