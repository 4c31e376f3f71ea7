using System.Globalization;

namespace DiffPriv.Experiments.Reports;

/// <summary>Where a command writes its results: the folder the user asked for, or a fresh <c>runs/&lt;name&gt;-&lt;timestamp&gt;</c>.</summary>
public static class RunFolder
{
    /// <summary>
    /// <paramref name="requested"/> as a full path when given; otherwise <c>runs/&lt;prefix&gt;-yyyyMMdd-HHmmss</c> under the
    /// current folder, with a suffix -2, -3, … when that folder already exists. Nothing is created.
    /// </summary>
    /// <param name="requested">The folder the user asked for, or null.</param>
    /// <param name="prefix">The run's name, e.g. <c>mnist</c>.</param>
    /// <returns>The absolute folder.</returns>
    public static string Resolve(string? requested, string prefix)
    {
        if (requested is not null)
        {
            return Path.GetFullPath(requested);
        }

        var root = Directory.GetCurrentDirectory();
        var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var dir = Path.Combine(root, "runs", $"{prefix}-{stamp}");
        for (var i = 2; Directory.Exists(dir); i++)
        {
            dir = Path.Combine(root, "runs", $"{prefix}-{stamp}-{i}");
        }

        return dir;
    }
}
