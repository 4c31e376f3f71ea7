using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Data;

/// <summary>
/// Builders for data sets that <see cref="PrivacyEngine.MakePrivate(nn.Module, optim.Optimizer, utils.data.Dataset, DpSgdOptions)"/>
/// reads lazily, one example at a time and only at the indices Poisson sampling draws.
/// </summary>
public static class IndexedDataset
{
    /// <summary>
    /// A TorchSharp <c>Dataset</c> of <paramref name="count"/> examples, example i being <c>getExample(i)</c>: a dictionary
    /// of tensors without the batch axis (e.g. "image" → [1, 28, 28], "label" → []). Read from disk, a database or
    /// anything else; nothing is read until an index is sampled.
    /// </summary>
    /// <param name="count">N ≥ 1.</param>
    /// <param name="getExample">
    /// Index → example; called only for sampled indices, with one exception: when the very first batch is empty and its
    /// tensors are read, example 0 is read for its keys, shapes and dtypes alone (its values reach nothing).
    /// </param>
    /// <returns>The dataset.</returns>
    public static utils.data.Dataset Create(long count, Func<long, Dictionary<string, Tensor>> getExample)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentNullException.ThrowIfNull(getExample);
        return new FunctionDataset(count, getExample);
    }

    /// <summary>
    /// The default collate function: stacks each key's per-example tensors along a new first axis and moves the result
    /// to <paramref name="device"/>. Every example must have the same keys and, per key, the same shape.
    /// </summary>
    /// <param name="examples">One or more examples.</param>
    /// <param name="device">Where the batch goes.</param>
    /// <returns>Key → [k, …] batch tensor.</returns>
    /// <exception cref="ArgumentException">The examples disagree on their keys or shapes.</exception>
    public static Dictionary<string, Tensor> Stack(IReadOnlyList<Dictionary<string, Tensor>> examples, Device device)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(device);
        if (examples.Count == 0)
        {
            throw new ArgumentException("There is nothing to stack.", nameof(examples));
        }

        var keys = examples[0].Keys.ToList();
        var batch = new Dictionary<string, Tensor>(keys.Count);
        foreach (var key in keys)
        {
            var column = new Tensor[examples.Count];
            for (var i = 0; i < examples.Count; i++)
            {
                if (!examples[i].TryGetValue(key, out var value) || examples[i].Count != keys.Count)
                {
                    throw new ArgumentException(
                        $"Example {i} of the batch has keys [{string.Join(", ", examples[i].Keys)}], example 0 has [{string.Join(", ", keys)}].",
                        nameof(examples));
                }

                if (!value.shape.SequenceEqual(examples[0][key].shape))
                {
                    throw new ArgumentException(
                        $"'{key}' has shape [{string.Join(", ", value.shape)}] in example {i} but [{string.Join(", ", examples[0][key].shape)}] in example 0; " +
                        "pass a collate function that pads or packs them.",
                        nameof(examples));
                }

                column[i] = value;
            }

            var stacked = torch.stack(column);
            batch[key] = stacked.device == device ? stacked : stacked.to(device);
        }

        return batch;
    }

    private sealed class FunctionDataset(long count, Func<long, Dictionary<string, Tensor>> getExample) : utils.data.Dataset
    {
        public override long Count => count;

        public override Dictionary<string, Tensor> GetTensor(long index) => getExample(index);
    }
}
