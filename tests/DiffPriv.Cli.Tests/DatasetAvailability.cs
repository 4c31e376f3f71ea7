using System.Collections.Concurrent;
using DiffPriv.Datasets;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Cli.Tests;

/// <summary>Whether an image data set can be had on this machine, asked once per data set and test run.</summary>
internal static class DatasetAvailability
{
    private static readonly ConcurrentDictionary<DatasetName, Lazy<string?>> Answers = new();

    /// <summary>Null when the data set is in the cache or could be fetched; otherwise why not.</summary>
    public static string? Unavailable(DatasetName name) => Answers.GetOrAdd(name, n => new Lazy<string?>(() =>
    {
        try
        {
            ImageDatasets.EnsureAvailable(n);
            return null;
        }
        catch (DataFetchException e)
        {
            return e.Message;
        }
    })).Value;

    private static readonly Lazy<string?> BrownAnswer = new(() =>
    {
        try
        {
            _ = BrownCorpus.LoadAllGenres();
            return null;
        }
        catch (DataFetchException e)
        {
            return e.Message;
        }
    });

    /// <summary>Null when the Brown corpus (the public text of the small pretrained models) is in the cache or could be fetched; otherwise why not.</summary>
    public static string? BrownUnavailable => BrownAnswer.Value;
}
