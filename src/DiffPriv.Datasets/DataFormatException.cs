namespace DiffPriv.Datasets;

/// <summary>
/// A data file that does not have the layout its reader expects (not valid JSON, a missing field, an R serialisation it
/// cannot read, a truncated or corrupt compressed stream). The message names the file and what is wrong.
/// </summary>
public sealed class DataFormatException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file (or the name given to the reader).</param>
    /// <param name="problem">What is wrong, without a final period.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public DataFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}.", inner)
    {
        Path = path;
    }

    /// <summary>The offending file.</summary>
    public string Path { get; }
}
