using DiffPriv.Datasets.RData;

namespace DiffPriv.Datasets.Tabular;

/// <summary>
/// The credit scoring data of the R package <c>modeldata</c> (<c>credit_data</c>; from the companion site of Scallan,
/// "Credit scoring", and the <c>recipes</c> package's examples): 4 454 loan applicants, the class <c>Status</c>
/// (<c>good</c> 3 200, <c>bad</c> 1 254), 9 numeric columns (<c>Seniority</c>, <c>Time</c>, <c>Age</c>, <c>Expenses</c>,
/// <c>Income</c>, <c>Assets</c>, <c>Debt</c>, <c>Amount</c>, <c>Price</c>) and 4 categorical ones (<c>Home</c>,
/// <c>Marital</c>, <c>Records</c>, <c>Job</c>), with 455 missing values (<c>Income</c> 381, <c>Assets</c> 47, <c>Debt</c> 18,
/// <c>Home</c> 6, <c>Job</c> 2, <c>Marital</c> 1). From the Debian package <c>r-cran-modeldata</c> 1.1.0 (MIT), the same
/// lazy-load database as <see cref="Text.AmazonFineFoodReviews"/>, read without R and checked against
/// <see cref="ManifestSha256"/>; <see cref="ExportCsv"/> writes it as a CSV file for <c>diffpriv train csv</c>.
/// </summary>
public static class CreditData
{
    /// <summary>The <c>diffpriv fetch</c> argument and cache folder name.</summary>
    public const string Id = "credit-data";

    /// <summary>Where the files come from.</summary>
    public const string Source = "Debian package r-cran-modeldata 1.1.0 (apt-get download + dpkg-deb -x; /usr/lib/R/site-library/modeldata/data/)";

    /// <summary>The lazy-load database in the cache folder.</summary>
    public const string DatabaseFile = "Rdata.rdb";

    /// <summary>Its index.</summary>
    public const string IndexFile = "Rdata.rdx";

    /// <summary>SHA-256 of the two files as one digest, <c>sha256sum Rdata.rdb Rdata.rdx | sha256sum</c> (the same files as
    /// <see cref="Text.AmazonFineFoodReviews.ManifestSha256"/>).</summary>
    public const string ManifestSha256 = "eea35aa9d354b2079db7342e51c1686c411b771303d2aaf4f235f3c8b03df172";

    /// <summary>The CSV file <see cref="ExportCsv"/> writes.</summary>
    public const string CsvFile = "credit-data.csv";

    /// <summary>The column holding the class.</summary>
    public const string TargetColumn = "Status";

    /// <summary>The R object.</summary>
    internal const string ObjectName = "credit_data";

    /// <summary>
    /// Loads the data frame (fetching the package's data files when one is missing, checking the digest) and writes it to
    /// <paramref name="directory"/>/<see cref="CsvFile"/>: a header of the 14 column names in R's order, one record per row in
    /// R's order, integers in decimal, factor levels as their labels, NA as an empty field; RFC 4180, <c>\r\n</c> line ends,
    /// UTF-8 without a byte-order mark.
    /// </summary>
    /// <param name="directory">The folder to write into; created if missing. A file already there is replaced.</param>
    /// <param name="cacheDir">The data cache root; null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch missing files; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The full path of the CSV file.</returns>
    /// <exception cref="DataFetchException">The files are missing and cannot be fetched, do not match the pinned digest, or cannot be decoded.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static string ExportCsv(string directory, string? cacheDir = null, bool fetchIfMissing = true, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var (folder, fetched) = DataFetcher.Ensure(Id, Source, cacheDir, [DatabaseFile, IndexFile], fetchIfMissing, log);
        var contents = DataFetcher.ReadVerified(Id, Source, folder, [DatabaseFile, IndexFile], ManifestSha256, fetched, "sha256sum Rdata.rdb Rdata.rdx | sha256sum");
        (IReadOnlyList<string> Header, List<IReadOnlyList<string>> Rows) table;
        try
        {
            table = Table(contents[0].Bytes, contents[0].Path, contents[1].Bytes, contents[1].Path);
        }
        catch (DataFormatException e)
        {
            throw new DataFetchException($"{e.Message} ({Source}): {DataFetcher.RefetchHint(Id)}.", e);
        }

        var path = Path.Combine(Directory.CreateDirectory(Path.GetFullPath(directory)).FullName, CsvFile);
        CsvWriter.Write(path, table.Header, table.Rows);
        log?.Invoke($"wrote {table.Rows.Count} records to {path}");
        return path;
    }

    /// <summary>The data frame as text fields (NA as empty), from a <c>modeldata</c> lazy-load database.</summary>
    internal static (IReadOnlyList<string> Header, List<IReadOnlyList<string>> Rows) Table(byte[] database, string databasePath, byte[] index, string indexPath)
    {
        var objects = RDataFiles.ReadLazyLoadDatabase(database, databasePath, index, indexPath, [ObjectName]);
        var frame = (objects.TryGetValue(ObjectName, out var value)
            ? value
            : throw new DataFormatException(databasePath, $"no object '{ObjectName}' (is this the r-cran-modeldata database?)")).AsDataFrame(databasePath, $"'{ObjectName}'");
        var columns = frame.ColumnNames.Select((name, c) => Text(frame.Columns[c], databasePath, name)).ToList();
        var rows = new List<IReadOnlyList<string>>(frame.RowCount);
        for (var r = 0; r < frame.RowCount; r++)
        {
            rows.Add([.. columns.Select(column => column[r])]);
        }

        return (frame.ColumnNames, rows);
    }

    private static string[] Text(RObject column, string source, string name)
    {
        if (column.Type == RType.Integer && !column.Inherits("factor"))
        {
            return [.. column.Integers.Select(v => v == int.MinValue ? "" : v.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        }

        if (column.Type == RType.Double)
        {
            // R's NA_real_ is a NaN; both NA and NaN become empty fields.
            return [.. column.Doubles.Select(v => double.IsNaN(v) ? "" : v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))];
        }

        return [.. column.AsCharacter(source, $"column '{name}'").Select(v => v ?? "")];
    }
}
