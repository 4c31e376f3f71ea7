using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>
/// The Gaussian sum query of DP-SGD (Abadi et al. 2016): records clipped to L2 norm C are summed and every coordinate of
/// the sum receives independent N(0, (σ·C)²) noise. Emits <see cref="GaussianDpEvent"/>(σ) per release (σ/2 when records
/// are microbatches).
/// </summary>
/// <remarks>
/// With per-layer clipping (thresholds C_l), a whole clipped record has norm at most C = sqrt(Σ_l C_l²), which is the
/// sensitivity used for the noise.
/// </remarks>
public sealed class GaussianSumQuery : IDpQuery
{
    /// <summary>Creates the query.</summary>
    /// <param name="recordClipping">The clipping of each record; every threshold must be finite (an unbounded record has unbounded sensitivity).</param>
    /// <param name="noiseMultiplier">σ &gt; 0, finite (0 only with <paramref name="allowNoNoise"/>).</param>
    /// <param name="recordsAreMicrobatches">
    /// True when each record is the clipped gradient of a microbatch (TF Privacy's num_microbatches). One example then
    /// changes its microbatch's record from one vector of norm ≤ C to another, so the sum moves by up to 2C: the release
    /// is accounted as <c>GaussianDpEvent(σ/2)</c>, as TF Privacy's compute_dp_sgd_privacy does for microbatching.
    /// </param>
    /// <param name="allowNoNoise">Accept σ = 0: a clipping-only query for debugging, accounted as <see cref="NonPrivateDpEvent"/> (ε = ∞).</param>
    /// <exception cref="ArgumentException">A threshold is infinite, or σ is out of range.</exception>
    public GaussianSumQuery(ClippingOptions recordClipping, double noiseMultiplier, bool recordsAreMicrobatches = false, bool allowNoNoise = false)
    {
        ArgumentNullException.ThrowIfNull(recordClipping);
        recordClipping.Validate();
        var valid = double.IsFinite(noiseMultiplier) && (noiseMultiplier > 0 || (allowNoNoise && noiseMultiplier == 0));
        if (!valid)
        {
            throw new ArgumentOutOfRangeException(
                nameof(noiseMultiplier),
                noiseMultiplier,
                "The noise multiplier must be a finite number > 0 (σ = 0, clipping only, needs the explicit no-noise opt-in).");
        }

        Sensitivity = recordClipping.Sensitivity;
        if (!(Sensitivity > 0 && double.IsFinite(Sensitivity)))
        {
            throw new ArgumentException(
                $"The clipping bound must be finite and > 0 for a private sum (got sensitivity {Sensitivity}).", nameof(recordClipping));
        }

        RecordClipping = recordClipping;
        NoiseMultiplier = noiseMultiplier;
        RecordsAreMicrobatches = recordsAreMicrobatches;
        AllowNoNoise = allowNoNoise;
    }

    /// <summary>Whether records are microbatch gradients (accounted with σ/2).</summary>
    public bool RecordsAreMicrobatches { get; }

    /// <summary>Whether σ = 0 was allowed (clipping-only debugging).</summary>
    public bool AllowNoNoise { get; }

    /// <summary>The mechanism of one release: Gaussian(σ), Gaussian(σ/2) for microbatch records, non-private for σ = 0.</summary>
    public DpEvent Mechanism => NoiseMultiplier == 0
        ? new NonPrivateDpEvent()
        : new GaussianDpEvent(RecordsAreMicrobatches ? NoiseMultiplier / 2 : NoiseMultiplier);

    /// <summary>The clipping of each record.</summary>
    public ClippingOptions RecordClipping { get; }

    /// <inheritdoc />
    public double NoiseMultiplier { get; }

    /// <summary>The L2 sensitivity of the sum: C (flat) or sqrt(Σ C_l²) (per layer).</summary>
    public double Sensitivity { get; }

    /// <summary>The noise standard deviation σ·C added to every coordinate of the sum.</summary>
    public double NoiseStandardDeviation => NoiseMultiplier * Sensitivity;

    /// <inheritdoc />
    public IDpQuery WithNoiseMultiplier(double noiseMultiplier) =>
        new GaussianSumQuery(RecordClipping, noiseMultiplier, RecordsAreMicrobatches, AllowNoNoise);

    /// <inheritdoc />
    /// <remarks>steps × PoissonSampled(q, <see cref="Mechanism"/>); a run without noise is non-private.</remarks>
    public DpEvent PlannedEvent(double samplingProbability, long steps) =>
        NoiseMultiplier == 0 ? new NonPrivateDpEvent() : new SelfComposedDpEvent(StepEvent(samplingProbability), steps);

    /// <inheritdoc />
    /// <remarks>The Gaussian sum query has no global state.</remarks>
    public object? InitialGlobalState() => null;

    /// <inheritdoc />
    public DpSampleParameters DeriveSampleParameters(object? globalState, DpStepInfo stepInfo) => new(RecordClipping);

    /// <inheritdoc />
    public DpQueryState InitialSampleState(DpSampleParameters parameters) => new();

    /// <inheritdoc />
    public void Accumulate(DpQueryState state, DpSampleParameters parameters, ClippedSumResult clipped)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(clipped);
        state.Add(clipped.Gradients, clipped.BatchSize);
    }

    /// <inheritdoc />
    /// <remarks>Adds N(0, (σ·C)²) to every coordinate; the event is PoissonSampled(q, <see cref="Mechanism"/>).</remarks>
    public DpQueryRelease GetNoisedResult(
        DpQueryState state,
        object? globalState,
        DpStepInfo stepInfo,
        NoiseGate gate,
        IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(stepInfo);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(shapes);
        return new DpQueryRelease(AddNoise(state, gate, shapes, NoiseStandardDeviation), null, StepEvent(stepInfo.SamplingProbability));
    }

    /// <summary>
    /// Σ + N(0, std²) for every entry of <paramref name="shapes"/> (pure noise where nothing was accumulated), released
    /// through <see cref="NoiseGate.AddGaussians"/> (with its floating-point defence for a secure gate). A building block
    /// for custom queries.
    /// </summary>
    /// <param name="state">The accumulated sums.</param>
    /// <param name="gate">The noise source.</param>
    /// <param name="shapes">Everything to release.</param>
    /// <param name="standardDeviation">The noise standard deviation, ≥ 0.</param>
    /// <returns>Parameter name → noised sum, in the current dispose scope.</returns>
    public static Dictionary<string, Tensor> AddNoise(
        DpQueryState state,
        NoiseGate gate,
        IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes,
        double standardDeviation)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(shapes);
        var entries = shapes.ToList();
        var released = gate.AddGaussians(
            entries.Select(e => (state.Sums.GetValueOrDefault(e.Key), e.Value.Shape, e.Value.Type, (Device?)e.Value.Device)).ToList(),
            standardDeviation);
        var noised = new Dictionary<string, Tensor>(shapes.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            noised[entries[i].Key] = released[i];
        }

        return noised;
    }

    private DpEvent StepEvent(double samplingProbability) =>
        NoiseMultiplier == 0 ? new NonPrivateDpEvent() : new PoissonSampledDpEvent(samplingProbability, Mechanism);
}
