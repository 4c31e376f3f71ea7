using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Training;

/// <summary>
/// The device a run computes on, from its text form (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>), checked against what this
/// process's libtorch backend offers.
/// </summary>
public static class DeviceChoice
{
    /// <summary>What a user changes to train on an NVIDIA GPU: the backend package the application references.</summary>
    public const string CudaHint =
        "CUDA needs the libtorch CUDA backend: an application that references TorchSharp-cuda-linux (or TorchSharp-cuda-windows) " +
        "instead of TorchSharp-cpu, and an NVIDIA driver; the diffpriv tool carries the CPU libtorch only";

    /// <summary>Checks a device name without loading libtorch.</summary>
    /// <param name="text">cpu, cuda or cuda:N (N ≥ 0).</param>
    /// <returns>The name in canonical form (lower case).</returns>
    /// <exception cref="ArgumentException">Not one of those forms.</exception>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var name = text.Trim().ToLowerInvariant();
        if (name is "cpu" or "cuda")
        {
            return name;
        }

        if (name.StartsWith("cuda:", StringComparison.Ordinal) &&
            int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return name;
        }

        throw new ArgumentException($"--device must be cpu, cuda or cuda:N (got '{text}')", nameof(text));
    }

    /// <summary>Whether <paramref name="name"/> (normalised) names a CUDA device.</summary>
    /// <param name="name">A device name.</param>
    /// <returns>True for cuda and cuda:N.</returns>
    public static bool IsCuda(string name) => Normalize(name) != "cpu";

    /// <summary>The device, after checking that this process can use it.</summary>
    /// <param name="text">cpu, cuda or cuda:N.</param>
    /// <returns>The TorchSharp device.</returns>
    /// <exception cref="ArgumentException">The name is malformed, CUDA is not available to this process (the message says
    /// which package a CUDA user references), or the GPU index is beyond the devices present.</exception>
    public static Device Resolve(string text)
    {
        var name = Normalize(text);
        if (name == "cpu")
        {
            return torch.CPU;
        }

        TorchRuntime.EnsureLoaded();
        if (!torch.cuda.is_available())
        {
            throw new ArgumentException($"--device {name}: no CUDA device is available to this process. {CudaHint}.", nameof(text));
        }

        var device = torch.device(name);
        if (device.index >= torch.cuda.device_count())
        {
            throw new ArgumentException($"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s), numbered from 0", nameof(text));
        }

        return device;
    }
}
