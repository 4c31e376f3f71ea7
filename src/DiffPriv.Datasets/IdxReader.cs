using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace DiffPriv.Datasets;

/// <summary>
/// Reads LeCun's IDX format (MNIST, Fashion-MNIST), raw or gzip-compressed (detected from the gzip signature): a
/// big-endian header — magic 0x00000803 for unsigned-byte 3-d data (images) or 0x00000801 for 1-d data (labels), then
/// one int32 per dimension — followed by exactly the product of the dimensions in bytes.
/// </summary>
public static class IdxReader
{
    /// <summary>Magic number of an unsigned-byte, 3-dimensional IDX file (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an unsigned-byte, 1-dimensional IDX file (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Reads an image file.</summary>
    /// <param name="path">A raw or gzipped IDX image file.</param>
    /// <returns>The raw images.</returns>
    /// <exception cref="IdxFormatException">The file is not a complete, valid IDX image file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IdxImages ReadImages(string path)
    {
        var bytes = ReadAll(path);
        var (count, dims) = Header(path, bytes, ImagesMagic, 3);
        return new IdxImages(bytes[16..], count, dims[1], dims[2]);
    }

    /// <summary>Reads a label file.</summary>
    /// <param name="path">A raw or gzipped IDX label file.</param>
    /// <returns>One byte per label.</returns>
    /// <exception cref="IdxFormatException">The file is not a complete, valid IDX label file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static byte[] ReadLabels(string path)
    {
        var bytes = ReadAll(path);
        Header(path, bytes, LabelsMagic, 1);
        return bytes[8..];
    }

    /// <summary>
    /// Images as float32 [N, 1, rows, cols]: pixels scaled to [0, 1], then standardised as (x − mean) / std with fixed,
    /// public constants (never statistics of the private data).
    /// </summary>
    /// <param name="images">The raw images.</param>
    /// <param name="mean">The public normalisation mean (MNIST 0.1307).</param>
    /// <param name="std">The public normalisation std, &gt; 0 (MNIST 0.3081).</param>
    /// <param name="limit">Keep only the first <paramref name="limit"/> images (null: all).</param>
    /// <returns>A new CPU tensor, owned by the caller.</returns>
    public static Tensor ImagesToTensor(IdxImages images, double mean, double std, int? limit = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(std, 0);
        var n = Math.Min(images.Count, limit ?? images.Count);
        var pixels = images.Rows * images.Columns;
        var values = new float[(long)n * pixels];
        var scale = 1.0 / (255.0 * std);
        var shift = mean / std;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(images.Pixels[i] * scale - shift);
        }

        return tensor(values, [n, 1, images.Rows, images.Columns], ScalarType.Float32);
    }

    /// <summary>Labels as int64 [N].</summary>
    /// <param name="labels">The raw labels.</param>
    /// <param name="limit">Keep only the first <paramref name="limit"/> labels (null: all).</param>
    /// <returns>A new CPU tensor, owned by the caller.</returns>
    public static Tensor LabelsToTensor(byte[] labels, int? limit = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var n = Math.Min(labels.Length, limit ?? labels.Length);
        var values = new long[n];
        for (var i = 0; i < n; i++)
        {
            values[i] = labels[i];
        }

        return tensor(values, [n], ScalarType.Int64);
    }

    private static byte[] ReadAll(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b)
        {
            return raw;
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException(path, $"the gzip data is broken ({e.Message})", e);
        }
        catch (EndOfStreamException e)
        {
            throw new IdxFormatException(path, "the gzip data is truncated", e);
        }
    }

    private static (int Count, int[] Dims) Header(string path, byte[] bytes, int magic, int rank)
    {
        var headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength)
        {
            throw new IdxFormatException(path, $"{bytes.Length} bytes is too short for an IDX header ({headerLength} bytes)");
        }

        var actual = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (actual != magic)
        {
            throw new IdxFormatException(path, $"magic number 0x{actual:X8}, expected 0x{magic:X8} ({(magic == ImagesMagic ? "images" : "labels")})");
        }

        var dims = new int[rank];
        long expected = headerLength;
        long payload = 1;
        for (var d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (dims[d] <= 0 || (d > 0 && dims[d] > 4096))
            {
                throw new IdxFormatException(path, $"dimension {d} is {dims[d]}, which is not a plausible size");
            }

            payload *= dims[d];
        }

        expected += payload;
        if (bytes.Length != expected)
        {
            throw new IdxFormatException(
                path,
                bytes.Length < expected
                    ? $"truncated: {bytes.Length} bytes, but its header ({string.Join("×", dims)}) needs {expected}"
                    : $"{bytes.Length} bytes, but its header ({string.Join("×", dims)}) needs exactly {expected}");
        }

        return (dims[0], dims);
    }
}
