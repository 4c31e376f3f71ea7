namespace DiffPriv.Datasets;

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
