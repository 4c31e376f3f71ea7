namespace DiffPriv.Experiments.Tuning;

/// <summary>A search drew K = 0 runs (possible only with a Poisson number of runs): there is no model to release. The
/// privacy cost is still that of the search; start a new search (its cost adds up).</summary>
public sealed class SearchSelectedNothingException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="runDir">The search's folder.</param>
    public SearchSelectedNothingException(string runDir)
        : base($"the search drew zero runs (Poisson number of runs), so no model was trained; its privacy cost is spent all the same ({runDir})") => RunDir = runDir;

    /// <summary>Creates the exception (for serializers).</summary>
    public SearchSelectedNothingException()
        : this(string.Empty)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="inner">The cause.</param>
    public SearchSelectedNothingException(string message, Exception inner)
        : base(message, inner) => RunDir = string.Empty;

    /// <summary>The search's folder.</summary>
    public string RunDir { get; }
}
