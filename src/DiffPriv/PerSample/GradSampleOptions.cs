namespace DiffPriv.PerSample;

/// <summary>Options of a <see cref="GradSampleHooks"/>.</summary>
public sealed record GradSampleOptions
{
    /// <summary>The per-layer method; <see cref="GradSampleMethod.Auto"/> by default.</summary>
    public GradSampleMethod Method { get; init; } = GradSampleMethod.Auto;

    /// <summary>
    /// Bytes that the materialised per-example gradients of ONE layer may take (B·p·element size) before
    /// <see cref="GradSampleMethod.Auto"/> prefers the ghost (Gram) method; 256 MiB by default. Must be ≥ 0.
    /// </summary>
    public long MaterializeBudgetBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (MaterializeBudgetBytes < 0)
        {
            throw new ArgumentException("MaterializeBudgetBytes must be ≥ 0.", nameof(MaterializeBudgetBytes));
        }

        if (!Enum.IsDefined(Method))
        {
            throw new ArgumentException($"Unknown method {Method}.", nameof(Method));
        }
    }
}
