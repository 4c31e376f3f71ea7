using DiffPriv.Experiments.Training;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Features;

/// <summary>
/// The models Tramèr &amp; Boneh (2021) train on ScatterNet features ([B, K, h, w], K = 81 per image channel): each starts
/// with a GroupNorm without affine parameters (each example normalised by its own statistics over groups of K/G channels,
/// so no statistic of the private data set is read and nothing extra is charged to the privacy budget).
/// </summary>
internal static class ScatterNetModels
{
    /// <summary>GroupNorm groups: 27 groups of 3 channels, the paper's setting for Fashion-MNIST.</summary>
    public const int Groups = 27;

    /// <summary>The feature model for <paramref name="kind"/> (not <see cref="ImageModel.Cnn"/>).</summary>
    /// <param name="kind">ScatterNet + linear or ScatterNet + CNN.</param>
    /// <param name="channels">K, feature channels.</param>
    /// <param name="height">Feature height h.</param>
    /// <param name="width">Feature width w.</param>
    /// <param name="classes">Output classes.</param>
    /// <returns>A new model (float32, CPU) initialised from the global torch generator.</returns>
    public static nn.Module<Tensor, Tensor> Create(ImageModel kind, long channels, long height, long width, long classes = 10) => kind switch
    {
        ImageModel.ScatterNetLinear => Linear(channels, height, width, classes),
        ImageModel.ScatterNetCnn => Cnn(channels, height, width, classes),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a ScatterNet model"),
    };

    /// <summary>GroupNorm (27 groups, no affine) → flatten → linear: K·h·w·classes + classes parameters (39 700 for MNIST).</summary>
    public static nn.Module<Tensor, Tensor> Linear(long channels, long height, long width, long classes = 10) =>
        nn.Sequential(
            ("norm", nn.GroupNorm(Groups, channels, affine: false)),
            ("flatten", nn.Flatten()),
            ("fc", nn.Linear(channels * height * width, classes)));

    /// <summary>
    /// The paper's small CNN on ScatterNet features of 28×28 images: GroupNorm (27 groups, no affine) → conv 16 3×3 stride 2
    /// padding 1 → tanh → conv 32 3×3 padding 1 → tanh → flatten → linear 32 → tanh → linear to the classes
    /// (for [B, 81, 7, 7]: 4×4 maps, 11 664 + 4 640 + 16 416 + 330 = 33 050 parameters).
    /// </summary>
    public static nn.Module<Tensor, Tensor> Cnn(long channels, long height, long width, long classes = 10)
    {
        var h = ((height - 1) / 2) + 1;
        var w = ((width - 1) / 2) + 1;
        return nn.Sequential(
            ("norm", nn.GroupNorm(Groups, channels, affine: false)),
            ("conv1", nn.Conv2d(channels, 16, 3, stride: 2, padding: 1)),
            ("act1", nn.Tanh()),
            ("conv2", nn.Conv2d(16, 32, 3, stride: 1, padding: 1)),
            ("act2", nn.Tanh()),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(32 * h * w, 32)),
            ("act3", nn.Tanh()),
            ("fc2", nn.Linear(32, classes)));
    }
}
