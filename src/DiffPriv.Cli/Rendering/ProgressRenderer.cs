using System.Diagnostics;
using DiffPriv.Experiments;
using Spectre.Console;

namespace DiffPriv.Cli.Rendering;

/// <summary>Where a running command's progress goes: a live bar on a terminal, plain lines otherwise.</summary>
internal static class ProgressRenderer
{
    /// <summary>
    /// Runs <paramref name="body"/> with a progress sink: on an interactive terminal a Spectre.Console bar (log lines
    /// above it); otherwise plain lines, log lines to <paramref name="log"/> and the rest to <paramref name="stderr"/>.
    /// </summary>
    public static T Run<T>(bool interactive, TextWriter log, TextWriter stderr, Func<IProgress<ProgressUpdate>, T> body)
    {
        if (!interactive)
        {
            return body(new LineProgress(log, stderr));
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        T result = default!;
        // No refresh thread: the bar is redrawn by the training thread when it reports. A second thread that allocates
        // can start a garbage collection while the training thread is inside libtorch, and TorchSharp passes temporary
        // Scalar objects (Adam's betas, add_'s default alpha) that the finalizer may then free mid-call: libtorch fails
        // with "Exception raised from toFloat" or crashes (docs/dp-sgd.md, "TorchSharp traps we handle").
        console.Progress()
            .AutoRefresh(false)
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: 1);
                result = body(new BarProgress(console, ctx, task, stderr));
                task.Value = task.MaxValue;
                ctx.Refresh();
            });
        return result;
    }

    /// <summary>Whether <paramref name="stdout"/> is this process's terminal (a live bar makes sense).</summary>
    public static bool IsInteractive(TextWriter stdout) => ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
}

/// <summary>Plain progress lines (CI, --json, redirected output): log lines as they come, a few step lines per epoch.</summary>
internal sealed class LineProgress(TextWriter log, TextWriter? details = null) : IProgress<ProgressUpdate>
{
    public void Report(ProgressUpdate value)
    {
        var other = details ?? log;
        switch (value.Kind)
        {
            case ProgressKind.Message:
                log.WriteLine(value.Text);
                break;
            case ProgressKind.Warning:
                other.WriteLine($"warning: {value.Text}");
                break;
            case ProgressKind.Step when value.Step is { } s:
                var every = Math.Max(1, s.TotalSteps / Math.Max(1, s.Epochs) / 4);
                if (s.Step % every == 0 || s.Step == s.TotalSteps)
                {
                    other.WriteLine(value.Text);
                }

                break;
            default:
                other.WriteLine(value.Text);
                break;
        }
    }
}

/// <summary>Live progress bar on a terminal.</summary>
internal sealed class BarProgress(IAnsiConsole console, ProgressContext context, ProgressTask task, TextWriter stderr) : IProgress<ProgressUpdate>
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromMilliseconds(200);
    private readonly Stopwatch _sinceRefresh = Stopwatch.StartNew();

    public void Report(ProgressUpdate value)
    {
        Update(value);
        if (value.Kind != ProgressKind.Step || _sinceRefresh.Elapsed >= RefreshEvery)
        {
            context.Refresh();
            _sinceRefresh.Restart();
        }
    }

    private void Update(ProgressUpdate value)
    {
        switch (value.Kind)
        {
            case ProgressKind.Step when value.Step is { } s:
                task.MaxValue = Math.Max(1, s.TotalSteps);
                task.Description = Markup.Escape(value.Text);
                task.Value = s.Step;
                break;
            case ProgressKind.Warning:
                stderr.WriteLine($"warning: {value.Text}");
                break;
            default:
                console.WriteLine(value.Text);
                break;
        }
    }
}
