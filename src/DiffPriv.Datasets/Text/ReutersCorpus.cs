using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DiffPriv.Datasets.Text;

/// <summary>
/// Reuters-21578 financial newswire (1987), the stand-in for the Penn Treebank: the WEKA files
/// <c>ReutersCorn-train.arff</c> (1554 documents) and <c>ReutersCorn-test.arff</c> (604) from the examples of the
/// Debian package <c>weka</c> 3.6.14. They are one fifth (WEKA's RemoveFolds, fold 1 of 5) of the ModApte train and test
/// splits (7769 and 3019 documents with at least one topic); the shipped split is kept. WEKA's
/// <c>ReutersGrain-*.arff</c> hold the same texts with another label.
/// Licence: research use only ("Reuters-21578, Distribution 1.0"); the files are fetched into the cache, never
/// committed. Each document is cleaned (<see cref="Clean"/>), its headline made a sentence of its own, split into
/// sentences and cut into sequences (<see cref="TextProcessing"/>).
/// </summary>
public static partial class ReutersCorpus
{
    /// <summary>The script argument and cache folder name.</summary>
    public const string Id = "reuters";

    /// <summary>Where the files come from.</summary>
    public const string Source = "Debian package weka 3.6.14 (apt-get download + dpkg-deb -x; /usr/share/doc/weka/examples/)";

    /// <summary>The training file in the cache folder.</summary>
    public const string TrainFile = "ReutersCorn-train.arff";

    /// <summary>The test file in the cache folder.</summary>
    public const string TestFile = "ReutersCorn-test.arff";

    /// <summary>The name of the corpus in reports.</summary>
    public const string Name = "Reuters-21578 newswire (ModApte split, WEKA ReutersCorn files)";

    /// <summary>The ARFF attribute holding the document text.</summary>
    public const string TextAttribute = "Text";

    /// <summary>File name → lower-case hex SHA-256 of the file (identical in weka 3.6.14-3 and 3.6.14-4).</summary>
    public static IReadOnlyDictionary<string, string> Sha256 { get; } = new Dictionary<string, string>
    {
        [TrainFile] = "1855af1b69c21491a103ae414a1ffe5103c633aa5ad920abde2115aac9f55322",
        [TestFile] = "e7b3cf0bc83bfa449abeacaef3083e3573f89b4fc2a36111fe59b18ff68e9e33",
    };

    /// <summary>
    /// Loads the corpus from the cache (fetching it with <see cref="DataFetcher"/> when a file is missing):
    /// both files are checked against their pinned SHA-256, parsed as ARFF, and turned into sequences.
    /// </summary>
    /// <param name="cacheDir">The data cache root (the files are in its <c>reuters/</c> folder); null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="maxSequenceLength">The longest sequence in characters, ≥ 1.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>Train and test sequences with their statistics.</returns>
    /// <exception cref="DataFetchException">The files are missing and cannot be fetched, or do not match their checksums.</exception>
    /// <exception cref="ArffFormatException">A file with the right checksum cannot be parsed (a bug, not bad data).</exception>
    public static TextCorpus Load(string? cacheDir = null, bool fetchIfMissing = true, int maxSequenceLength = TextProcessing.DefaultMaxSequenceLength, Action<string>? log = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequenceLength, 1);
        var (folder, fetched) = DataFetcher.Ensure(Id, Source, cacheDir, [.. Sha256.Keys], fetchIfMissing, log);
        var train = ReadVerified(Path.Combine(folder, TrainFile), fetched);
        var test = ReadVerified(Path.Combine(folder, TestFile), fetched);
        return new TextCorpus(
            Name,
            Source,
            maxSequenceLength,
            TextCorpus.BuildSplit(train, Sentences, maxSequenceLength),
            TextCorpus.BuildSplit(test, Sentences, maxSequenceLength));
    }

    /// <summary>The document texts of a WEKA Reuters ARFF file (the <c>Text</c> attribute of every row, unescaped, not cleaned).</summary>
    /// <param name="arff">The parsed file.</param>
    /// <param name="sourceName">The file name for error messages.</param>
    /// <returns>One text per row, in file order.</returns>
    /// <exception cref="ArffFormatException">The file has no string attribute <c>Text</c> or a row misses it.</exception>
    public static IReadOnlyList<string> Documents(ArffFile arff, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(arff);
        var index = arff.Attributes.ToList().FindIndex(a => string.Equals(a.Name, TextAttribute, StringComparison.OrdinalIgnoreCase));
        if (index < 0 || arff.Attributes[index].Kind != ArffColumnKind.Text)
        {
            throw new ArffFormatException(sourceName, 1, $"no string attribute '{TextAttribute}' (not a WEKA Reuters file)");
        }

        return [.. arff.Rows.Select(r => r.Values[index] ?? throw new ArffFormatException(sourceName, r.LineNumber, "the document text is missing ('?')"))];
    }

    /// <summary>
    /// Removes the SGML leftovers of Reuters-21578: character entities are decoded (<c>&amp;lt;</c> → &lt;,
    /// <c>&amp;amp;</c> → &amp;, <c>&amp;#N;</c> → character N); control characters — the <c>&amp;#2;</c> start and
    /// <c>&amp;#3;</c> end markers and the stray <c>&amp;#127;</c> (DEL) — become spaces; the closing "Reuter" signature is
    /// removed. Case and line layout are kept.
    /// </summary>
    /// <param name="document">A raw document text.</param>
    /// <returns>The cleaned text.</returns>
    public static string Clean(string document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var decoded = Entity().Replace(document, m => m.Groups[1].Value switch
        {
            "lt" => "<",
            "gt" => ">",
            "amp" => "&",
            "quot" => "\"",
            "apos" => "'",
            var numeric when int.TryParse(numeric.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code <= 0xFFFF
                => ((char)code).ToString(),
            _ => m.Value,
        });
        var text = new StringBuilder(decoded.Length);
        foreach (var c in decoded)
        {
            text.Append(char.IsControl(c) && c is not ('\n' or '\t') ? ' ' : c);
        }

        return Signature().Replace(text.ToString(), string.Empty);
    }

    /// <summary>
    /// The sentences of a document: <see cref="Clean"/>, then the headline — the leading words without lower-case
    /// letters, e.g. "BAHIA COCOA REVIEW" before "Showers continued …" — becomes a sentence of its own (when the first
    /// body word starts in lower case, the last capitalised word is given back to the body: "… DEAL IBM said" → "IBM
    /// said"), then <see cref="TextProcessing.SplitBlocks"/> and <see cref="TextProcessing.SplitSentences"/>.
    /// </summary>
    /// <param name="document">A raw document text.</param>
    /// <returns>Whitespace-normalised sentences with their original case.</returns>
    public static IReadOnlyList<string> Sentences(string document)
    {
        var blocks = TextProcessing.SplitBlocks(Clean(document));
        var sentences = new List<string>();
        for (var b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            if (b == 0)
            {
                var (headline, body) = SplitHeadline(TextProcessing.CollapseWhitespace(block));
                if (headline.Length > 0)
                {
                    sentences.Add(headline);
                }

                block = body;
            }

            sentences.AddRange(TextProcessing.SplitSentences(block));
        }

        return sentences;
    }

    private static (string Headline, string Body) SplitHeadline(string block)
    {
        var words = block.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var first = Array.FindIndex(words, w => w.Any(char.IsLower));
        if (first < 0)
        {
            return (block, string.Empty);
        }

        if (first > 0 && char.IsLower(words[first][0]))
        {
            first--;
        }

        return (string.Join(' ', words[..first]), string.Join(' ', words[first..]));
    }

    private static List<string> ReadVerified(string path, bool fetchedNow)
    {
        var bytes = File.ReadAllBytes(path);
        var expected = Sha256[Path.GetFileName(path)];
        var actual = DataFetcher.Sha256(bytes);
        if (actual != expected)
        {
            if (fetchedNow)
            {
                File.Delete(path); // never leave unverified data in the cache
            }

            throw new DataFetchException(
                $"{path}: SHA-256 {actual} does not match the pinned {expected} ({Source}). The file is corrupt or not the expected " +
                $"release: {DataFetcher.RefetchHint(Id)}.");
        }

        return [.. Documents(ArffReader.Parse(bytes, path), path)];
    }

    [GeneratedRegex(@"&(lt|gt|amp|quot|apos|#[0-9]{1,5});")]
    private static partial Regex Entity();

    [GeneratedRegex(@"\s*\breuter\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Signature();
}
