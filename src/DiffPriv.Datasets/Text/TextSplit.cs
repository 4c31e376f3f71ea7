namespace DiffPriv.Datasets.Text;

/// <summary>One split (train or test) of a text corpus: its training sequences and their statistics.</summary>
/// <param name="Sequences">Lower-cased, whitespace-normalised sequences of at most the sequence limit, in document order; each is one privacy unit.</param>
/// <param name="Statistics">Counts for the report (computed with <see cref="CharVocabulary.Default"/>).</param>
public sealed record TextSplit(IReadOnlyList<string> Sequences, CorpusStatistics Statistics);
