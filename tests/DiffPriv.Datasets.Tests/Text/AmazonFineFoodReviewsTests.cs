using System.Text;
using DiffPriv.Datasets.Tabular;
using DiffPriv.Datasets.Tests.RData;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Datasets.Tests.Text;

public sealed class AmazonFineFoodReviewsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-amazon-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>SHA-256 of the UTF-8 text "review\tlabel\n" over the reviews in order, as R computed it (see below).</summary>
    private static string Digest(IEnumerable<AmazonFineFoodReview> reviews) =>
        DataFetcher.Sha256(Encoding.UTF8.GetBytes(string.Concat(reviews.Select(r => $"{r.Text}\t{r.Label}\n"))));

    [Fact]
    public void MissingFilesWithoutFetchingSayHowToGetThem()
    {
        var e = Assert.Throws<DataFetchException>(() => AmazonFineFoodReviews.Load(_dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch amazon-reviews", e.Message, StringComparison.Ordinal);
        Assert.Contains("r-cran-modeldata", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FilesThatFailTheManifestDigestAreRejectedWithHowToFetchThemAgainAndKept()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, AmazonFineFoodReviews.Id)).FullName;
        var database = Path.Combine(folder, AmazonFineFoodReviews.DatabaseFile);
        File.WriteAllBytes(database, [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(folder, AmazonFineFoodReviews.IndexFile), [0x1F, 0x8B, 8, 0, 0, 0]);
        var e = Assert.Throws<DataFetchException>(() => AmazonFineFoodReviews.Load(_dir, fetchIfMissing: false));
        Assert.Contains($"does not match the pinned {AmazonFineFoodReviews.ManifestSha256}", e.Message, StringComparison.Ordinal);
        Assert.Contains("sha256sum Rdata.rdb Rdata.rdx | sha256sum", e.Message, StringComparison.Ordinal);
        Assert.Contains("diffpriv fetch amazon-reviews", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(database)); // not fetched now: kept
        Assert.Throws<DataFetchException>(() => AmazonFineFoodReviews.ExportCsv(Path.Combine(_dir, "csv"), _dir, fetchIfMissing: false));
        Assert.False(Directory.Exists(Path.Combine(_dir, "csv"))); // nothing is written before the data verify
    }

    [Fact]
    public void ADatabaseWithoutTheReviewsSaysWhichObjectIsMissing()
    {
        // The help index of r-cran-janeaustenr is a data frame, but no 'training_data'.
        var database = Path.Combine(_dir, "Rdata.rdb");
        var record = RDataFixtures.Lzma2Record();
        File.WriteAllBytes(database, record);
        var index = Path.Combine(_dir, "Rdata.rdx");
        File.WriteAllBytes(index, RDataFixtures.LazyLoadIndex(["Rd"], [(0, record.Length)], compression: 3));
        var e = Assert.Throws<DataFormatException>(() => AmazonFineFoodReviews.Read(database, index));
        Assert.Contains("no object 'training_data'", e.Message, StringComparison.Ordinal);
    }

    // Golden values: R 4.2.2 on the same Rdata.rdb (lazyLoad(".../modeldata/data/Rdata")): dim(), table(score),
    // sum(nchar(review)) (every review is in the Basic Multilingual Plane, so code points = UTF-16 units), the first rows,
    // sum(testing_data$review %in% training_data$review), and sha256sum of the file R wrote with
    // writeBin(charToRaw(paste0(paste0(enc2utf8(review), "\t", as.character(score), "\n"), collapse = ""))).
    [CorpusFact(AmazonFineFoodReviews.Id)]
    public void TheRealReviewsMatchTheCountsLabelsAndTextsRReads()
    {
        var data = AmazonFineFoodReviews.Load(fetchIfMissing: false);
        Assert.Equal(4_000, data.Train.Count);
        Assert.Equal(1_000, data.Test.Count);
        Assert.Equal(["great", "other"], AmazonFineFoodReviews.Labels);
        Assert.Equal([("great", 2_600), ("other", 1_400)], data.Train.CountBy(r => r.Label).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)));
        Assert.Equal([("great", 658), ("other", 342)], data.Test.CountBy(r => r.Label).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)));
        Assert.Equal(1_587_412, data.Train.Sum(r => (long)r.Text.Length));
        Assert.Equal(408_306, data.Test.Sum(r => (long)r.Text.Length));

        Assert.Equal(new AmazonFineFoodReview("this stuff is  not stuffing  its  not good at all  save your money", "other"), data.Train[0]);
        Assert.StartsWith("I absolutely LOVE this dried fruit.  LOVE IT.", data.Train[1].Text, StringComparison.Ordinal);
        Assert.StartsWith("These are the best tasting gummy fruits I have ever eaten.", data.Test[0].Text, StringComparison.Ordinal);
        Assert.Equal("great", data.Test[0].Label);
        Assert.StartsWith("This oatmeal is great. It is a lot more flavorful than typic", data.Test[^1].Text, StringComparison.Ordinal);
        Assert.Equal(7, data.TestAlsoInTrain);

        Assert.Equal("69f6208ccc6eb35ce312f14da942f5a7db1029143d0b24b265823b83d68a0f86", Digest(data.Train));
        Assert.Equal("c3ce2a18a8020e802184adfa8db48c36e04e4625e4dce89aebd2b2ec6ec232e0", Digest(data.Test));
    }

    [CorpusFact(AmazonFineFoodReviews.Id)]
    public void TheCsvExportReadsBackThroughCsvReaderWithTheSameTextsAndLabels()
    {
        var data = AmazonFineFoodReviews.Load(fetchIfMissing: false);
        var paths = AmazonFineFoodReviews.ExportCsv(Path.Combine(_dir, "out"), fetchIfMissing: false);
        Assert.Equal(
            [Path.Combine(_dir, "out", AmazonFineFoodReviews.TrainCsvFile), Path.Combine(_dir, "out", AmazonFineFoodReviews.TestCsvFile)], paths);
        Assert.Equal(["amazon-reviews-train.csv", "amazon-reviews-test.csv"], paths.Select(Path.GetFileName));
        foreach (var (path, reviews) in paths.Zip([data.Train, data.Test]))
        {
            Assert.StartsWith("text,label\r\n", File.ReadAllText(path), StringComparison.Ordinal);
            var table = CsvReader.Read(path);
            Assert.Equal(["text", "label"], table.Header);
            Assert.Equal(reviews, table.TextRecords("text", "label").Select(r => new AmazonFineFoodReview(r.Text, r.Target)));
        }

        // Reviews with commas and quotes are the ones RFC 4180 quoting is for: the round trip above covers both.
        Assert.Contains(data.Train, r => r.Text.Contains('"', StringComparison.Ordinal));
        Assert.Contains(data.Train, r => r.Text.Contains(',', StringComparison.Ordinal));
    }
}
