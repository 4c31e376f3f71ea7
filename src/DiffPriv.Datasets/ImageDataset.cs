using static TorchSharp.torch;

namespace DiffPriv.Datasets;

/// <summary>A data set loaded as tensors: inputs float32 [N, 1, 28, 28] (normalised), targets int64 [N].</summary>
public sealed class ImageDataset : IDisposable
{
    internal ImageDataset(DatasetInfo info, Tensor trainInputs, Tensor trainTargets, Tensor testInputs, Tensor testTargets)
    {
        Info = info;
        TrainInputs = trainInputs;
        TrainTargets = trainTargets;
        TestInputs = testInputs;
        TestTargets = testTargets;
    }

    /// <summary>What was loaded.</summary>
    public DatasetInfo Info { get; }

    /// <summary>Training images, float32 [N, 1, 28, 28], normalised with <see cref="DatasetInfo.Mean"/> and <see cref="DatasetInfo.Std"/>.</summary>
    public Tensor TrainInputs { get; }

    /// <summary>Training labels, int64 [N] in 0..9.</summary>
    public Tensor TrainTargets { get; }

    /// <summary>Test images, float32 [M, 1, 28, 28].</summary>
    public Tensor TestInputs { get; }

    /// <summary>Test labels, int64 [M].</summary>
    public Tensor TestTargets { get; }

    /// <summary>A copy of the data set on <paramref name="device"/> (e.g. a GPU); the caller disposes it.</summary>
    /// <param name="device">Where the copy's tensors live.</param>
    /// <returns>The copy.</returns>
    public ImageDataset To(Device device) =>
        new(Info, TrainInputs.to(device), TrainTargets.to(device), TestInputs.to(device), TestTargets.to(device));

    /// <summary>Frees the four tensors.</summary>
    public void Dispose()
    {
        TrainInputs.Dispose();
        TrainTargets.Dispose();
        TestInputs.Dispose();
        TestTargets.Dispose();
    }
}
