namespace DiffPriv.Experiments.UserLevel;

/// <summary>The command-line names and privacy units of <see cref="RatingTrainingMode"/>.</summary>
public static class RatingTrainingModes
{
    /// <summary>The three modes in report order: non-private, user-level, example-level.</summary>
    public static IReadOnlyList<RatingTrainingMode> All { get; } = [RatingTrainingMode.NonPrivate, RatingTrainingMode.UserLevel, RatingTrainingMode.ExampleLevel];

    /// <summary>The name of a mode: <c>non-private</c>, <c>user-level</c> or <c>example-level</c>.</summary>
    /// <param name="mode">A mode.</param>
    /// <returns>Its name.</returns>
    public static string Name(this RatingTrainingMode mode) => mode switch
    {
        RatingTrainingMode.NonPrivate => "non-private",
        RatingTrainingMode.UserLevel => "user-level",
        RatingTrainingMode.ExampleLevel => "example-level",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown mode."),
    };

    /// <summary>The unit the mode's ε protects: <c>user</c>, <c>example</c> (one rating), or <c>none</c> (not private).</summary>
    /// <param name="mode">A mode.</param>
    /// <returns>The privacy unit's name.</returns>
    public static string PrivacyUnit(this RatingTrainingMode mode) => mode switch
    {
        RatingTrainingMode.NonPrivate => "none",
        RatingTrainingMode.UserLevel => "user",
        RatingTrainingMode.ExampleLevel => "example",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown mode."),
    };

    /// <summary>Whether the mode trains with DP-SGD.</summary>
    /// <param name="mode">A mode.</param>
    /// <returns>False for <see cref="RatingTrainingMode.NonPrivate"/> only.</returns>
    public static bool IsPrivate(this RatingTrainingMode mode) => mode != RatingTrainingMode.NonPrivate;
}
