using System.Globalization;
using Spectre.Console;

namespace DiffPriv.Cli.Training;

/// <summary>A snapshot of a running training, for progress display.</summary>
internal sealed record StepStatus(int Epoch, int Epochs, long Step, long TotalSteps, double Loss, double TrainAccuracy, double? EpsilonSoFar, TimeSpan? TimeLeft);

/// <summary>Where live progress goes: a Spectre.Console display on a terminal, plain lines on stderr otherwise.</summary>
internal interface ITrainProgress
{
    void Update(StepStatus status);

    void Line(string text);
}

/// <summary>Plain progress lines (CI, --json, redirected output): a few per epoch, never on stdout.</summary>
internal sealed class PlainTrainProgress(TextWriter writer, long stepsPerEpoch) : ITrainProgress
{
    private readonly long _every = Math.Max(1, stepsPerEpoch / 4);

    public void Update(StepStatus s)
    {
        if (s.Step % _every == 0 || s.Step == s.TotalSteps)
        {
            writer.WriteLine(TrainProgressText.Describe(s));
        }
    }

    public void Line(string text) => writer.WriteLine(text);
}

/// <summary>Live progress bar on a terminal.</summary>
internal sealed class SpectreTrainProgress(IAnsiConsole console, ProgressTask task) : ITrainProgress
{
    public void Update(StepStatus s)
    {
        task.Description = Markup.Escape(TrainProgressText.Describe(s));
        task.Value = s.Step;
    }

    public void Line(string text) => console.WriteLine(text);

    /// <summary>Runs <paramref name="body"/> inside a live progress display on <paramref name="console"/>.</summary>
    public static T Run<T>(IAnsiConsole console, long totalSteps, Func<ITrainProgress, T> body)
    {
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: Math.Max(1, totalSteps));
                result = body(new SpectreTrainProgress(console, task));
                task.Value = task.MaxValue;
            });
        return result;
    }
}

internal static class TrainProgressText
{
    public static string Describe(StepStatus s)
    {
        var inv = CultureInfo.InvariantCulture;
        var eps = s.EpsilonSoFar is { } e ? $"ε {e.ToString("F3", inv)}" : "ε –";
        var left = s.TimeLeft is { } t ? $"~{(int)t.TotalMinutes}:{t.Seconds:00} left" : "";
        return $"epoch {s.Epoch}/{s.Epochs}  step {s.Step}/{s.TotalSteps}  loss {s.Loss.ToString("F4", inv)}  " +
               $"train acc {(100 * s.TrainAccuracy).ToString("F2", inv)}%  {eps}  {left}".TrimEnd();
    }
}
