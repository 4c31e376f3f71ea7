using System.Buffers.Binary;
using System.IO.Compression;

namespace DiffPriv.Datasets.Tests;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static byte[] ImagesFile(int count, int rows, int cols, Func<int, byte> pixel)
    {
        var bytes = new byte[16 + count * rows * cols];
        BinaryPrimitives.WriteInt32BigEndian(bytes, IdxReader.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        for (var i = 16; i < bytes.Length; i++)
        {
            bytes[i] = pixel(i - 16);
        }

        return bytes;
    }

    internal static byte[] LabelsFile(params byte[] labels)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, IdxReader.LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    [Fact]
    public void ReadsRawImagesAndLabels()
    {
        var images = IdxReader.ReadImages(Write("img", ImagesFile(3, 28, 28, i => (byte)(i % 256))));
        Assert.Equal((3, 28, 28), (images.Count, images.Rows, images.Columns));
        Assert.Equal(3 * 784, images.Pixels.Length);
        Assert.Equal(17, images.Pixels[17]);
        Assert.Equal(new byte[] { 7, 0, 9 }, IdxReader.ReadLabels(Write("lbl", LabelsFile(7, 0, 9))));
    }

    [Fact]
    public void ReadsGzippedFilesLikeRawOnes()
    {
        var raw = ImagesFile(2, 28, 28, i => (byte)(i * 7 % 256));
        var fromGzip = IdxReader.ReadImages(Write("img.gz", Gzip(raw)));
        Assert.Equal(IdxReader.ReadImages(Write("img", raw)).Pixels, fromGzip.Pixels);
        Assert.Equal(new byte[] { 1, 2 }, IdxReader.ReadLabels(Write("lbl.gz", Gzip(LabelsFile(1, 2)))));
    }

    [Fact]
    public void TensorsAreScaledThenNormalisedWithTheGivenConstants()
    {
        var images = IdxReader.ReadImages(Write("img", ImagesFile(2, 28, 28, i => i == 0 ? (byte)255 : (byte)0)));
        using var x = IdxReader.ImagesToTensor(images, 0.1307, 0.3081);
        Assert.Equal(new long[] { 2, 1, 28, 28 }, x.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, x.dtype);
        Assert.Equal((1 - 0.1307) / 0.3081, x[0, 0, 0, 0].item<float>(), 5);
        Assert.Equal(-0.1307 / 0.3081, x[1, 0, 27, 27].item<float>(), 5);
        using var limited = IdxReader.ImagesToTensor(images, 0.1307, 0.3081, limit: 1);
        Assert.Equal(1, limited.shape[0]);

        using var y = IdxReader.LabelsToTensor(new byte[] { 3, 9, 0 });
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, y.dtype);
        Assert.Equal(new long[] { 3, 9, 0 }, y.data<long>().ToArray());
    }

    [Fact]
    public void TruncatedFileNamesTheFileAndHowToRefetch()
    {
        var bytes = ImagesFile(3, 28, 28, _ => 1);
        var path = Write("truncated", bytes[..^10]);
        var e = Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("diffpriv fetch", e.Message, StringComparison.Ordinal);
        Assert.Contains("delete it", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrailingBytesAreRejected()
    {
        var path = Write("long", [.. LabelsFile(1, 2, 3), 0]);
        Assert.Throws<IdxFormatException>(() => IdxReader.ReadLabels(path));
    }

    [Fact]
    public void WrongMagicIsRejected()
    {
        // A label file read as images, and an image file read as labels.
        var labels = Write("labels", LabelsFile(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
        var e = Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(labels));
        Assert.Contains("magic number 0x00000801", e.Message, StringComparison.Ordinal);
        Assert.Throws<IdxFormatException>(() => IdxReader.ReadLabels(Write("images", ImagesFile(1, 2, 2, _ => 0))));
    }

    [Fact]
    public void ShortHeaderAndImpossibleDimensionsAreRejected()
    {
        Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(Write("tiny", [0, 0, 8, 3])));
        var bad = ImagesFile(1, 2, 2, _ => 0);
        BinaryPrimitives.WriteInt32BigEndian(bad.AsSpan(8), -2);
        Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(Write("negative", bad)));
    }

    [Fact]
    public void TruncatedGzipIsRejectedWithTheFileName()
    {
        var gz = Gzip(ImagesFile(4, 28, 28, i => (byte)i));
        var path = Write("cut.gz", gz[..(gz.Length / 2)]);
        var e = Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PinnedChecksumsCoverEveryFileOfBothDataSets()
    {
        foreach (var info in new[] { ImageDatasets.Mnist, ImageDatasets.FashionMnist })
        {
            Assert.Equal(
                new[] { info.TrainImages, info.TrainLabels, info.TestImages, info.TestLabels }.Order(),
                info.Sha256.Keys.Order());
            Assert.All(info.Sha256.Values, h => Assert.Matches("^[0-9a-f]{64}$", h));
        }
    }
}
