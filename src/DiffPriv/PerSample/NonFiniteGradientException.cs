namespace DiffPriv.PerSample;

/// <summary>
/// Some per-example gradient norm is NaN or infinite. The step is refused instead of clipping a NaN into the sum.
/// </summary>
public sealed class NonFiniteGradientException : ArithmeticException
{
    /// <summary>Creates the exception for the given example indices.</summary>
    /// <param name="exampleIndices">Indices (0-based, within the batch) of the examples whose norm is not finite.</param>
    public NonFiniteGradientException(IReadOnlyList<long> exampleIndices)
        : base(BuildMessage(exampleIndices))
    {
        ExampleIndices = exampleIndices;
    }

    /// <summary>Indices (0-based, within the batch) of the examples whose per-example gradient norm is NaN or ±∞.</summary>
    public IReadOnlyList<long> ExampleIndices { get; }

    private static string BuildMessage(IReadOnlyList<long> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        const int Shown = 20;
        var list = string.Join(", ", indices.Take(Shown)) + (indices.Count > Shown ? $", … ({indices.Count} in all)" : string.Empty);
        return $"The per-example gradient norm is NaN or infinite for example(s) {list} of the batch. " +
            "Check those inputs and their losses (NaN/Inf features, log of 0, overflow); the step was not taken.";
    }
}
