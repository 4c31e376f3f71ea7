namespace DiffPriv.Datasets.Text;

/// <summary>
/// Counts that describe one split of a text corpus, for reports. They are computed from the (private) training text
/// and are NOT differentially private: publish them as a description of the data set, never as a model output.
/// </summary>
/// <param name="Documents">Documents read (including empty and repeated ones).</param>
/// <param name="EmptyDocuments">Documents that gave no sentence at all.</param>
/// <param name="DuplicateDocuments">Documents whose text equals an earlier document of the same split (kept, not removed).</param>
/// <param name="Sentences">Sentences after splitting (see <see cref="TextProcessing.Sentences"/>).</param>
/// <param name="CutSentences">Sentences longer than the sequence limit, cut into two or more sequences.</param>
/// <param name="Sequences">Training sequences (the privacy units).</param>
/// <param name="DuplicateSequences">Sequences equal to an earlier sequence of the same split (kept, not removed).</param>
/// <param name="Characters">Characters in all sequences (without start, end or padding tokens).</param>
/// <param name="UnknownCharacters">Characters outside the vocabulary the statistics were computed with.</param>
/// <param name="LongestSequence">Length of the longest sequence, in characters.</param>
/// <param name="CharacterCounts">How often each character occurs in the sequences.</param>
public sealed record CorpusStatistics(
    int Documents,
    int EmptyDocuments,
    int DuplicateDocuments,
    int Sentences,
    int CutSentences,
    int Sequences,
    int DuplicateSequences,
    long Characters,
    long UnknownCharacters,
    int LongestSequence,
    IReadOnlyDictionary<char, long> CharacterCounts)
{
    /// <summary>Share of characters outside the vocabulary, in [0, 1] (0 for an empty split).</summary>
    public double UnknownRate => Characters == 0 ? 0 : (double)UnknownCharacters / Characters;

    /// <summary>The <paramref name="count"/> most frequent characters with their counts, most frequent first (ties by code point).</summary>
    /// <param name="count">How many, ≥ 0.</param>
    /// <returns>Character and count pairs.</returns>
    public IReadOnlyList<KeyValuePair<char, long>> MostCommon(int count) =>
        [.. CharacterCounts.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(count)];

    /// <summary>Computes the statistics of one split.</summary>
    /// <param name="documents">Per document, its sentences (whitespace-normalised, before cutting).</param>
    /// <param name="documentTexts">The documents' texts, to count repeats (same order as <paramref name="documents"/>).</param>
    /// <param name="sequences">The split's sequences.</param>
    /// <param name="maxLength">The sequence limit the sentences were cut with.</param>
    /// <param name="vocabulary">The vocabulary for <see cref="UnknownCharacters"/>.</param>
    /// <returns>The counts.</returns>
    public static CorpusStatistics Compute(
        IReadOnlyList<IReadOnlyList<string>> documents,
        IReadOnlyList<string> documentTexts,
        IReadOnlyList<string> sequences,
        int maxLength,
        CharVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(documentTexts);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var counts = new Dictionary<char, long>();
        long characters = 0, unknown = 0;
        foreach (var sequence in sequences)
        {
            characters += sequence.Length;
            foreach (var c in sequence)
            {
                counts[c] = counts.GetValueOrDefault(c) + 1;
                if (!vocabulary.Contains(c))
                {
                    unknown++;
                }
            }
        }

        return new CorpusStatistics(
            documents.Count,
            documents.Count(d => d.Count == 0),
            documentTexts.Count - documentTexts.Distinct(StringComparer.Ordinal).Count(),
            documents.Sum(d => d.Count),
            documents.Sum(d => d.Count(s => s.Length > maxLength)),
            sequences.Count,
            sequences.Count - sequences.Distinct(StringComparer.Ordinal).Count(),
            characters,
            unknown,
            sequences.Count == 0 ? 0 : sequences.Max(s => s.Length),
            counts);
    }
}

/// <summary>One split (train or test) of a text corpus: its training sequences and their statistics.</summary>
/// <param name="Sequences">Lower-cased, whitespace-normalised sequences of at most the sequence limit, in document order; each is one privacy unit.</param>
/// <param name="Statistics">Counts for the report (computed with <see cref="CharVocabulary.Default"/>).</param>
public sealed record TextSplit(IReadOnlyList<string> Sequences, CorpusStatistics Statistics);

/// <summary>A text corpus for a character-level language model, with its shipped train/test split.</summary>
/// <param name="Name">Its name (e.g. "Reuters-21578 (ModApte, weka ReutersCorn subset)").</param>
/// <param name="Source">Where it was fetched from.</param>
/// <param name="MaxSequenceLength">The sequence limit in characters.</param>
/// <param name="Train">The training split.</param>
/// <param name="Test">The test split.</param>
public sealed record TextCorpus(string Name, string Source, int MaxSequenceLength, TextSplit Train, TextSplit Test)
{
    /// <summary>Number of test sequences whose text also occurs among the training sequences (boilerplate lines such as table headers).</summary>
    public int TestSequencesAlsoInTrain
    {
        get
        {
            var train = Train.Sequences.ToHashSet(StringComparer.Ordinal);
            return Test.Sequences.Count(train.Contains);
        }
    }

    /// <summary>Builds a split from documents: sentences per document, then sequences, then statistics.</summary>
    /// <param name="documents">The document texts.</param>
    /// <param name="sentences">Splits one document into whitespace-normalised sentences (original case).</param>
    /// <param name="maxLength">The sequence limit.</param>
    /// <returns>The split.</returns>
    internal static TextSplit BuildSplit(IReadOnlyList<string> documents, Func<string, IReadOnlyList<string>> sentences, int maxLength)
    {
        var perDocument = documents.Select(sentences).ToList();
        var sequences = TextProcessing.ToSequences(perDocument.SelectMany(s => s), maxLength);
        var normalized = perDocument.Select(d => (IReadOnlyList<string>)[.. d.Select(TextProcessing.Normalize)]).ToList();
        return new TextSplit(sequences, CorpusStatistics.Compute(normalized, documents, sequences, maxLength, CharVocabulary.Default));
    }
}
