namespace DiffPriv.Cli.Tests;

/// <summary>A fact that pretrains a tiny model on a slice of the Brown corpus: skipped, with the reason, when the corpus cannot be had here.</summary>
public sealed class BrownFactAttribute : FactAttribute
{
    public BrownFactAttribute()
    {
        if (DatasetAvailability.BrownUnavailable is { } reason)
        {
            Skip = $"The Brown corpus cannot be fetched on this machine ({reason}); the train text tests that need no model still run.";
        }
    }
}
