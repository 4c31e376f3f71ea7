namespace DiffPriv.PerSample;

/// <summary>How per-example gradients are clipped.</summary>
public enum ClippingMode
{
    /// <summary>One threshold C on the norm of the whole per-example gradient (all layers together).</summary>
    Flat,

    /// <summary>
    /// One threshold C_l per layer, each applied to the norm of that layer's part of the per-example gradient. The whole
    /// clipped per-example gradient then has norm at most sqrt(Σ_l C_l²), the sensitivity to use for the noise.
    /// </summary>
    PerLayer,
}

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
    /// <see cref="GradSampleModule.LayerPaths"/>); each ≥ 0, +∞ allowed. Every trainable layer needs an entry.
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

/// <summary>Options of a <see cref="GradSampleModule"/>.</summary>
public sealed record GradSampleModuleOptions
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
