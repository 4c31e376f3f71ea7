using System.Text.Json.Nodes;
using DiffPriv.Cli.Rendering;
using DiffPriv.Experiments;

namespace DiffPriv.Cli.Commands;

/// <summary>How the audit commands that train (<c>audit one-run</c>, <c>audit lira</c>) run once their settings are parsed.</summary>
internal static class AuditRun
{
    /// <summary>
    /// Validates the settings (a refusal is a usage error, exit 2), runs the audit with progress on the log (stderr with
    /// --json, else stdout), and prints the JSON summary or the text summary.
    /// </summary>
    public static int Execute<TResult>(
        Action validate,
        bool asJson,
        TextWriter stdout,
        TextWriter stderr,
        Func<IProgress<ProgressUpdate>, TResult> run,
        Func<TResult, JsonObject> summary,
        Action<TextWriter, TResult> writeSummary)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            throw UsageException.From(e);
        }

        TResult result;
        try
        {
            result = ProgressRenderer.Run(false, asJson ? stderr : stdout, stderr, run);
        }
        catch (ArgumentException e)
        {
            throw UsageException.From(e);
        }

        if (asJson)
        {
            stdout.WriteLine(summary(result).ToJsonString());
        }
        else
        {
            writeSummary(stdout, result);
        }

        return CliApp.ExitOk;
    }
}
