namespace DiffPriv.Datasets.Tests;

public class DataCacheTests
{
    [Fact]
    public void DiffprivDataWinsOverEverything() =>
        Assert.Equal(Path.GetFullPath("/data/dp"), DataCache.Resolve("/data/dp", "/xdg", null, "/home/u"));

    [Fact]
    public void XdgCacheHomeComesNext() =>
        Assert.Equal(Path.Combine("/xdg", "diffpriv"), DataCache.Resolve(null, "/xdg", null, "/home/u"));

    [Fact]
    public void RelativeXdgCacheHomeIsIgnoredAsTheSpecificationSays() =>
        Assert.Equal(Path.Combine("/home/u", ".cache", "diffpriv"), DataCache.Resolve("  ", "relative/xdg", null, "/home/u"));

    [Fact]
    public void HomeCacheIsTheDefault() =>
        Assert.Equal(Path.Combine("/home/u", ".cache", "diffpriv"), DataCache.Resolve(null, null, null, "/home/u"));

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
        Assert.Contains("mnist, fashion-mnist, reuters, brown", e.Message, StringComparison.Ordinal);
    }
}
