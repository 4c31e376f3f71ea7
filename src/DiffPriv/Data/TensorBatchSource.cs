using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Data;

/// <summary>Examples held as in-memory tensors that share their first dimension N; batches are index_select rows.</summary>
internal sealed class TensorBatchSource : BatchSource
{
    private readonly Dictionary<string, Tensor> _columns;
    private readonly Device? _device;

    public TensorBatchSource(IReadOnlyDictionary<string, Tensor> columns, Device? device)
    {
        if (columns.Count == 0)
        {
            throw new ArgumentException("A dataset needs at least one tensor.", nameof(columns));
        }

        var n = -1L;
        foreach (var (key, tensor) in columns)
        {
            ArgumentNullException.ThrowIfNull(tensor, key);
            if (tensor.dim() == 0)
            {
                throw new ArgumentException($"The tensor '{key}' is a scalar; every tensor needs the example axis first.", nameof(columns));
            }

            if (n >= 0 && tensor.shape[0] != n)
            {
                throw new ArgumentException(
                    $"All tensors must share their first dimension N: {string.Join(", ", columns.Select(c => $"'{c.Key}' has {c.Value.shape[0]}"))}.",
                    nameof(columns));
            }

            n = tensor.shape[0];
        }

        _columns = new Dictionary<string, Tensor>(columns);
        _device = device;
        Count = n;
    }

    public override long Count { get; }

    public override Dictionary<string, Tensor> Load(IReadOnlyList<long> indices)
    {
        var result = new Dictionary<string, Tensor>(_columns.Count);
        var first = _columns.Values.First();
        using var index = torch.tensor(indices as long[] ?? [.. indices], dtype: ScalarType.Int64, device: first.device);
        foreach (var (key, column) in _columns)
        {
            var rows = column.index_select(0, index.device == column.device ? index : index.to(column.device));
            result[key] = _device is null || rows.device == _device ? rows : rows.to(_device);
        }

        return result;
    }
}
