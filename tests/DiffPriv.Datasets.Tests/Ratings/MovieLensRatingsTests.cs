using System.Globalization;
using System.Text;
using DiffPriv.Datasets.Ratings;
using DiffPriv.Datasets.Tests.RData;
using DiffPriv.Datasets.Tests.Text;

namespace DiffPriv.Datasets.Tests.Ratings;

public sealed class MovieLensRatingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-movielens-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MissingFilesWithoutFetchingSayHowToGetThem()
    {
        var e = Assert.Throws<DataFetchException>(() => MovieLensRatings.Load(_dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch movielens", e.Message, StringComparison.Ordinal);
        Assert.Contains("r-cran-dslabs", e.Message, StringComparison.Ordinal);
        Assert.Contains("movielens", DataFetcher.Ids);
    }

    [Fact]
    public void FilesThatFailTheManifestDigestAreRejectedWithHowToFetchThemAgain()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, MovieLensRatings.Id)).FullName;
        File.WriteAllBytes(Path.Combine(folder, MovieLensRatings.DatabaseFile), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(folder, MovieLensRatings.IndexFile), [4, 5]);
        var e = Assert.Throws<DataFetchException>(() => MovieLensRatings.Load(_dir, fetchIfMissing: false));
        Assert.Contains($"does not match the pinned {MovieLensRatings.ManifestSha256}", e.Message, StringComparison.Ordinal);
        Assert.Contains("diffpriv fetch movielens", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADatabaseWithoutTheRatingsSaysWhichObjectIsMissing()
    {
        // The help index of r-cran-janeaustenr is a data frame, but no 'movielens'.
        var database = Path.Combine(_dir, "Rdata.rdb");
        var record = RDataFixtures.Lzma2Record();
        File.WriteAllBytes(database, record);
        var index = Path.Combine(_dir, "Rdata.rdx");
        File.WriteAllBytes(index, RDataFixtures.LazyLoadIndex(["Rd"], [(0, record.Length)], compression: 3));
        var e = Assert.Throws<DataFormatException>(() => MovieLensRatings.Read(database, index));
        Assert.Contains("no object 'movielens'", e.Message, StringComparison.Ordinal);
    }

    // Golden values: R 4.2.2 on the same Rdata.rdb (e <- new.env(); lazyLoad(".../dslabs/data/Rdata", envir = e);
    // m <- e$movielens): dim(m), length(unique(m$userId)), length(unique(m$movieId)), sum(m$rating), table(m$userId)'s
    // median, max (user 547) and min, the first and last rows, and sha256sum of the file R wrote with
    // writeBin(charToRaw(paste0(m$userId, "\t", m$movieId, "\t", format(m$rating, nsmall = 1, trim = TRUE), "\t", m$timestamp, "\n", collapse = ""))).
    [CorpusFact(MovieLensRatings.Id)]
    public void TheRealRatingsMatchTheCountsAndValuesRReads()
    {
        var ratings = MovieLensRatings.Load(fetchIfMissing: false);
        Assert.Equal(100_004, ratings.Count);
        Assert.Equal(671, ratings.Select(r => r.UserId).Distinct().Count());
        Assert.Equal(9_066, ratings.Select(r => r.MovieId).Distinct().Count());
        Assert.Equal(354_375.0, ratings.Sum(r => r.Rating));
        var perUser = ratings.CountBy(r => r.UserId).ToDictionary();
        Assert.Equal(2_391, perUser.Values.Max());
        Assert.Equal(2_391, perUser[547]);
        Assert.Equal(20, perUser.Values.Min());
        Assert.Equal(71, perUser.Values.Order().ElementAt(335)); // the median of 671
        Assert.Equal(new MovieRating(1, 31, 2.5, 1_260_759_144), ratings[0]);
        Assert.Equal(new MovieRating(671, 6565, 3.5, 1_074_784_724), ratings[^1]);
        var text = string.Concat(ratings.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.UserId}\t{r.MovieId}\t{r.Rating:F1}\t{r.Timestamp}\n")));
        Assert.Equal("f84be2bbf3a3d12eda00f2e4a537bfe6e681f9d87973681180a18f27d56718a7", DataFetcher.Sha256(Encoding.UTF8.GetBytes(text)));
    }
}
