namespace DiffPriv.Experiments;

/// <summary>One report of a running experiment, delivered synchronously through <see cref="IProgress{T}"/>.</summary>
/// <param name="Kind">What it carries.</param>
/// <param name="Text">The line to show (for <see cref="ProgressKind.Step"/>, a one-line description of the step).</param>
/// <param name="Step">For <see cref="ProgressKind.Step"/>: the step's numbers; otherwise null.</param>
public sealed record ProgressUpdate(ProgressKind Kind, string Text, StepStatus? Step = null)
{
    /// <summary>A log line.</summary>
    /// <param name="text">The line.</param>
    /// <returns>The update.</returns>
    public static ProgressUpdate Message(string text) => new(ProgressKind.Message, text);

    /// <summary>A data-loading detail.</summary>
    /// <param name="text">The line.</param>
    /// <returns>The update.</returns>
    public static ProgressUpdate Detail(string text) => new(ProgressKind.Detail, text);

    /// <summary>A warning.</summary>
    /// <param name="text">The line, without a "warning:" prefix.</param>
    /// <returns>The update.</returns>
    public static ProgressUpdate Warning(string text) => new(ProgressKind.Warning, text);

    /// <summary>A finished step.</summary>
    /// <param name="status">Its numbers.</param>
    /// <returns>The update.</returns>
    public static ProgressUpdate StepDone(StepStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new(ProgressKind.Step, status.Describe(), status);
    }
}
