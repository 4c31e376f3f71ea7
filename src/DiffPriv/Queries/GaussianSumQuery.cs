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
    /// <param name="noiseMultiplier">σ &gt; 0, finite.</param>
    /// <param name="recordsAreMicrobatches">
    /// True when each record is the clipped gradient of a microbatch (TF Privacy's num_microbatches). One example then
    /// changes its microbatch's record from one vector of norm ≤ C to another, so the sum moves by up to 2C: the release
    /// is accounted as <c>GaussianDpEvent(σ/2)</c>, as TF Privacy's compute_dp_sgd_privacy does for microbatching.
    /// </param>
    /// <exception cref="ArgumentException">A threshold is infinite, or σ is not a finite number &gt; 0.</exception>
    public GaussianSumQuery(ClippingOptions recordClipping, double noiseMultiplier, bool recordsAreMicrobatches = false)
    {
        ArgumentNullException.ThrowIfNull(recordClipping);
        recordClipping.Validate();
        if (!(noiseMultiplier > 0 && double.IsFinite(noiseMultiplier)))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseMultiplier), noiseMultiplier, "The noise multiplier must be a finite number > 0.");
        }

        Sensitivity = recordClipping.Mode == ClippingMode.Flat
            ? recordClipping.MaxGradNorm
            : Math.Sqrt(recordClipping.LayerMaxGradNorms!.Values.Sum(c => c * c));
        if (!(Sensitivity > 0 && double.IsFinite(Sensitivity)))
        {
            throw new ArgumentException(
                $"The clipping bound must be finite and > 0 for a private sum (got sensitivity {Sensitivity}).", nameof(recordClipping));
        }

        RecordClipping = recordClipping;
        NoiseMultiplier = noiseMultiplier;
        RecordsAreMicrobatches = recordsAreMicrobatches;
    }

    /// <summary>Whether records are microbatch gradients (accounted with σ/2).</summary>
    public bool RecordsAreMicrobatches { get; }

    /// <summary>The event one release causes: Gaussian(σ), or Gaussian(σ/2) for microbatch records.</summary>
    public GaussianDpEvent Event => new(RecordsAreMicrobatches ? NoiseMultiplier / 2 : NoiseMultiplier);

    /// <inheritdoc />
    public ClippingOptions RecordClipping { get; }

    /// <summary>σ: noise std divided by the sensitivity.</summary>
    public double NoiseMultiplier { get; }

    /// <summary>The L2 sensitivity of the sum: C (flat) or sqrt(Σ C_l²) (per layer).</summary>
    public double Sensitivity { get; }

    /// <summary>The noise standard deviation σ·C added to every coordinate of the sum.</summary>
    public double NoiseStandardDeviation => NoiseMultiplier * Sensitivity;

    /// <inheritdoc />
    public DpQueryState InitialSampleState() => new();

    /// <inheritdoc />
    public void Accumulate(DpQueryState state, ClippedSumResult clipped)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(clipped);
        state.Add(clipped.Gradients, clipped.BatchSize);
    }

    /// <inheritdoc />
    /// <remarks>Adds N(0, (σ·C)²) to every coordinate; emits <see cref="Event"/>.</remarks>
    public DpQueryResult GetNoisedResult(DpQueryState state, NoiseGate gate, IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(shapes);
        var noised = new Dictionary<string, Tensor>(shapes.Count);
        var entries = shapes.ToList();
        var noises = gate.Gaussians(entries.Select(e => (e.Value.Shape, e.Value.Type, (Device?)e.Value.Device)).ToList(), NoiseStandardDeviation);
        for (var i = 0; i < entries.Count; i++)
        {
            var (name, noise) = (entries[i].Key, noises[i]);
            noised[name] = state.Sums.TryGetValue(name, out var sum) ? noise.add_(sum) : noise;
        }

        return new DpQueryResult(noised, Event, state.RecordCount);
    }
}
