namespace DiffPriv.Datasets.Tabular;

/// <summary>
/// The German credit data (Hofmann, UCI Machine Learning Repository, 1994) as WEKA ships it: <c>credit-g.arff</c>, 1 000
/// loan applicants (700 <c>good</c>, 300 <c>bad</c> in the attribute <c>class</c>), 7 numeric and 13 nominal attributes, no
/// missing values. From the Debian package <c>weka</c> 3.6.14 (<c>apt-get download</c> + <c>dpkg-deb -x</c>, no Java), checked
/// against <see cref="Sha256"/>; fetched into the data cache, never committed. A small real table for
/// <c>diffpriv train csv</c>: <c>diffpriv train csv --data …/credit-g/credit-g.arff --target class</c>.
/// </summary>
public static class GermanCredit
{
    /// <summary>The <c>diffpriv fetch</c> argument and cache folder name.</summary>
    public const string Id = "credit-g";

    /// <summary>Where the file comes from.</summary>
    public const string Source = "Debian package weka 3.6.14 (apt-get download + dpkg-deb -x; /usr/share/doc/weka/examples/)";

    /// <summary>The file in the cache folder.</summary>
    public const string FileName = "credit-g.arff";

    /// <summary>The lower-case hex SHA-256 of <see cref="FileName"/> (weka 3.6.14-3).</summary>
    public const string Sha256 = "bd94085134e4eb845c96b34c93ed65a223f89d089bacb273ef96f57509ce0bed";

    /// <summary>The attribute holding the class.</summary>
    public const string TargetColumn = "class";

    /// <summary>
    /// The path of the verified file in the cache, fetching it with <see cref="DataFetcher"/> when it is missing.
    /// </summary>
    /// <param name="cacheDir">The data cache root; null: <see cref="DataCache.Root"/>.</param>
    /// <param name="fetchIfMissing">Fetch a missing file; false: fail with <see cref="DataFetchException"/> instead.</param>
    /// <param name="log">Progress messages; may be null.</param>
    /// <returns>The full path of <see cref="FileName"/>.</returns>
    /// <exception cref="DataFetchException">The file is missing and cannot be fetched, or does not match <see cref="Sha256"/>.</exception>
    public static string Ensure(string? cacheDir = null, bool fetchIfMissing = true, Action<string>? log = null)
    {
        var (folder, fetched) = DataFetcher.Ensure(Id, Source, cacheDir, [FileName], fetchIfMissing, log);
        var manifest = DataFetcher.Sha256(System.Text.Encoding.ASCII.GetBytes($"{Sha256}  {FileName}\n"));
        return DataFetcher.ReadVerified(Id, Source, folder, [FileName], manifest, fetched, $"sha256sum {FileName} | sha256sum")[0].Path;
    }
}
