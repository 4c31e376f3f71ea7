using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>The running sum of clipped records. Owns its tensors.</summary>
public sealed class DpQueryState : IDisposable
{
    private readonly Dictionary<string, Tensor> _sums = [];

    /// <summary>Parameter name → Σ of clipped records so far (absent until the first record arrives).</summary>
    public IReadOnlyDictionary<string, Tensor> Sums => _sums;

    /// <summary>How many records were accumulated.</summary>
    public long RecordCount { get; private set; }

    internal void Add(IReadOnlyDictionary<string, Tensor> sums, long records)
    {
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
        foreach (var t in _sums.Values)
        {
            t.Dispose();
        }

        _sums.Clear();
    }
}
