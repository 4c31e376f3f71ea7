namespace DiffPriv.Datasets;

/// <summary>
/// A file that is not the IDX file it should be (wrong magic number, impossible dimensions, truncated, trailing bytes,
/// broken gzip). The message names the file and says how to fetch it again.
/// </summary>
public sealed class IdxFormatException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The offending file.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public IdxFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}. The file is corrupt or incomplete: delete it and fetch it again ({ImageDatasets.RefetchHint}).", inner)
    {
        Path = path;
    }

    /// <summary>The offending file.</summary>
    public string Path { get; }
}
