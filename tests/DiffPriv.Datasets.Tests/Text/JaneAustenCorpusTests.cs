using DiffPriv.Datasets.Text;

namespace DiffPriv.Datasets.Tests.Text;

public sealed class JaneAustenCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-austen-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheNovelsAreListedInPublicationOrder()
    {
        Assert.Equal(
            ["Sense & Sensibility", "Pride & Prejudice", "Mansfield Park", "Emma", "Northanger Abbey", "Persuasion"],
            JaneAustenCorpus.Novels.Select(n => n.Value));
        Assert.Equal("a\n\nb", new JaneAustenNovel("T", "t", ["a", string.Empty, "b"]).Text);
    }

    [Fact]
    public void MissingFilesWithoutFetchingSayHowToGetThem()
    {
        var e = Assert.Throws<DataFetchException>(() => JaneAustenCorpus.Load(_dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch austen", e.Message, StringComparison.Ordinal);
        Assert.Contains("r-cran-janeaustenr", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CorruptFilesAreRejectedWithHowToFetchThemAgainAndKept()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, JaneAustenCorpus.Id)).FullName;
        var database = Path.Combine(folder, JaneAustenCorpus.DatabaseFile);
        File.WriteAllBytes(database, [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(folder, JaneAustenCorpus.IndexFile), [0x1F, 0x8B, 8, 0, 0, 0]);
        var e = Assert.Throws<DataFetchException>(() => JaneAustenCorpus.Load(_dir, fetchIfMissing: false));
        Assert.Contains("the gzip data are corrupt or truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("diffpriv fetch austen", e.Message, StringComparison.Ordinal);
        Assert.IsType<DataFormatException>(e.InnerException);
        Assert.True(File.Exists(database)); // not fetched now: kept
    }

    // Golden values: line and character counts per novel and the text digest were computed independently by a Python
    // decoder of the same Rdata.rdb (zlib records, XDR strings); the opening line is the Project Gutenberg text's.
    [CorpusFact(JaneAustenCorpus.Id)]
    public void TheRealNovelsMatchTheirDigestAndMeasuredSizes()
    {
        var novels = JaneAustenCorpus.Load(fetchIfMissing: false);
        Assert.Equal(
            [
                ("sensesensibility", 12_624, 661_064L), ("prideprejudice", 13_030, 671_738L), ("mansfieldpark", 15_349, 867_930L),
                ("emma", 16_235, 866_793L), ("northangerabbey", 7_856, 425_555L), ("persuasion", 8_328, 458_526L),
            ],
            novels.Select(n => (n.ObjectName, n.Lines.Count, n.Lines.Sum(l => (long)l.Length))));
        Assert.Equal(73_422, novels.Sum(n => n.Lines.Count));
        Assert.Equal(3_951_606, novels.Sum(n => n.Lines.Sum(l => (long)l.Length)));
        Assert.Equal(4_025_022, novels.Sum(n => (long)n.Text.Length));
        Assert.Equal("f2516f2139e3cecf49657122fed58ac46313f1fdff32a26fc66789293e92d573", JaneAustenCorpus.TextDigest(novels));
        Assert.Equal("It is a truth universally acknowledged, that a single man in possession", novels[1].Lines[9]);
    }
}
