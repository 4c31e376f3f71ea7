using System.Buffers.Binary;
using DiffPriv.Data;
using static TorchSharp.torch;

namespace OwnDataset;

/// <summary>
/// A data set on disk, made once before training: fixed-size records of a 12×12 image, 4 side features and a label in
/// 0..3. The label's high bit says which half of the image holds a bright patch; its low bit is the sign of the first side
/// feature, so a model needs both inputs. Examples are read lazily, one record at a time.
/// </summary>
internal sealed class SyntheticRecords : IDisposable
{
    public const int ImageSide = 12;
    public const int SideFeatures = 4;
    public const int Classes = 4;
    private const int FloatsPerRecord = (ImageSide * ImageSide) + SideFeatures;
    private const int RecordBytes = (FloatsPerRecord * sizeof(float)) + sizeof(int);

    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _file;
    private long _reads;

    private SyntheticRecords(string path)
    {
        _file = File.OpenHandle(path);
        Count = RandomAccess.GetLength(_file) / RecordBytes;
    }

    /// <summary>The number of records.</summary>
    public long Count { get; }

    /// <summary>How many records were read from disk so far.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>Writes <paramref name="count"/> records to <paramref name="path"/> (unless it exists with that size) and opens it.</summary>
    public static SyntheticRecords CreateOrOpen(string path, long count, int seed)
    {
        if (!File.Exists(path) || new FileInfo(path).Length != count * RecordBytes)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var random = new Random(seed);
            var record = new byte[RecordBytes];
            var temporary = path + ".tmp";
            using (var stream = File.Create(temporary))
            {
                for (long i = 0; i < count; i++)
                {
                    Fill(record, random);
                    stream.Write(record);
                }
            }

            File.Move(temporary, path, overwrite: true);
        }

        return new SyntheticRecords(path);
    }

    /// <summary>Records [start, start + length) as a TorchSharp data set of {"image", "side", "label"} examples, read lazily.</summary>
    public utils.data.Dataset Slice(long start, long length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + length, Count);
        return IndexedDataset.Create(length, i => Read(start + i));
    }

    public void Dispose() => _file.Dispose();

    private Dictionary<string, Tensor> Read(long index)
    {
        var record = new byte[RecordBytes];
        if (RandomAccess.Read(_file, record, index * RecordBytes) != RecordBytes)
        {
            throw new InvalidDataException($"Record {index} is truncated.");
        }

        Interlocked.Increment(ref _reads);
        var floats = new float[FloatsPerRecord];
        for (var j = 0; j < floats.Length; j++)
        {
            floats[j] = BinaryPrimitives.ReadSingleLittleEndian(record.AsSpan(j * sizeof(float)));
        }

        var label = BinaryPrimitives.ReadInt32LittleEndian(record.AsSpan(FloatsPerRecord * sizeof(float)));
        return new Dictionary<string, Tensor>
        {
            ["image"] = tensor(floats[..(ImageSide * ImageSide)], [1, ImageSide, ImageSide]),
            ["side"] = tensor(floats[(ImageSide * ImageSide)..]),
            ["label"] = tensor((long)label),
        };
    }

    private static void Fill(byte[] record, Random random)
    {
        var label = random.Next(Classes);
        var top = (label & 2) != 0;
        var positive = (label & 1) != 0;
        var patchRow = random.Next(ImageSide / 2 - 2) + (top ? 0 : ImageSide / 2);
        var patchColumn = random.Next(ImageSide - 2);
        for (var r = 0; r < ImageSide; r++)
        {
            for (var c = 0; c < ImageSide; c++)
            {
                var inPatch = r >= patchRow && r < patchRow + 3 && c >= patchColumn && c < patchColumn + 3;
                var value = (float)((0.5 * Gaussian(random)) + (inPatch ? 1.5 : 0));
                BinaryPrimitives.WriteSingleLittleEndian(record.AsSpan(((r * ImageSide) + c) * sizeof(float)), value);
            }
        }

        for (var f = 0; f < SideFeatures; f++)
        {
            var value = (float)(f == 0 ? (positive ? 1 : -1) + (0.5 * Gaussian(random)) : Gaussian(random));
            BinaryPrimitives.WriteSingleLittleEndian(record.AsSpan(((ImageSide * ImageSide) + f) * sizeof(float)), value);
        }

        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(FloatsPerRecord * sizeof(float)), label);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
