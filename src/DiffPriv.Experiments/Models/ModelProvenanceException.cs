namespace DiffPriv.Experiments.Models;

/// <summary>A saved model's weights cannot be reused: <see cref="Problem"/> says why, the message in plain words.</summary>
public sealed class ModelProvenanceException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="problem">Why the weights cannot be reused.</param>
    /// <param name="message">What is wrong, without the file name the caller already names.</param>
    /// <param name="inner">The cause, if any.</param>
    public ModelProvenanceException(ProvenanceProblem problem, string message, Exception? inner = null)
        : base(message, inner)
    {
        Problem = problem;
    }

    /// <summary>Why the weights cannot be reused.</summary>
    public ProvenanceProblem Problem { get; }
}
