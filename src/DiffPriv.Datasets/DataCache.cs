namespace DiffPriv.Datasets;

/// <summary>
/// Where fetched data sets live: a per-user cache, never a folder found through a source checkout.
/// </summary>
public static class DataCache
{
    /// <summary>The environment variable that overrides the data cache folder.</summary>
    public const string EnvironmentVariable = "DIFFPRIV_DATA";

    /// <summary>
    /// The cache root: <c>$DIFFPRIV_DATA</c> if set; else <c>$XDG_CACHE_HOME/diffpriv</c>; else
    /// <c>~/.cache/diffpriv</c> (on Windows, the local application-data folder's <c>diffpriv</c>).
    /// </summary>
    /// <returns>The absolute folder (it may not exist yet).</returns>
    /// <exception cref="DataFetchException">No home folder is known and neither variable is set.</exception>
    public static string Root() =>
        Resolve(
            Environment.GetEnvironmentVariable(EnvironmentVariable),
            Environment.GetEnvironmentVariable("XDG_CACHE_HOME"),
            OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData) : null,
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>The rule of <see cref="Root"/> on given values (null or blank: unset).</summary>
    internal static string Resolve(string? diffprivData, string? xdgCacheHome, string? localAppData, string? home)
    {
        if (!string.IsNullOrWhiteSpace(diffprivData))
        {
            return Path.GetFullPath(diffprivData);
        }

        if (!string.IsNullOrWhiteSpace(xdgCacheHome) && Path.IsPathFullyQualified(xdgCacheHome))
        {
            return Path.Combine(xdgCacheHome, "diffpriv");
        }

        if (!string.IsNullOrEmpty(localAppData))
        {
            return Path.Combine(localAppData, "diffpriv");
        }

        if (string.IsNullOrEmpty(home))
        {
            throw new DataFetchException($"No data folder: set {EnvironmentVariable} (or XDG_CACHE_HOME) to a folder.");
        }

        return Path.Combine(home, ".cache", "diffpriv");
    }
}
