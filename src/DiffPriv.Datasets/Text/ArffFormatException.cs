namespace DiffPriv.Datasets.Text;

/// <summary>An ARFF file that breaks the format; the message names the file and the 1-based line.</summary>
public sealed class ArffFormatException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file (or the name given to the reader).</param>
    /// <param name="lineNumber">The offending 1-based line (the last line + 1 for a problem at the end of the file).</param>
    /// <param name="problem">What is wrong.</param>
    public ArffFormatException(string path, int lineNumber, string problem)
        : base($"{path}, line {lineNumber}: {problem}.")
    {
        Path = path;
        LineNumber = lineNumber;
        Problem = problem;
    }

    /// <summary>What is wrong, without the file, the line and a final period.</summary>
    public string Problem { get; }

    /// <summary>The offending file.</summary>
    public string Path { get; }

    /// <summary>The offending 1-based line.</summary>
    public int LineNumber { get; }
}
