using System.Globalization;
using DiffPriv.Data;

namespace DiffPriv.Cli.Reports;

/// <summary>Where a command writes its results: the folder the user asked for, or a fresh <c>runs/&lt;name&gt;-&lt;timestamp&gt;</c>.</summary>
internal static class RunFolder
{
    /// <summary>
    /// <paramref name="requested"/> as a full path when given; otherwise <c>runs/&lt;prefix&gt;-yyyyMMdd-HHmmss</c> under the
    /// repository root (or the current folder), with a suffix -2, -3, … when that folder already exists. Nothing is created.
    /// </summary>
    public static string Resolve(string? requested, string prefix)
    {
        if (requested is not null)
        {
            return Path.GetFullPath(requested);
        }

        var root = Datasets.FindRepositoryRoot() ?? Directory.GetCurrentDirectory();
        var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var dir = Path.Combine(root, "runs", $"{prefix}-{stamp}");
        for (var i = 2; Directory.Exists(dir); i++)
        {
            dir = Path.Combine(root, "runs", $"{prefix}-{stamp}-{i}");
        }

        return dir;
    }
}
