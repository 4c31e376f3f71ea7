namespace DiffPriv.Cli.Tests;

public sealed class FetchCommandTests
{
    [Fact]
    public void UnknownDataSetExitsTwoAndNamesTheChoices()
    {
        var (code, stdout, stderr) = CliRunner.Run("fetch", "cifar-10");
        Assert.Equal(CliApp.ExitUsage, code);
        Assert.Equal("", stdout);
        Assert.Contains("mnist, fashion-mnist, reuters, brown, imdb, sotu, austen", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingDataSetArgumentExitsTwo()
    {
        var (code, _, stderr) = CliRunner.Run("fetch");
        Assert.Equal(CliApp.ExitUsage, code);
        Assert.StartsWith("error:", stderr, StringComparison.Ordinal);
    }
}
