using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>A step's sample state: the running sum of clipped records. Owns its tensors. Derive from it to keep more.</summary>
public class DpQueryState : IDisposable
{
    private readonly Dictionary<string, Tensor> _sums = [];

    /// <summary>Parameter name → Σ of clipped records so far (absent until the first record arrives).</summary>
    public IReadOnlyDictionary<string, Tensor> Sums => _sums;

    /// <summary>How many records were accumulated (private: do not publish it).</summary>
    public long RecordCount { get; private set; }

    /// <summary>Adds clipped sums of <paramref name="records"/> records (copied; the arguments stay the caller's).</summary>
    /// <param name="sums">Parameter name → Σ of clipped records.</param>
    /// <param name="records">How many records they sum.</param>
    public void Add(IReadOnlyDictionary<string, Tensor> sums, long records)
    {
        ArgumentNullException.ThrowIfNull(sums);
        foreach (var (name, value) in sums)
        {
            if (_sums.TryGetValue(name, out var current))
            {
                current.add_(value);
            }
            else
            {
                var copy = value.detach().clone();
                copy.DetachFromDisposeScope();
                _sums[name] = copy;
            }
        }

        RecordCount += records;
    }

    /// <summary>Frees the sums.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the sums (override to free more; call the base).</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        foreach (var t in _sums.Values)
        {
            t.Dispose();
        }

        _sums.Clear();
    }
}
