namespace DiffPriv.Validation;

/// <summary>
/// What <see cref="ModuleValidator.Fix(TorchSharp.torch.nn.Module, ModuleFixOptions)"/> needs to know about fused layers
/// that TorchSharp does not expose.
/// </summary>
public sealed record ModuleFixOptions
{
    /// <summary>The dropout of fused <c>nn.TransformerEncoderLayer</c>s and <c>nn.TransformerEncoder</c>s, in [0, 1); TorchSharp's default, 0.1.</summary>
    public double TransformerDropout { get; init; } = 0.1;

    /// <summary>The attention dropout of fused <c>nn.MultiheadAttention</c> layers, in [0, 1); TorchSharp's default, 0.</summary>
    public double AttentionDropout { get; init; }

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A dropout probability is outside [0, 1).</exception>
    public void Validate()
    {
        if (!(TransformerDropout >= 0 && TransformerDropout < 1))
        {
            throw new ArgumentException($"TransformerDropout must be in [0, 1), got {TransformerDropout}.", nameof(TransformerDropout));
        }

        if (!(AttentionDropout >= 0 && AttentionDropout < 1))
        {
            throw new ArgumentException($"AttentionDropout must be in [0, 1), got {AttentionDropout}.", nameof(AttentionDropout));
        }
    }
}
