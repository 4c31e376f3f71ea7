using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Data;

/// <summary>
/// Examples read one at a time from a TorchSharp <c>Dataset&lt;T&gt;</c> (only at the sampled indices) and collated into a
/// dictionary batch.
/// </summary>
internal sealed class DatasetBatchSource<T> : BatchSource
{
    private readonly torch.utils.data.Dataset<T> _dataset;
    private readonly Func<IReadOnlyList<T>, Device, Dictionary<string, Tensor>> _collate;
    private readonly Device _device;
    private Dictionary<string, (long[] Shape, ScalarType Type, Device Device)>? _schema;

    public DatasetBatchSource(torch.utils.data.Dataset<T> dataset, Func<IReadOnlyList<T>, Device, Dictionary<string, Tensor>> collate, Device? device)
    {
        _dataset = dataset;
        _collate = collate;
        _device = device ?? torch.CPU;
        Count = dataset.Count;
    }

    public override long Count { get; }

    public override Dictionary<string, Tensor> Load(IReadOnlyList<long> indices)
    {
        if (indices.Count == 0)
        {
            // The shapes of an empty batch come from an earlier batch; only if the very first batch is empty is one
            // example (index 0) read, for its shapes and dtypes alone.
            _schema ??= SchemaOf(Collate([0]));
            return _schema.ToDictionary(kv => kv.Key, kv => torch.zeros([0, .. kv.Value.Shape], dtype: kv.Value.Type, device: kv.Value.Device));
        }

        var batch = Collate(indices);
        _schema ??= SchemaOf(batch);
        return batch;
    }

    private static Dictionary<string, (long[] Shape, ScalarType Type, Device Device)> SchemaOf(Dictionary<string, Tensor> batch) =>
        batch.ToDictionary(kv => kv.Key, kv => (kv.Value.shape.Skip(1).ToArray(), kv.Value.dtype, kv.Value.device));

    private Dictionary<string, Tensor> Collate(IReadOnlyList<long> indices)
    {
        using var scope = torch.NewDisposeScope();
        var examples = new List<T>(indices.Count);
        foreach (var i in indices)
        {
            examples.Add(_dataset.GetTensor(i));
        }

        var batch = _collate(examples, _device)
            ?? throw new InvalidOperationException("The collate function returned null.");
        foreach (var (key, tensor) in batch)
        {
            if (tensor is null || tensor.dim() == 0 || tensor.shape[0] != indices.Count)
            {
                throw new InvalidOperationException(
                    $"The collated batch entry '{key}' must have the example axis first with {indices.Count} rows " +
                    $"(got {(tensor is null ? "null" : $"[{string.Join(", ", tensor.shape)}]")}).");
            }
        }

        scope.MoveToOuter(batch.Values);
        return batch;
    }
}
