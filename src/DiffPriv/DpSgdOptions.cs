using DiffPriv.Accounting;
using DiffPriv.PerSample;

namespace DiffPriv;

/// <summary>The hyperparameters of DP-SGD: clipping norm, noise multiplier and batch sampling.</summary>
public sealed record DpSgdOptions
{
    /// <summary>C: the L2 bound on each example's gradient (TF Privacy's l2_norm_clip); finite, &gt; 0.</summary>
    public required double MaxGradNorm { get; init; }

    /// <summary>σ: noise std divided by C; finite, &gt; 0. Set by <see cref="PrivacyEngine.MakePrivateWithEpsilon"/> when calibrating.</summary>
    public double NoiseMultiplier { get; init; } = double.NaN;

    /// <summary>B: the expected batch size; each example joins a batch with probability q = B/N. 1 ≤ B ≤ N.</summary>
    public required double ExpectedBatchSize { get; init; }

    /// <summary>The largest physical batch run at once (memory bound); ≥ 1. Logical batches are split into chunks of this size.</summary>
    public long MaxPhysicalBatchSize { get; init; } = 512;

    /// <summary>Optional per-layer thresholds (layer path → C_l); when set, clipping is per layer and <see cref="MaxGradNorm"/> is unused.</summary>
    public IReadOnlyDictionary<string, double>? LayerMaxGradNorms { get; init; }

    /// <summary>
    /// TF Privacy's num_microbatches: 0 (the default) clips every example's gradient; M ≥ 1 assigns every example of the
    /// dataset to one of M fixed slots (index mod M) and clips, per step, the gradient of each slot's mean loss over its
    /// sampled examples. Fixed slots keep one example's influence on one record (sensitivity 2C, accounted as σ/2);
    /// grouping by position in the batch would not. Mostly useful to match TF Privacy runs; per-example clipping is tighter.
    /// </summary>
    public long Microbatches { get; init; }

    /// <summary>The accountant that reports ε.</summary>
    public AccountantKind Accountant { get; init; } = AccountantKind.Pld;

    /// <summary>
    /// Null (the default): noise and sampling come from the OS CSPRNG. A value: a seeded, reproducible generator — for
    /// tests and replayable experiments only (anyone who knows the seed can remove the noise).
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>Per-example gradient method and memory budget.</summary>
    public GradSampleOptions GradSample { get; init; } = new();

    /// <summary>The per-example gradient methods per layer type (add your own layer types here).</summary>
    public GradSamplerRegistry Registry { get; init; } = GradSamplerRegistry.Default;

    /// <summary>The clipping this configuration implies.</summary>
    public ClippingOptions Clipping => LayerMaxGradNorms is { } perLayer ? ClippingOptions.PerLayer(perLayer) : ClippingOptions.Flat(MaxGradNorm);

    /// <summary>Checks every value against the dataset size.</summary>
    /// <param name="datasetSize">N ≥ 1.</param>
    /// <param name="requireNoiseMultiplier">Whether σ must be set.</param>
    /// <exception cref="ArgumentException">A value is out of range; the message names it and the valid range.</exception>
    public void Validate(long datasetSize, bool requireNoiseMultiplier = true)
    {
        if (LayerMaxGradNorms is null && !(MaxGradNorm > 0 && double.IsFinite(MaxGradNorm)))
        {
            throw new ArgumentException($"MaxGradNorm (C) must be a finite number > 0 (got {MaxGradNorm}).");
        }

        if (LayerMaxGradNorms is { } layers && layers.Any(kv => !(kv.Value > 0 && double.IsFinite(kv.Value))))
        {
            throw new ArgumentException("Every value of LayerMaxGradNorms (C_l) must be a finite number > 0.");
        }

        if (requireNoiseMultiplier && !(NoiseMultiplier > 0 && double.IsFinite(NoiseMultiplier)))
        {
            throw new ArgumentException($"NoiseMultiplier (σ) must be a finite number > 0 (got {NoiseMultiplier}).");
        }

        if (datasetSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(datasetSize), datasetSize, "The dataset must have at least one example.");
        }

        if (!(ExpectedBatchSize >= 1 && ExpectedBatchSize <= datasetSize))
        {
            throw new ArgumentException($"ExpectedBatchSize (B) must be in [1, N = {datasetSize}] (got {ExpectedBatchSize}).");
        }

        if (Microbatches < 0 || Microbatches > ExpectedBatchSize)
        {
            throw new ArgumentException($"Microbatches must be 0 (per-example clipping) or in [1, ExpectedBatchSize = {ExpectedBatchSize}] (got {Microbatches}).");
        }

        if (MaxPhysicalBatchSize < 1)
        {
            throw new ArgumentException($"MaxPhysicalBatchSize must be ≥ 1 (got {MaxPhysicalBatchSize}).");
        }
        GradSample.Validate();
    }
}
