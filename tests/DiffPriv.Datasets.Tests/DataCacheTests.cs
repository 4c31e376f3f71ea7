namespace DiffPriv.Datasets.Tests;

public class DataCacheTests
{
    // Stand-in folders under the temporary folder: the rule only joins paths, it never touches them.
    private static readonly string Base = Path.Combine(Path.GetTempPath(), "diffpriv-cache-test");
    private static readonly string Data = Path.Combine(Base, "data");
    private static readonly string Xdg = Path.Combine(Base, "xdg");
    private static readonly string Home = Path.Combine(Base, "home");

    [Fact]
    public void DiffprivDataWinsOverEverything() =>
        Assert.Equal(Data, DataCache.Resolve(Data, Xdg, null, Home));

    [Fact]
    public void XdgCacheHomeComesNext() =>
        Assert.Equal(Path.Combine(Xdg, "diffpriv"), DataCache.Resolve(null, Xdg, null, Home));

    [Fact]
    public void RelativeXdgCacheHomeIsIgnoredAsTheSpecificationSays() =>
        Assert.Equal(Path.Combine(Home, ".cache", "diffpriv"), DataCache.Resolve("  ", Path.Combine("relative", "xdg"), null, Home));

    [Fact]
    public void HomeCacheIsTheDefault() =>
        Assert.Equal(Path.Combine(Home, ".cache", "diffpriv"), DataCache.Resolve(null, null, null, Home));

    [Fact]
    public void NoHomeAndNoVariableIsAClearError()
    {
        var e = Assert.Throws<DataFetchException>(() => DataCache.Resolve(null, "", null, ""));
        Assert.Contains(DataCache.EnvironmentVariable, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRootIsNeverInsideTheSourceCheckout()
    {
        // The default location depends on the user, never on where the library was built.
        var root = DataCache.Root();
        Assert.True(Path.IsPathFullyQualified(root));
        Assert.DoesNotContain($"{Path.DirectorySeparatorChar}.cache{Path.DirectorySeparatorChar}data", root, StringComparison.Ordinal);
    }

    [Fact]
    public void FetchingAnUnknownDataSetNamesTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => DataFetcher.Fetch("cifar-10", Path.GetTempPath()));
        Assert.Contains("mnist, fashion-mnist, reuters, brown, imdb, sotu, austen, amazon-reviews", e.Message, StringComparison.Ordinal);
    }
}
