using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>
/// The Gaussian sum query with a clip norm that follows a quantile of the per-example gradient norms (Andrew, Thakkar,
/// McMahan and Ramaswamy, "Differentially Private Learning with Adaptive Clipping", NeurIPS 2021; TF Privacy's
/// <c>QuantileAdaptiveClipSumQuery</c>). Each step clips at the current C (flat), releases the noised sum, and also
/// releases a noised count of the records whose norm was at most C; the clip norm then moves towards the
/// <see cref="TargetUnclippedQuantile"/>: C ← C·exp(−η(b̃ − γ)) (geometric, the default) or C ← max(0, C − η(b̃ − γ)),
/// where b̃ is the noised fraction of unclipped records.
/// </summary>
/// <remarks>
/// <para>The count: every record contributes b − ½ (b = 1 when its norm ≤ C), sensitivity ½, noise N(0, σ_b²) with
/// σ_b = <see cref="ClippedCountStddev"/>, and b̃ = (Σ(b − ½) + noise)/<see cref="ExpectedNumRecords"/> + ½. Andrew et
/// al. suggest σ_b = expected batch size / 20.</para>
/// <para>Accounting: <see cref="NoiseMultiplier"/> is the accounted σ of the whole step. The sum and the count are two
/// Gaussian mechanisms on the same sample, with noise multipliers σ_sum and σ_count = 2σ_b; together they are exactly
/// one Gaussian mechanism with σ^−2 = σ_sum^−2 + σ_count^−2. The sum is therefore noised at
/// σ_sum = (σ^−2 − σ_count^−2)^−1/2, slightly above σ, so that each step is accounted as PoissonSampled(q, Gaussian(σ)),
/// the event of a plain Gaussian sum query with the same σ: adaptive clipping costs no extra ε, only a little more noise
/// on the sum (Andrew et al. §3.1). It requires σ_count &gt; σ.</para>
/// </remarks>
public sealed class QuantileAdaptiveClipSumQuery : IDpQuery
{
    private readonly double? _releaseClip;

    /// <summary>Creates the query.</summary>
    /// <param name="initialClip">C before the first step, ≥ 0 and finite.</param>
    /// <param name="noiseMultiplier">σ, the accounted noise multiplier of a step, &gt; 0 (0 only with <paramref name="allowNoNoise"/>).</param>
    /// <param name="targetUnclippedQuantile">γ ∈ [0, 1], the share of records the clip norm should leave unclipped (0.5: the median).</param>
    /// <param name="learningRate">η ≥ 0 (0: a fixed clip).</param>
    /// <param name="clippedCountStddev">σ_b ≥ 0, the noise of the count; with σ &gt; 0 it must make 2σ_b &gt; σ.</param>
    /// <param name="expectedNumRecords">The public divisor of the count, &gt; 0: the expected batch size.</param>
    /// <param name="geometricUpdate">True (default): multiplicative updates; false: additive.</param>
    /// <param name="allowNoNoise">Accept σ = 0 (and σ_b = 0): no privacy, accounted as non-private (tests, debugging).</param>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public QuantileAdaptiveClipSumQuery(
        double initialClip,
        double noiseMultiplier,
        double targetUnclippedQuantile,
        double learningRate,
        double clippedCountStddev,
        double expectedNumRecords,
        bool geometricUpdate = true,
        bool allowNoNoise = false)
    {
        if (!(initialClip >= 0 && double.IsFinite(initialClip)))
        {
            throw new ArgumentException($"The initial clip norm must be finite and ≥ 0 (got {initialClip}).", nameof(initialClip));
        }

        if (!(double.IsFinite(noiseMultiplier) && (noiseMultiplier > 0 || (allowNoNoise && noiseMultiplier == 0))))
        {
            throw new ArgumentException($"The noise multiplier must be a finite number > 0 (got {noiseMultiplier}; 0 needs the explicit no-noise opt-in).", nameof(noiseMultiplier));
        }

        if (!(targetUnclippedQuantile >= 0 && targetUnclippedQuantile <= 1))
        {
            throw new ArgumentException($"The target unclipped quantile must be in [0, 1] (got {targetUnclippedQuantile}).", nameof(targetUnclippedQuantile));
        }

        if (!(learningRate >= 0 && double.IsFinite(learningRate)))
        {
            throw new ArgumentException($"The clip learning rate must be finite and ≥ 0 (got {learningRate}).", nameof(learningRate));
        }

        if (!(clippedCountStddev >= 0 && double.IsFinite(clippedCountStddev)))
        {
            throw new ArgumentException($"The count's noise must be finite and ≥ 0 (got {clippedCountStddev}).", nameof(clippedCountStddev));
        }

        if (!(expectedNumRecords > 0 && double.IsFinite(expectedNumRecords)))
        {
            throw new ArgumentException($"The expected number of records must be finite and > 0 (got {expectedNumRecords}).", nameof(expectedNumRecords));
        }

        if (noiseMultiplier > 0 && !(2 * clippedCountStddev > noiseMultiplier))
        {
            throw new ArgumentException(
                $"The count's noise multiplier 2σ_b = {2 * clippedCountStddev} must exceed σ = {noiseMultiplier}: the count's release is paid out of σ " +
                "(Andrew et al. suggest σ_b = expected batch size / 20).",
                nameof(clippedCountStddev));
        }

        InitialClip = initialClip;
        NoiseMultiplier = noiseMultiplier;
        TargetUnclippedQuantile = targetUnclippedQuantile;
        LearningRate = learningRate;
        ClippedCountStddev = clippedCountStddev;
        ExpectedNumRecords = expectedNumRecords;
        GeometricUpdate = geometricUpdate;
        AllowNoNoise = allowNoNoise;
        SumNoiseMultiplier = noiseMultiplier == 0
            ? 0
            : 1 / Math.Sqrt((1 / (noiseMultiplier * noiseMultiplier)) - (1 / (4 * clippedCountStddev * clippedCountStddev)));
    }

    /// <summary>C before the first step.</summary>
    public double InitialClip { get; }

    /// <inheritdoc />
    /// <remarks>The accounted σ of a step (sum and count together).</remarks>
    public double NoiseMultiplier { get; }

    /// <summary>σ_sum = (σ^−2 − (2σ_b)^−2)^−1/2: the sum's noise is σ_sum·C.</summary>
    public double SumNoiseMultiplier { get; }

    /// <summary>γ, the target share of unclipped records.</summary>
    public double TargetUnclippedQuantile { get; }

    /// <summary>η, the clip norm's learning rate.</summary>
    public double LearningRate { get; }

    /// <summary>σ_b, the standard deviation of the count's noise.</summary>
    public double ClippedCountStddev { get; }

    /// <summary>The public divisor of the count.</summary>
    public double ExpectedNumRecords { get; }

    /// <summary>Whether updates are multiplicative.</summary>
    public bool GeometricUpdate { get; }

    /// <summary>Whether σ = 0 was allowed.</summary>
    public bool AllowNoNoise { get; }

    /// <summary>
    /// Null (the default, TF Privacy's behaviour): the released sum is in gradient units, so the size of a step grows with
    /// the current clip C. A value R &gt; 0: the released sum is multiplied by R/C (post-processing, no privacy cost), as if
    /// every record had been clipped at the fixed norm R with the threshold still at C. The step size then no longer
    /// depends on where the clip has moved (the noise's standard deviation is σ_sum·R): the clip only decides which
    /// records are clipped, and the learning rate keeps its meaning for any starting clip.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not finite and &gt; 0.</exception>
    public double? ReleaseClip
    {
        get => _releaseClip;
        init
        {
            if (value is { } r && !(r > 0 && double.IsFinite(r)))
            {
                throw new ArgumentOutOfRangeException(nameof(value), r, "The release clip must be a finite number > 0 (or null).");
            }

            _releaseClip = value;
        }
    }

    /// <inheritdoc />
    public IDpQuery WithNoiseMultiplier(double noiseMultiplier) =>
        new QuantileAdaptiveClipSumQuery(InitialClip, noiseMultiplier, TargetUnclippedQuantile, LearningRate, ClippedCountStddev, ExpectedNumRecords, GeometricUpdate, AllowNoNoise)
        {
            ReleaseClip = ReleaseClip,
        };

    /// <inheritdoc />
    /// <remarks>steps × PoissonSampled(q, Gaussian(σ)): the sum and the count together, as one Gaussian.</remarks>
    public DpEvent PlannedEvent(double samplingProbability, long steps) =>
        NoiseMultiplier == 0 ? new NonPrivateDpEvent() : new SelfComposedDpEvent(StepEvent(samplingProbability), steps);

    /// <inheritdoc />
    /// <remarks>The global state is the current clip norm C (a <see cref="double"/>).</remarks>
    public object? InitialGlobalState() => InitialClip;

    /// <inheritdoc />
    public DpSampleParameters DeriveSampleParameters(object? globalState, DpStepInfo stepInfo) => new(ClippingOptions.Flat(Clip(globalState)));

    /// <inheritdoc />
    public DpQueryState InitialSampleState(DpSampleParameters parameters) => new CountingState();

    /// <inheritdoc />
    public void Accumulate(DpQueryState state, DpSampleParameters parameters, ClippedSumResult clipped)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(clipped);
        state.Add(clipped.Gradients, clipped.BatchSize);
        var c = parameters.RecordClipping.MaxGradNorm;
        ((CountingState)state).Unclipped += clipped.PerExampleNorms.le(c).sum().item<long>();
    }

    /// <inheritdoc />
    /// <remarks>Adds N(0, (σ_sum·C)²) to every coordinate of the sum and N(0, σ_b²) to the centred count; the next global
    /// state is the updated clip norm; the event is PoissonSampled(q, Gaussian(σ)).</remarks>
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
        var clip = Clip(globalState);
        var sum = GaussianSumQuery.AddNoise(state, gate, shapes, SumNoiseMultiplier * clip);
        if (ReleaseClip is { } release && clip > 0)
        {
            foreach (var tensor in sum.Values)
            {
                tensor.mul_(release / clip);
            }
        }
        var counting = (CountingState)state;
        double centred;
        using (var count = torch.tensor(new[] { counting.Unclipped - (0.5 * counting.RecordCount) }, ScalarType.Float64))
        using (var noised = gate.AddGaussians([(count, [1L], ScalarType.Float64, null)], ClippedCountStddev)[0])
        {
            centred = noised.item<double>();
        }

        var unclippedFraction = (centred / ExpectedNumRecords) + 0.5;
        var step = LearningRate * (unclippedFraction - TargetUnclippedQuantile);
        var next = GeometricUpdate ? clip * Math.Exp(-step) : Math.Max(0, clip - step);
        return new DpQueryRelease(sum, next, StepEvent(stepInfo.SamplingProbability));
    }

    private static double Clip(object? globalState) => globalState switch
    {
        double c => c,
        _ => throw new ArgumentException("The global state of the adaptive clip query is the clip norm (a double).", nameof(globalState)),
    };

    private DpEvent StepEvent(double samplingProbability) =>
        NoiseMultiplier == 0 ? new NonPrivateDpEvent() : new PoissonSampledDpEvent(samplingProbability, new GaussianDpEvent(NoiseMultiplier));

    private sealed class CountingState : DpQueryState
    {
        public long Unclipped { get; set; }
    }
}
