namespace DiffPriv.Experiments.TextClassification;

/// <summary>The command-line names of <see cref="TextTrainingMode"/>.</summary>
public static class TextTrainingModes
{
    /// <summary>The four modes in report order: non-private, dp-scratch, dp-full, dp-lora.</summary>
    public static IReadOnlyList<TextTrainingMode> All { get; } =
        [TextTrainingMode.NonPrivate, TextTrainingMode.DpScratch, TextTrainingMode.DpFull, TextTrainingMode.DpLora];

    /// <summary>The name of a mode: <c>non-private</c>, <c>dp-scratch</c>, <c>dp-full</c> or <c>dp-lora</c>.</summary>
    /// <param name="mode">A mode.</param>
    /// <returns>Its name.</returns>
    public static string Name(this TextTrainingMode mode) => mode switch
    {
        TextTrainingMode.NonPrivate => "non-private",
        TextTrainingMode.DpScratch => "dp-scratch",
        TextTrainingMode.DpFull => "dp-full",
        TextTrainingMode.DpLora => "dp-lora",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown mode."),
    };

    /// <summary>Whether the mode trains with DP-SGD.</summary>
    /// <param name="mode">A mode.</param>
    /// <returns>False for <see cref="TextTrainingMode.NonPrivate"/> only.</returns>
    public static bool IsPrivate(this TextTrainingMode mode) => mode != TextTrainingMode.NonPrivate;

    /// <summary>Whether the mode starts from the pretrained weights.</summary>
    /// <param name="mode">A mode.</param>
    /// <returns>False for <see cref="TextTrainingMode.DpScratch"/> only.</returns>
    public static bool IsPretrained(this TextTrainingMode mode) => mode != TextTrainingMode.DpScratch;
}
