namespace DiffPriv.Datasets.Text;

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
