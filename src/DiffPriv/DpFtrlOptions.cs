using DiffPriv.Accounting;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv;

/// <summary>
/// The hyperparameters of DP-FTRL (Kairouz et al. 2021): clipping, the noise multiplier of the tree nodes, the fixed
/// batch size and the passes over the data. There is no sampling probability: batches are fixed-size slices of a shuffled
/// order, and the guarantee holds under the replace-special relation.
/// </summary>
public sealed record DpFtrlOptions
{
    /// <summary>How each per-example gradient is clipped: <see cref="ClippingOptions.Flat"/>, <see cref="ClippingOptions.PerLayer"/>
    /// or <see cref="ClippingOptions.Automatic"/>, with finite thresholds (the sensitivity C of a step's sum).</summary>
    public required ClippingOptions Clipping { get; init; }

    /// <summary>B: every batch has B examples (the last of a pass the remainder); the noised sum is divided by B. 1 ≤ B ≤ N.</summary>
    public required long BatchSize { get; init; }

    /// <summary>
    /// The passes over the data (fractions allowed): ⌈epochs·N/B⌉ steps, ⌈N/B⌉ per pass (see <see cref="StepSchedule"/>). The
    /// tree restarts with every pass, so the run is ⌈epochs⌉ trees. Finite, &gt; 0.
    /// </summary>
    public required double Epochs { get; init; }

    /// <summary>
    /// σ: every tree node has noise standard deviation σ·C; finite, &gt; 0. Set by <c>PrivacyEngine.MakePrivateFtrlWithEpsilon</c>
    /// when calibrating.
    /// </summary>
    public double NoiseMultiplier { get; init; } = double.NaN;

    /// <summary>Honaker's efficient tree (the default: smaller noise, same privacy) instead of the plain tree.</summary>
    public bool EfficientTree { get; init; } = true;

    /// <summary>Where batches are placed (null: where the data are).</summary>
    public Device? Device { get; init; }

    /// <summary>The largest physical batch run at once (memory bound); ≥ 1.</summary>
    public long MaxPhysicalBatchSize { get; init; } = 512;

    /// <summary>
    /// Null (the default): noise and shuffling come from the OS CSPRNG. A value: a seeded, reproducible generator — for
    /// tests and replayable experiments only (anyone who knows the seed can remove the noise).
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>Per-example gradient method and memory budget.</summary>
    public GradSampleOptions GradSample { get; init; } = new();

    /// <summary>The per-example gradient methods per layer type.</summary>
    public GradSamplerRegistry Registry { get; init; } = GradSamplerRegistry.Default;

    /// <summary>The plan for <paramref name="datasetSize"/> examples: ⌈epochs·N/B⌉ steps.</summary>
    /// <param name="datasetSize">N.</param>
    /// <returns>The schedule.</returns>
    public StepSchedule Schedule(long datasetSize) => StepSchedule.FromEpochs(datasetSize, BatchSize, Epochs);

    /// <summary>Checks every value against the dataset size.</summary>
    /// <param name="datasetSize">N ≥ 1.</param>
    /// <param name="requireNoiseMultiplier">Whether σ must be set.</param>
    /// <exception cref="ArgumentException">A value is out of range; the message names it and the valid range.</exception>
    public void Validate(long datasetSize, bool requireNoiseMultiplier = true)
    {
        if (Clipping is null)
        {
            throw new ArgumentException("Clipping must be set (e.g. ClippingOptions.Flat(1.0)).");
        }

        Clipping.Validate();
        var c = Clipping.Sensitivity;
        if (!(c > 0 && double.IsFinite(c)))
        {
            throw new ArgumentException($"The clipping bound must be finite and > 0 for a private sum (got sensitivity {c}).");
        }

        if (requireNoiseMultiplier && !(NoiseMultiplier > 0 && double.IsFinite(NoiseMultiplier)))
        {
            throw new ArgumentException($"NoiseMultiplier (σ) must be a finite number > 0 (got {NoiseMultiplier}).");
        }

        if (!(Epochs > 0 && double.IsFinite(Epochs)))
        {
            throw new ArgumentException($"Epochs must be a finite number > 0 (got {Epochs}).");
        }

        if (datasetSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(datasetSize), datasetSize, "The dataset must have at least one example.");
        }

        if (BatchSize < 1 || BatchSize > datasetSize)
        {
            throw new ArgumentException($"BatchSize (B) must be in [1, N = {datasetSize}] (got {BatchSize}).");
        }

        if (MaxPhysicalBatchSize < 1)
        {
            throw new ArgumentException($"MaxPhysicalBatchSize must be ≥ 1 (got {MaxPhysicalBatchSize}).");
        }

        GradSample.Validate();
    }
}
