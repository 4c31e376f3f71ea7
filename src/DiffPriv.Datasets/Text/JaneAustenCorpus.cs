using System.Text;
using DiffPriv.Datasets.RData;

namespace DiffPriv.Datasets.Text;

/// <summary>
/// Jane Austen's six completed novels, public English text for pretraining, from the Debian package
/// <c>r-cran-janeaustenr</c> (1.0.0; MIT, the texts public domain): 73 422 lines, 3 951 606 characters of text
/// (UTF-16 code units, line breaks not counted; 4 025 022 with the lines of each novel joined by <c>\n</c>), measured
/// here. The package keeps them as R's lazy-load data (<c>data/Rdata.rdb</c> and its index <c>Rdata.rdx</c>), one
/// character vector per novel; they are read without R (<c>apt-get download</c> + <c>dpkg-deb -x</c>, then R's XDR
/// serialisation decoded in C#). The pinned digest is over the decoded text, not the files, so a rebuild of the same
/// upstream release by a newer R still verifies. No split is given. Fetched into the cache, never committed.
/// </summary>
public static class JaneAustenCorpus
{
    /// <summary>The <c>diffpriv fetch</c> argument and cache folder name.</summary>
    public const string Id = "austen";

    /// <summary>Where the files come from.</summary>
    public const string Source = "Debian package r-cran-janeaustenr 1.0.0 (apt-get download + dpkg-deb -x; /usr/lib/R/site-library/janeaustenr/data/)";

    /// <summary>The lazy-load database in the cache folder.</summary>
    public const string DatabaseFile = "Rdata.rdb";

    /// <summary>Its index.</summary>
    public const string IndexFile = "Rdata.rdx";

    /// <summary>
    /// SHA-256 of the decoded text: the UTF-8 bytes of every line of every novel, each followed by <c>\n</c>, novels in
    /// the order of <see cref="Novels"/>.
    /// </summary>
    public const string TextSha256 = "f2516f2139e3cecf49657122fed58ac46313f1fdff32a26fc66789293e92d573";

    /// <summary>R object name → title, in publication order (the order of <c>austen_books()</c>).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Novels { get; } =
    [
        new("sensesensibility", "Sense & Sensibility"),
        new("prideprejudice", "Pride & Prejudice"),
        new("mansfieldpark", "Mansfield Park"),
        new("emma", "Emma"),
        new("northangerabbey", "Northanger Abbey"),
        new("persuasion", "Persuasion"),
    ];

    /// <summary>
    /// Loads the six novels from the cache (fetching the package's data files with <see cref="DataFetcher"/> when one is
    /// missing) and checks their text against <see cref="TextSha256"/>.
    /// </summary>
    /// <param name="cacheDir">The data cache root (the files are in its <c>austen/</c> folder); null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The novels in publication order.</returns>
    /// <exception cref="DataFetchException">The files are missing and cannot be fetched, cannot be decoded, or their text does not match the pinned digest.</exception>
    public static IReadOnlyList<JaneAustenNovel> Load(string? cacheDir = null, bool fetchIfMissing = true, Action<string>? log = null)
    {
        var (folder, fetched) = DataFetcher.Ensure(Id, Source, cacheDir, [DatabaseFile, IndexFile], fetchIfMissing, log);
        var database = Path.Combine(folder, DatabaseFile);
        IReadOnlyList<JaneAustenNovel> novels;
        try
        {
            novels = Read(database, Path.Combine(folder, IndexFile));
        }
        catch (DataFormatException e)
        {
            Discard(folder, fetched);
            throw new DataFetchException($"{e.Message} The files are corrupt or not the expected release: {DataFetcher.RefetchHint(Id)}.", e);
        }

        var actual = TextDigest(novels);
        if (actual != TextSha256)
        {
            Discard(folder, fetched);
            throw new DataFetchException(
                $"{folder}: the SHA-256 of the novels' text, {actual}, does not match the pinned {TextSha256} ({Source}). The files are corrupt or " +
                $"not the expected release: {DataFetcher.RefetchHint(Id)}.");
        }

        return novels;
    }

    /// <summary>Reads the novels from a <c>janeaustenr</c> lazy-load database, without checking a digest.</summary>
    /// <param name="databasePath">The <c>Rdata.rdb</c> file.</param>
    /// <param name="indexPath">The <c>Rdata.rdx</c> file.</param>
    /// <returns>The novels in publication order.</returns>
    /// <exception cref="DataFormatException">A file cannot be decoded, or a novel is missing or is not a character vector.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static IReadOnlyList<JaneAustenNovel> Read(string databasePath, string indexPath)
    {
        var objects = RDataFiles.ReadLazyLoadDatabase(databasePath, indexPath);
        return
        [
            .. Novels.Select(n =>
            {
                var value = objects.TryGetValue(n.Key, out var v)
                    ? v
                    : throw new DataFormatException(databasePath, $"no object '{n.Key}' (objects: {string.Join(", ", objects.Keys)})");
                var lines = value.AsCharacter(databasePath, $"'{n.Key}'");
                return new JaneAustenNovel(
                    n.Value,
                    n.Key,
                    [.. lines.Select((l, i) => l ?? throw new DataFormatException(databasePath, $"'{n.Key}': line {i + 1} is NA"))]);
            }),
        ];
    }

    internal static string TextDigest(IEnumerable<JaneAustenNovel> novels)
    {
        var text = new StringBuilder();
        foreach (var line in novels.SelectMany(n => n.Lines))
        {
            text.Append(line).Append('\n');
        }

        return DataFetcher.Sha256(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static void Discard(string folder, bool fetchedNow)
    {
        if (fetchedNow)
        {
            File.Delete(Path.Combine(folder, DatabaseFile)); // never leave unverified data in the cache
            File.Delete(Path.Combine(folder, IndexFile));
        }
    }
}
