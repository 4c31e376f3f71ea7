using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>
/// Wraps a DP query to audit it in one training run (Steinke, Nasr &amp; Jagielski 2023, white-box gradient canaries):
/// at every release, each included canary of <see cref="Canaries"/> is Poisson-sampled with the step's sampling
/// probability q, exactly as a training example would be, and the sampled canaries' records (C at their coordinate) are
/// added to the clipped sum before the inner query adds noise; then every canary's coordinate of the release is added
/// to its score.
/// </summary>
/// <remarks>
/// <para>A canary is one more record of norm C, so the run with canaries is the same mechanism on a data set with the
/// included canaries added: the inner query's events (and ε) describe it unchanged. The canary draws come from the noise
/// gate, like the examples' sampling.</para>
/// <para>For audits and tests: the canaries shift the model update, so do not ship a model trained with them.</para>
/// </remarks>
public sealed class CanaryGradientQuery : IDpQuery
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The query to audit, e.g. <see cref="GaussianSumQuery"/> with flat or automatic clipping.</param>
    /// <param name="canaries">The canaries; their scores are updated at every release (also through copies made by
    /// <see cref="WithNoiseMultiplier"/>, which share them).</param>
    public CanaryGradientQuery(IDpQuery inner, GradientCanaries canaries)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(canaries);
        Inner = inner;
        Canaries = canaries;
    }

    /// <summary>The audited query.</summary>
    public IDpQuery Inner { get; }

    /// <summary>The canaries and their scores.</summary>
    public GradientCanaries Canaries { get; }

    /// <inheritdoc />
    public double NoiseMultiplier => Inner.NoiseMultiplier;

    /// <inheritdoc />
    public IDpQuery WithNoiseMultiplier(double noiseMultiplier) => new CanaryGradientQuery(Inner.WithNoiseMultiplier(noiseMultiplier), Canaries);

    /// <inheritdoc />
    public DpEvent PlannedEvent(double samplingProbability, long steps) => Inner.PlannedEvent(samplingProbability, steps);

    /// <inheritdoc />
    public object? InitialGlobalState() => Inner.InitialGlobalState();

    /// <inheritdoc />
    public DpSampleParameters DeriveSampleParameters(object? globalState, DpStepInfo stepInfo) => Inner.DeriveSampleParameters(globalState, stepInfo);

    /// <inheritdoc />
    public DpQueryState InitialSampleState(DpSampleParameters parameters) => Inner.InitialSampleState(parameters);

    /// <inheritdoc />
    public void Accumulate(DpQueryState state, DpSampleParameters parameters, ClippedSumResult clipped) => Inner.Accumulate(state, parameters, clipped);

    /// <inheritdoc />
    /// <remarks>Adds the sampled canaries' records to <paramref name="state"/> (the step's state is spent by its release),
    /// releases through the inner query and scores the release.</remarks>
    /// <exception cref="NotSupportedException">The inner query clips per layer and a canary's parameter has no threshold.</exception>
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
        var norm = RecordNorm(Inner.DeriveSampleParameters(globalState, stepInfo).RecordClipping);
        var included = Canaries.IncludedIndices.Count;
        if (included > 0)
        {
            using var scope = NewDisposeScope();
            using var drawn = gate.PoissonSample(included, stepInfo.SamplingProbability);
            var sampled = drawn.data<long>().ToArray();
            if (sampled.Length > 0)
            {
                state.Add(Canaries.Records(sampled, norm, shapes), sampled.Length);
            }
        }

        var release = Inner.GetNoisedResult(state, globalState, stepInfo, gate, shapes);
        Canaries.Record(release.NoisedSum);
        return release;
    }

    // A canary is a record at the clip bound: C for flat (and automatic: its records stay below the scale C) clipping.
    private double RecordNorm(ClippingOptions clipping)
    {
        if (clipping.IsWholeGradient)
        {
            return clipping.MaxGradNorm;
        }

        var thresholds = clipping.LayerMaxGradNorms!;
        var parameters = Canaries.Canaries.Select(c => c.Parameter).Distinct().ToList();
        var norms = parameters
            .Select(p => thresholds.Where(t => p.StartsWith(t.Key + ".", StringComparison.Ordinal)).Select(t => (double?)t.Value).FirstOrDefault())
            .ToList();
        if (norms.Any(n => n is null) || norms.Distinct().Count() != 1)
        {
            throw new NotSupportedException(
                "Gradient canaries under per-layer clipping need their parameters in layers that share one threshold: put every canary in such layers.");
        }

        return norms[0]!.Value;
    }
}
