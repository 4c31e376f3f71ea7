using DiffPriv.Datasets;

namespace DiffPriv.Cli.Tests;

/// <summary>A test that needs the real Fashion-MNIST files: skipped, with the reason, when they cannot be fetched here.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            ImageDatasets.EnsureAvailable(DatasetName.FashionMnist);
            return null;
        }
        catch (DataFetchException e)
        {
            return e.Message;
        }
    });

    public FashionMnistFactAttribute()
    {
        if (Unavailable.Value is { } reason)
        {
            Skip = $"Fashion-MNIST cannot be fetched on this machine ({reason}).";
        }
    }
}
