namespace DiffPriv.PerSample;

/// <summary>The clipping thresholds of a step. Build with <see cref="Flat"/> or <see cref="PerLayer"/>.</summary>
public sealed record ClippingOptions
{
    /// <summary>Flat or per-layer clipping.</summary>
    public required ClippingMode Mode { get; init; }

    /// <summary>
    /// C for <see cref="ClippingMode.Flat"/>: the L2 bound on each per-example gradient, ≥ 0; +∞ disables clipping.
    /// </summary>
    public double MaxGradNorm { get; init; } = double.PositiveInfinity;

    /// <summary>
    /// C_l for <see cref="ClippingMode.PerLayer"/>, keyed by layer path (the module path, e.g. <c>features.0</c>, as in
    /// <see cref="GradSampleHooks.LayerPaths"/>); each ≥ 0, +∞ allowed. Every trainable layer needs an entry.
    /// </summary>
    public IReadOnlyDictionary<string, double>? LayerMaxGradNorms { get; init; }

    /// <summary>Flat clipping at <paramref name="maxGradNorm"/>.</summary>
    /// <param name="maxGradNorm">C ≥ 0; <see cref="double.PositiveInfinity"/> means no clipping.</param>
    /// <returns>The options.</returns>
    public static ClippingOptions Flat(double maxGradNorm) => new ClippingOptions { Mode = ClippingMode.Flat, MaxGradNorm = maxGradNorm }.Validated();

    /// <summary>Per-layer clipping with one threshold per layer path.</summary>
    /// <param name="layerMaxGradNorms">Layer path → C_l ≥ 0.</param>
    /// <returns>The options.</returns>
    public static ClippingOptions PerLayer(IReadOnlyDictionary<string, double> layerMaxGradNorms) =>
        new ClippingOptions { Mode = ClippingMode.PerLayer, LayerMaxGradNorms = layerMaxGradNorms }.Validated();

    /// <summary>Checks the thresholds.</summary>
    /// <exception cref="ArgumentException">A threshold is negative or NaN, or the per-layer table is missing.</exception>
    public void Validate()
    {
        switch (Mode)
        {
            case ClippingMode.Flat:
                CheckThreshold(MaxGradNorm, nameof(MaxGradNorm));
                break;
            case ClippingMode.PerLayer:
                if (LayerMaxGradNorms is null)
                {
                    throw new ArgumentException("Per-layer clipping needs LayerMaxGradNorms (layer path → C).", nameof(LayerMaxGradNorms));
                }

                foreach (var (layer, c) in LayerMaxGradNorms)
                {
                    CheckThreshold(c, $"{nameof(LayerMaxGradNorms)}[{layer}]");
                }

                break;
            default:
                throw new ArgumentException($"Unknown clipping mode {Mode}.", nameof(Mode));
        }
    }

    private ClippingOptions Validated()
    {
        Validate();
        return this;
    }

    private static void CheckThreshold(double c, string name)
    {
        if (double.IsNaN(c) || c < 0)
        {
            throw new ArgumentException($"{name} must be ≥ 0 (or +∞ for no clipping), got {c}.", name);
        }
    }
}
