using DiffPriv.Accounting;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv;

/// <summary>The hyperparameters of DP-SGD: clipping norm, noise multiplier and batch sampling.</summary>
public sealed record DpSgdOptions
{
    /// <summary>C: the L2 bound on each example's gradient (TF Privacy's l2_norm_clip); finite, &gt; 0.</summary>
    public required double MaxGradNorm { get; init; }

    /// <summary>
    /// σ: noise std divided by C; finite, &gt; 0 (0 only with <see cref="AllowNoNoise"/>). Set by
    /// <c>PrivacyEngine.MakePrivateWithEpsilon</c> when calibrating.
    /// </summary>
    public double NoiseMultiplier { get; init; } = double.NaN;

    /// <summary>
    /// The planned number of epochs (fractions allowed): ⌈epochs·N/B⌉ steps, see <see cref="StepSchedule"/>. The loader's
    /// epochs then end exactly there and a step beyond it throws <see cref="StepPlanExceededException"/>. Null (the
    /// default, unless <see cref="Steps"/> is set): no plan and no guard. <c>MakePrivateWithEpsilon</c> sets it.
    /// </summary>
    public double? Epochs { get; init; }

    /// <summary>The planned number of steps, instead of <see cref="Epochs"/> (at most one of the two may be set); ≥ 1.</summary>
    public long? Steps { get; init; }

    /// <summary>
    /// Allow steps past the plan (<see cref="Epochs"/>/<see cref="Steps"/>). Their cost is recorded like any other, so ε
    /// grows beyond the target; off by default.
    /// </summary>
    public bool ContinueBeyondPlan { get; init; }

    /// <summary>
    /// Debugging only: accept σ = 0, i.e. clipping without noise. Every step is then recorded as a
    /// <see cref="Accounting.Events.NonPrivateDpEvent"/> and ε is infinite. Off by default; σ = 0 without it is an error.
    /// </summary>
    public bool AllowNoNoise { get; init; }

    /// <summary>
    /// A custom DP query (e.g. adaptive clipping). Null (the default): the Gaussian sum query built from
    /// <see cref="MaxGradNorm"/>/<see cref="LayerMaxGradNorms"/>, <see cref="NoiseMultiplier"/> and <see cref="Microbatches"/>.
    /// When set, the query decides clipping, noise and accounting, <see cref="NoiseMultiplier"/> is ignored (the query's σ is
    /// used, or calibrated by <c>MakePrivateWithEpsilon</c>), and with microbatches its records are microbatch gradients.
    /// </summary>
    public Queries.IDpQuery? Query { get; init; }

    /// <summary>Where batches are placed (null: where the data are; CPU for data sets read example by example).</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// B: the expected batch size; each example joins a batch with probability q = B/N. 1 ≤ B ≤ N. With
    /// <see cref="PrivacyUnits"/>, B counts units: each unit joins with probability q = B/U, 1 ≤ B ≤ U.
    /// </summary>
    public required double ExpectedBatchSize { get; init; }

    /// <summary>
    /// The privacy unit of every example (user, patient, device): null (the default) protects single examples
    /// (example-level DP). Set, it protects whole units (user-level DP): units are Poisson-sampled with q = B/U
    /// (<see cref="ExpectedBatchSize"/> and the planned <see cref="Epochs"/> count units), each sampled unit's examples make
    /// one record — the gradient of their mean loss — clipped to C as a whole (<see cref="LayerMaxGradNorms"/> and
    /// <see cref="AutomaticClipping"/> apply to that record), and the noised sum is divided by the expected number of units
    /// q·U. Each step is accounted as <c>PoissonSampledDpEvent(q, GaussianDpEvent(σ))</c> with q over units, so ε is per
    /// unit. Train with <c>DpOptimizer.Step(batch, lossFunction)</c>, which keeps each unit's examples together; its
    /// examples must fit in memory at once. Not with <see cref="Microbatches"/>. See <see cref="Data.PrivacyUnits"/>.
    /// </summary>
    public Data.PrivacyUnits? PrivacyUnits { get; init; }

    /// <summary>What one privacy unit is called in reports: <see cref="Data.PrivacyUnits.Name"/> (e.g. "user"), or "example".</summary>
    public string PrivacyUnitName => PrivacyUnits?.Name ?? "example";

    /// <summary>The largest physical batch run at once (memory bound); ≥ 1. Logical batches are split into chunks of this size.</summary>
    public long MaxPhysicalBatchSize { get; init; } = 512;

    /// <summary>Optional per-layer thresholds (layer path → C_l); when set, clipping is per layer and <see cref="MaxGradNorm"/> is unused.</summary>
    public IReadOnlyDictionary<string, double>? LayerMaxGradNorms { get; init; }

    /// <summary>
    /// Automatic clipping (<see cref="ClippingMode.Automatic"/>): every per-example gradient becomes
    /// g·C/(‖g‖ + γ) with C = <see cref="MaxGradNorm"/> and γ = <see cref="ClippingOptions.DefaultStabilityConstant"/>,
    /// instead of being clipped at C. The sensitivity, and so the accounting, is that of flat clipping at C; C then only
    /// scales the update, so there is no threshold to tune (keep C = 1 and tune the learning rate). Not with
    /// <see cref="LayerMaxGradNorms"/>.
    /// </summary>
    public bool AutomaticClipping { get; init; }

    /// <summary>
    /// TF Privacy's num_microbatches: 0 (the default) clips every example's gradient; M ≥ 1 assigns every example of the
    /// dataset to one of M fixed slots (index mod M) and clips, per step, the gradient of each slot's mean loss over its
    /// sampled examples. Fixed slots keep one example's influence on one record (sensitivity 2C, accounted as σ/2);
    /// grouping by position in the batch would not. Mostly useful to match TF Privacy runs; per-example clipping is tighter.
    /// </summary>
    public long Microbatches { get; init; }

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
    public ClippingOptions Clipping => LayerMaxGradNorms is { } perLayer
        ? ClippingOptions.PerLayer(perLayer)
        : AutomaticClipping ? ClippingOptions.Automatic(MaxGradNorm) : ClippingOptions.Flat(MaxGradNorm);

    /// <summary>The plan these options declare for <paramref name="datasetSize"/> examples, or null.</summary>
    /// <param name="datasetSize">N. With <see cref="PrivacyUnits"/> the plan counts units: its N is their number U.</param>
    /// <returns>The schedule from <see cref="Epochs"/> or <see cref="Steps"/>, or null when neither is set.</returns>
    public StepSchedule? Schedule(long datasetSize)
    {
        var population = UnitCount(datasetSize);
        return Epochs is { } epochs ? StepSchedule.FromEpochs(population, ExpectedBatchSize, epochs)
            : Steps is { } steps ? StepSchedule.FromSteps(population, ExpectedBatchSize, steps)
            : null;
    }

    /// <summary>The number of units sampling draws from: U with <see cref="PrivacyUnits"/>, else the N examples.</summary>
    internal long UnitCount(long datasetSize) => PrivacyUnits?.Count ?? datasetSize;

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

        if (AutomaticClipping && LayerMaxGradNorms is not null)
        {
            throw new ArgumentException("AutomaticClipping normalises the whole per-example gradient: it cannot be combined with LayerMaxGradNorms.");
        }

        if (requireNoiseMultiplier && Query is null && !(NoiseMultiplier > 0 && double.IsFinite(NoiseMultiplier)) && !(AllowNoNoise && NoiseMultiplier == 0))
        {
            throw new ArgumentException(
                NoiseMultiplier == 0
                    ? "NoiseMultiplier (σ) is 0: that trains without privacy. For a clipping-only debugging run set AllowNoNoise = true (ε is then infinite)."
                    : $"NoiseMultiplier (σ) must be a finite number > 0 (got {NoiseMultiplier}).");
        }

        if (Epochs is not null && Steps is not null)
        {
            throw new ArgumentException("Set at most one of Epochs and Steps.");
        }

        if (Epochs is { } epochs && !(epochs > 0 && double.IsFinite(epochs)))
        {
            throw new ArgumentException($"Epochs must be a finite number > 0 (got {epochs}).");
        }

        if (Steps is { } steps && steps < 1)
        {
            throw new ArgumentException($"Steps must be ≥ 1 (got {steps}).");
        }

        if (datasetSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(datasetSize), datasetSize, "The dataset must have at least one example.");
        }

        if (PrivacyUnits is { } units)
        {
            if (units.ExampleCount != datasetSize)
            {
                throw new ArgumentException($"PrivacyUnits has keys for {units.ExampleCount} examples, the data set has {datasetSize}: give one key per example.");
            }

            if (Microbatches != 0)
            {
                throw new ArgumentException($"PrivacyUnits already makes one record per {units.Name}; it cannot be combined with Microbatches.");
            }

            if (!(ExpectedBatchSize >= 1 && ExpectedBatchSize <= units.Count))
            {
                throw new ArgumentException(
                    $"ExpectedBatchSize (B) counts {units.Name}s with PrivacyUnits and must be in [1, U = {units.Count}] (got {ExpectedBatchSize}).");
            }
        }
        else if (!(ExpectedBatchSize >= 1 && ExpectedBatchSize <= datasetSize))
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
