namespace DiffPriv.PerSample;

/// <summary>The clipping thresholds of a step. Build with <see cref="Flat"/>, <see cref="PerLayer"/> or <see cref="Automatic"/>.</summary>
public sealed record ClippingOptions
{
    /// <summary>Flat or per-layer clipping.</summary>
    public required ClippingMode Mode { get; init; }

    /// <summary>
    /// C for <see cref="ClippingMode.Flat"/>: the L2 bound on each per-example gradient, ≥ 0; +∞ disables clipping. For
    /// <see cref="ClippingMode.Automatic"/>: the norm every gradient is scaled to (nearly), finite and &gt; 0.
    /// </summary>
    public double MaxGradNorm { get; init; } = double.PositiveInfinity;

    /// <summary>
    /// C_l for <see cref="ClippingMode.PerLayer"/>, keyed by layer path (the module path, e.g. <c>features.0</c>, as in
    /// <see cref="GradSampleHooks.LayerPaths"/>); each ≥ 0, +∞ allowed. Every trainable layer needs an entry.
    /// </summary>
    public IReadOnlyDictionary<string, double>? LayerMaxGradNorms { get; init; }

    /// <summary>γ &gt; 0 for <see cref="ClippingMode.Automatic"/>: the stability constant of g·C/(‖g‖ + γ). Default 0.01, Bu et al.'s.</summary>
    public double StabilityConstant { get; init; } = DefaultStabilityConstant;

    /// <summary>Bu et al.'s stability constant γ = 0.01.</summary>
    public const double DefaultStabilityConstant = 0.01;

    /// <summary>Whether one factor scales the whole per-example gradient (flat or automatic), not one per layer.</summary>
    internal bool IsWholeGradient => Mode != ClippingMode.PerLayer;

    /// <summary>
    /// The L2 sensitivity of a sum of clipped records: C (flat: ‖c·g‖ ≤ C; automatic: ‖C·g/(‖g‖ + γ)‖ &lt; C) or √Σ C_l²
    /// (per layer).
    /// </summary>
    internal double Sensitivity => IsWholeGradient ? MaxGradNorm : Math.Sqrt(LayerMaxGradNorms!.Values.Sum(c => c * c));

    /// <summary>Automatic clipping: every per-example gradient g becomes g·<paramref name="scale"/>/(‖g‖ + <paramref name="stabilityConstant"/>).</summary>
    /// <param name="scale">C, finite and &gt; 0 (default 1): the sensitivity, and the norm a large gradient is scaled to.</param>
    /// <param name="stabilityConstant">γ, finite and &gt; 0 (default 0.01).</param>
    /// <returns>The options.</returns>
    public static ClippingOptions Automatic(double scale = 1.0, double stabilityConstant = DefaultStabilityConstant) =>
        new ClippingOptions { Mode = ClippingMode.Automatic, MaxGradNorm = scale, StabilityConstant = stabilityConstant }.Validated();

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
            case ClippingMode.Automatic:
                if (!(MaxGradNorm > 0 && double.IsFinite(MaxGradNorm)))
                {
                    throw new ArgumentException($"Automatic clipping needs a finite scale C > 0, got {MaxGradNorm}.", nameof(MaxGradNorm));
                }

                if (!(StabilityConstant > 0 && double.IsFinite(StabilityConstant)))
                {
                    throw new ArgumentException($"Automatic clipping needs a finite stability constant γ > 0, got {StabilityConstant}.", nameof(StabilityConstant));
                }

                break;
            default:
                throw new ArgumentException($"Unknown clipping mode {Mode}.", nameof(Mode));
        }
    }

    /// <summary>The factor of a whole per-example gradient of norm <paramref name="norm"/> (flat or automatic).</summary>
    internal double Factor(double norm) => Mode == ClippingMode.Automatic
        ? MaxGradNorm / (norm + StabilityConstant)
        : ClipFactor(norm, MaxGradNorm);

    /// <summary>min(1, C/(‖g‖ + 1e-6)): the factor of a gradient of norm <paramref name="norm"/> clipped at <paramref name="maxGradNorm"/>.</summary>
    internal static double ClipFactor(double norm, double maxGradNorm) => Math.Min(1.0, maxGradNorm / (norm + 1e-6));

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
