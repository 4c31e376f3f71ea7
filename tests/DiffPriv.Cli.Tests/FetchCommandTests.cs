using DiffPriv.Datasets;
using DiffPriv.Datasets.Tabular;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Cli.Tests;

/// <summary>A fact that needs the Amazon fine-food reviews: skipped, with the reason, when they cannot be fetched here.</summary>
public sealed class AmazonReviewsFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            AmazonFineFoodReviews.Load();
            return null;
        }
        catch (DataFetchException e)
        {
            return e.Message;
        }
    });

    public AmazonReviewsFactAttribute()
    {
        if (Unavailable.Value is { } reason)
        {
            Skip = $"The Amazon fine-food reviews cannot be fetched on this machine ({reason}); the fetch command's input checks still run.";
        }
    }
}

public sealed class FetchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-fetch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void UnknownDataSetExitsTwoAndNamesTheChoices()
    {
        var (code, stdout, stderr) = CliRunner.Run("fetch", "cifar-10");
        Assert.Equal(CliApp.ExitUsage, code);
        Assert.Equal("", stdout);
        Assert.Contains("mnist, fashion-mnist, reuters, brown, imdb, sotu, austen, amazon-reviews", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingDataSetArgumentExitsTwo()
    {
        var (code, _, stderr) = CliRunner.Run("fetch");
        Assert.Equal(CliApp.ExitUsage, code);
        Assert.StartsWith("error:", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mnist", "out", "error: --csv is only for amazon-reviews and credit-data (got 'mnist')")]
    [InlineData("amazon-reviews", " ", "error: --csv needs a folder")]
    public void CsvOutsideItsUseExitsTwoBeforeFetchingAndNamesTheOption(string dataset, string folder, string error)
    {
        var (code, stdout, stderr) = CliRunner.Run("fetch", dataset, "--cache", _dir, "--csv", folder);
        Assert.Equal(CliApp.ExitUsage, code);
        Assert.Equal("", stdout);
        Assert.Equal(error, stderr.TrimEnd());
        Assert.Empty(Directory.GetFileSystemEntries(_dir)); // nothing was fetched
    }

    [AmazonReviewsFact]
    public void CsvWritesTheTwoSplitsAsTextLabelTablesAndPrintsTheirPaths()
    {
        var cache = Path.Combine(_dir, "cache");
        var csv = Path.Combine(_dir, "csv");
        var (code, stdout, stderr) = CliRunner.Run("fetch", "amazon-reviews", "--cache", cache, "--csv", csv);
        Assert.True(code == CliApp.ExitOk, stderr);
        var train = Path.Combine(csv, AmazonFineFoodReviews.TrainCsvFile);
        var test = Path.Combine(csv, AmazonFineFoodReviews.TestCsvFile);
        Assert.Equal([Path.Combine(cache, AmazonFineFoodReviews.Id), train, test], stdout.TrimEnd().Split(Environment.NewLine));
        Assert.Contains($"wrote 4000 reviews to {train}", stderr, StringComparison.Ordinal);

        var expected = AmazonFineFoodReviews.Load(cache, fetchIfMissing: false);
        foreach (var (path, reviews) in new[] { (train, expected.Train), (test, expected.Test) })
        {
            var records = CsvReader.Read(path).TextRecords("text", "label");
            Assert.Equal(reviews.Count, records.Count);
            Assert.Equal(reviews.Select(r => (r.Text, r.Label)), records.Select(r => (r.Text, r.Target)));
        }
    }
}

/// <summary>A fact that needs the two credit tables: skipped, with the reason, when they cannot be fetched here.</summary>
public sealed class CreditTablesFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            GermanCredit.Ensure();
            DataFetcher.Fetch(CreditData.Id);
            return null;
        }
        catch (DataFetchException e)
        {
            return e.Message;
        }
    });

    public CreditTablesFactAttribute()
    {
        if (Unavailable.Value is { } reason)
        {
            Skip = $"The credit tables cannot be fetched on this machine ({reason}); the fetch command's input checks still run.";
        }
    }
}

public sealed class FetchCreditTablesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-fetch-credit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [CreditTablesFact]
    public void CreditGPrintsTheVerifiedArffAndCreditDataWritesItsCsv()
    {
        var cache = Path.Combine(_dir, "cache");
        var (code, stdout, stderr) = CliRunner.Run("fetch", "credit-g", "--cache", cache);
        Assert.True(code == CliApp.ExitOk, stderr);
        Assert.Equal([Path.Combine(cache, GermanCredit.Id), Path.Combine(cache, GermanCredit.Id, GermanCredit.FileName)], stdout.TrimEnd().Split(Environment.NewLine));

        var csv = Path.Combine(_dir, "csv");
        (code, stdout, stderr) = CliRunner.Run("fetch", "credit-data", "--cache", cache, "--csv", csv);
        Assert.True(code == CliApp.ExitOk, stderr);
        var path = Path.Combine(csv, CreditData.CsvFile);
        Assert.Equal([Path.Combine(cache, CreditData.Id), path], stdout.TrimEnd().Split(Environment.NewLine));
        Assert.Equal(4_454, CsvReader.Read(path).Records.Count);
    }
}
