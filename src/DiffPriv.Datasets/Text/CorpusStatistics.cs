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
