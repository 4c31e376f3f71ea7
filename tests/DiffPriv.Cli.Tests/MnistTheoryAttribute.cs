namespace DiffPriv.Cli.Tests;

/// <summary>A theory that needs the real MNIST files: skipped, with the reason, when they cannot be fetched here.</summary>
public sealed class MnistTheoryAttribute : TheoryAttribute
{
    public MnistTheoryAttribute()
    {
        if (MnistFactAttribute.Unavailable.Value is { } reason)
        {
            Skip = $"MNIST cannot be fetched on this machine ({reason}); the data-independent train tests still run.";
        }
    }
}
