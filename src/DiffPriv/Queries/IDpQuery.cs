using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>
/// A differentially private aggregation of records (per-example gradients), with TF Privacy's life cycle. Per step
/// the private optimizer calls, in this order:
/// <list type="number">
/// <item><see cref="DeriveSampleParameters"/> from the global state (e.g. this step's clip norm);</item>
/// <item><see cref="InitialSampleState"/>;</item>
/// <item>for each physical batch, the per-example gradient hooks clip the records to
/// <see cref="DpSampleParameters.RecordClipping"/> (the preprocessing) and <see cref="Accumulate"/> adds them;</item>
/// <item><see cref="GetNoisedResult"/>: the noised sum, the updated global state and the event, if any, to record.</item>
/// </list>
/// <see cref="InitialGlobalState"/> is called once, when training starts.
/// </summary>
/// <remarks>
/// <para>Accounting: the event a release returns is recorded in the ledger as it is, so it must describe everything the
/// release reveals, including sampling (the Gaussian sum query returns <c>PoissonSampledDpEvent(q, GaussianDpEvent(σ))</c>).
/// A query may return one event for several releases (tree aggregation: one per tree); it must then return it no later
/// than with the first release it covers, so the ledger never lags what was released.</para>
/// <para>Calibration: <see cref="PlannedEvent"/> states a whole run as a function of σ (through
/// <see cref="WithNoiseMultiplier"/>), which is what <see cref="PrivacyEngine.MakePrivateWithEpsilon(nn.Module, optim.Optimizer, Tensor, Tensor, DpSgdOptions, double, double, double)"/>
/// searches.</para>
/// </remarks>
public interface IDpQuery
{
    /// <summary>σ: the noise standard deviation divided by the sensitivity (0 only for a clipping-only debug query).</summary>
    double NoiseMultiplier { get; }

    /// <summary>The same query with another σ (used to calibrate σ to a target ε).</summary>
    /// <param name="noiseMultiplier">σ &gt; 0.</param>
    /// <returns>A new query.</returns>
    IDpQuery WithNoiseMultiplier(double noiseMultiplier);

    /// <summary>The event of a whole run of <paramref name="steps"/> releases over Poisson samples with probability <paramref name="samplingProbability"/>.</summary>
    /// <param name="samplingProbability">q ∈ (0, 1].</param>
    /// <param name="steps">≥ 1.</param>
    /// <returns>The event the ledger will hold after such a run.</returns>
    DpEvent PlannedEvent(double samplingProbability, long steps);

    /// <summary>The global state before the first step (null when the query has none).</summary>
    /// <returns>The state; treat it as immutable and return a new one from <see cref="GetNoisedResult"/>.</returns>
    object? InitialGlobalState();

    /// <summary>This step's sample parameters, derived from the global state.</summary>
    /// <param name="globalState">The current global state.</param>
    /// <param name="stepInfo">Which step and its sampling.</param>
    /// <returns>The parameters, including how each record is clipped.</returns>
    DpSampleParameters DeriveSampleParameters(object? globalState, DpStepInfo stepInfo);

    /// <summary>An empty sample state for one step.</summary>
    /// <param name="parameters">This step's parameters.</param>
    /// <returns>A state that owns its tensors; the optimizer disposes it.</returns>
    DpQueryState InitialSampleState(DpSampleParameters parameters);

    /// <summary>
    /// Adds a physical batch of records, already clipped to <paramref name="parameters"/>' clipping. The result also holds
    /// the per-record norms before clipping (e.g. for counting unclipped records).
    /// </summary>
    /// <param name="state">The sample state.</param>
    /// <param name="parameters">This step's parameters.</param>
    /// <param name="clipped">Σ of clipped records per parameter, and the norms.</param>
    void Accumulate(DpQueryState state, DpSampleParameters parameters, ClippedSumResult clipped);

    /// <summary>
    /// Releases the accumulated sum with noise drawn through <paramref name="gate"/>, for every entry of
    /// <paramref name="shapes"/> — also those that received no record (an empty Poisson batch is released as pure noise).
    /// </summary>
    /// <param name="state">The sample state (left unchanged).</param>
    /// <param name="globalState">The global state this step started from.</param>
    /// <param name="stepInfo">Which step and its sampling.</param>
    /// <param name="gate">The only source of noise.</param>
    /// <param name="shapes">Parameter name → (shape, dtype, device) of everything that must be released.</param>
    /// <returns>The noised sum, the next global state and the event to record.</returns>
    DpQueryRelease GetNoisedResult(
        DpQueryState state,
        object? globalState,
        DpStepInfo stepInfo,
        NoiseGate gate,
        IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes);
}
