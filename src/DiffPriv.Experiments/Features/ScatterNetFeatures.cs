using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DiffPriv.Datasets;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Features;

/// <summary>
/// The ScatterNet features of a loaded image data set, computed once per image (the transform is fixed and
/// data-independent, so computing it reads no private statistic): pixels back in [0, 1] (the data set's public
/// normalisation constants undone, as the paper's inputs), then <see cref="ScatteringTransform"/> with J = 2, L = 8.
/// The features of the first R images of each split are kept in the data cache (<c>scatternet-j2-l8-{split}.f32</c>,
/// float32) and reused when a run needs at most R; the first image is recomputed and compared on every load.
/// </summary>
internal sealed class ScatterNetFeatures : IDisposable
{
    private const int Magic = 0x43535044; // "DPSC"
    private const int FormatVersion = 1;

    private ScatterNetFeatures(Tensor trainInputs, Tensor testInputs)
    {
        TrainInputs = trainInputs;
        TestInputs = testInputs;
    }

    /// <summary>Training features, float32 [N, 81·C, H/4, W/4].</summary>
    public Tensor TrainInputs { get; }

    /// <summary>Test features, float32 [M, 81·C, H/4, W/4].</summary>
    public Tensor TestInputs { get; }

    /// <summary>Computes (or reads from <paramref name="cacheFolder"/>) the features of every training and test image.</summary>
    /// <param name="data">The loaded data set (normalised inputs [N, C, H, W]; a limited load holds the first images).</param>
    /// <param name="cacheFolder">The data set's cache folder, or null to compute without caching.</param>
    /// <param name="log">Receives a line per split.</param>
    /// <returns>The features; the caller disposes them.</returns>
    public static ScatterNetFeatures Compute(ImageDataset data, string? cacheFolder, Action<string>? log = null)
    {
        var shape = data.TrainInputs.shape;
        using var scatter = new ScatteringTransform((int)shape[2], (int)shape[3]);
        var train = Of(scatter, data.TrainInputs, data.Info, cacheFolder is null ? null : Path.Combine(cacheFolder, "scatternet-j2-l8-train.f32"), log);
        var test = Of(scatter, data.TestInputs, data.Info, cacheFolder is null ? null : Path.Combine(cacheFolder, "scatternet-j2-l8-test.f32"), log);
        return new ScatterNetFeatures(train, test);
    }

    /// <summary>Frees the feature tensors.</summary>
    public void Dispose()
    {
        TrainInputs.Dispose();
        TestInputs.Dispose();
    }

    private static Tensor Of(ScatteringTransform scatter, Tensor normalised, DatasetInfo info, string? file, Action<string>? log)
    {
        using var pixels = (normalised * info.Std) + info.Mean;
        var n = pixels.shape[0];
        if (file is not null && TryRead(file, n) is { } cached)
        {
            using var first = scatter.Transform(pixels.narrow(0, 0, 1));
            if (cached.shape.AsSpan(1).SequenceEqual(first.shape.AsSpan(1)) && cached.narrow(0, 0, 1).allclose(first, rtol: 1e-4, atol: 1e-6))
            {
                log?.Invoke($"ScatterNet features of {n} images read from {file}");
                return cached;
            }

            cached.Dispose();
        }

        var features = scatter.TransformAll(pixels);
        if (file is not null)
        {
            Write(file, features);
        }

        return features;
    }

    private static Tensor? TryRead(string file, long rows)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        using var stream = File.OpenRead(file);
        var header = new byte[40];
        if (stream.Read(header) != header.Length || BinaryPrimitives.ReadInt32LittleEndian(header) != Magic ||
            BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4)) != FormatVersion)
        {
            return null;
        }

        long[] shape = [.. Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8 + (8 * i))))];
        if (shape[0] < rows)
        {
            return null;
        }

        var perRow = shape[1] * shape[2] * shape[3];
        var values = new float[rows * perRow];
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return torch.tensor(values, [rows, shape[1], shape[2], shape[3]]);
    }

    private static void Write(string file, Tensor features)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temporary = $"{file}.{Environment.ProcessId}.tmp"; // one per process: the ranks of a data-parallel job may write at once
        using (var stream = File.Create(temporary))
        {
            Span<byte> header = stackalloc byte[40];
            BinaryPrimitives.WriteInt32LittleEndian(header, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], FormatVersion);
            for (var i = 0; i < 4; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(header[(8 + (8 * i))..], features.shape[i]);
            }

            stream.Write(header);
            using var contiguous = features.contiguous();
            stream.Write(MemoryMarshal.AsBytes(contiguous.data<float>().ToArray().AsSpan()));
        }

        File.Move(temporary, file, overwrite: true);
    }
}
