using DiffPriv.Datasets;

namespace DiffPriv.Cli.Tests;

/// <summary>A test that needs the real Fashion-MNIST files: skipped, with the reason, when they cannot be fetched here.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (DatasetAvailability.Unavailable(DatasetName.FashionMnist) is { } reason)
        {
            Skip = $"Fashion-MNIST cannot be fetched on this machine ({reason}).";
        }
    }
}
