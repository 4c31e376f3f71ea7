using System.Text.Json.Serialization;

namespace DiffPriv.Accounting.Events;

/// <summary>
/// An immutable description of a differentially private mechanism, or of how mechanisms were combined.
/// Code that adds noise returns the event it caused; accountants only read events
/// (the design of Google's dp_accounting library).
/// </summary>
/// <remarks>
/// Every event validates its parameters on construction and round-trips through JSON with
/// <see cref="DpEventJson"/>. Equality is structural.
/// </remarks>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(GaussianDpEvent), "gaussian")]
[JsonDerivedType(typeof(LaplaceDpEvent), "laplace")]
[JsonDerivedType(typeof(PoissonSampledDpEvent), "poisson_sampled")]
[JsonDerivedType(typeof(SampledWithoutReplacementDpEvent), "sampled_without_replacement")]
[JsonDerivedType(typeof(SelfComposedDpEvent), "self_composed")]
[JsonDerivedType(typeof(ComposedDpEvent), "composed")]
[JsonDerivedType(typeof(NoOpDpEvent), "no_op")]
[JsonDerivedType(typeof(NonPrivateDpEvent), "non_private")]
public abstract record DpEvent
{
    private protected DpEvent()
    {
    }

    internal static void RequireFiniteNonNegative(double value, string name)
    {
        if (double.IsNaN(value) || double.IsInfinity(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number ≥ 0.");
        }
    }
}

/// <summary>
/// The Gaussian mechanism: a query of L2 sensitivity 1 released with noise N(0, σ²) added to each coordinate.
/// </summary>
/// <remarks>For a sum of records clipped to norm C with noise std σ·C, σ is <see cref="NoiseMultiplier"/>.</remarks>
public sealed record GaussianDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="noiseMultiplier">σ, the ratio of the noise standard deviation to the L2 sensitivity; finite, ≥ 0 (0 means no privacy).</param>
    /// <exception cref="ArgumentOutOfRangeException">σ is negative, infinite or NaN.</exception>
    public GaussianDpEvent(double noiseMultiplier)
    {
        RequireFiniteNonNegative(noiseMultiplier, nameof(noiseMultiplier));
        NoiseMultiplier = noiseMultiplier;
    }

    /// <summary>σ: noise standard deviation divided by the L2 sensitivity.</summary>
    public double NoiseMultiplier { get; }
}

/// <summary>
/// The Laplace mechanism: a query of L1 sensitivity 1 released with Laplace noise of scale b added to each coordinate.
/// </summary>
public sealed record LaplaceDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="noiseMultiplier">b, the Laplace scale divided by the L1 sensitivity; finite, ≥ 0 (0 means no privacy).</param>
    /// <exception cref="ArgumentOutOfRangeException">b is negative, infinite or NaN.</exception>
    public LaplaceDpEvent(double noiseMultiplier)
    {
        RequireFiniteNonNegative(noiseMultiplier, nameof(noiseMultiplier));
        NoiseMultiplier = noiseMultiplier;
    }

    /// <summary>b: the Laplace scale divided by the L1 sensitivity.</summary>
    public double NoiseMultiplier { get; }
}

/// <summary>
/// Poisson subsampling: every record joins the sample independently with probability q, then <see cref="Event"/> runs on the sample.
/// DP-SGD with Poisson sampling emits <c>PoissonSampledDpEvent(q, GaussianDpEvent(σ))</c> per step.
/// </summary>
public sealed record PoissonSampledDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="samplingProbability">q ∈ [0, 1].</param>
    /// <param name="event">The mechanism run on the sample.</param>
    /// <exception cref="ArgumentOutOfRangeException">q is outside [0, 1] or NaN.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is null.</exception>
    public PoissonSampledDpEvent(double samplingProbability, DpEvent @event)
    {
        if (!(samplingProbability >= 0 && samplingProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingProbability), samplingProbability, "Sampling probability must be in [0, 1].");
        }

        ArgumentNullException.ThrowIfNull(@event);
        SamplingProbability = samplingProbability;
        Event = @event;
    }

    /// <summary>q: the probability that a record is in the sample.</summary>
    public double SamplingProbability { get; }

    /// <summary>The mechanism applied to the sample.</summary>
    public DpEvent Event { get; }
}

/// <summary>
/// Sampling without replacement: a uniformly random subset of exactly <see cref="SampleSize"/> records out of
/// <see cref="SourceDatasetSize"/> is drawn, then <see cref="Event"/> runs on it. Its privacy analysis assumes
/// the replace-one neighbouring relation.
/// </summary>
public sealed record SampledWithoutReplacementDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="sourceDatasetSize">n ≥ 0, the number of records sampled from.</param>
    /// <param name="sampleSize">k with 0 ≤ k ≤ n.</param>
    /// <param name="event">The mechanism run on the sample.</param>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 0, k &lt; 0 or k &gt; n.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is null.</exception>
    public SampledWithoutReplacementDpEvent(long sourceDatasetSize, long sampleSize, DpEvent @event)
    {
        if (sourceDatasetSize < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sourceDatasetSize), sourceDatasetSize, "Source dataset size must be ≥ 0.");
        }

        if (sampleSize < 0 || sampleSize > sourceDatasetSize)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleSize), sampleSize, "Sample size must be in [0, source dataset size].");
        }

        ArgumentNullException.ThrowIfNull(@event);
        SourceDatasetSize = sourceDatasetSize;
        SampleSize = sampleSize;
        Event = @event;
    }

    /// <summary>n: the number of records sampled from.</summary>
    public long SourceDatasetSize { get; }

    /// <summary>k: the number of records in each sample.</summary>
    public long SampleSize { get; }

    /// <summary>The mechanism applied to the sample.</summary>
    public DpEvent Event { get; }
}

/// <summary><see cref="Event"/> run <see cref="Count"/> times, adaptively composed.</summary>
public sealed record SelfComposedDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="event">The repeated mechanism.</param>
    /// <param name="count">How many times it runs; ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">count &lt; 0.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is null.</exception>
    public SelfComposedDpEvent(DpEvent @event, long count)
    {
        ArgumentNullException.ThrowIfNull(@event);
        if (count < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "Count must be ≥ 0.");
        }

        Event = @event;
        Count = count;
    }

    /// <summary>The repeated mechanism.</summary>
    public DpEvent Event { get; }

    /// <summary>How many times it runs.</summary>
    public long Count { get; }
}

/// <summary>Several mechanisms run one after the other, adaptively composed.</summary>
public sealed record ComposedDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="events">The mechanisms, in order; none null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="events"/> or one of its items is null.</exception>
    public ComposedDpEvent(IReadOnlyList<DpEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var list = events.ToArray();
        if (list.Any(e => e is null))
        {
            throw new ArgumentNullException(nameof(events), "Composed events must not contain null.");
        }

        Events = list;
    }

    /// <summary>The mechanisms, in order.</summary>
    public IReadOnlyList<DpEvent> Events { get; }

    /// <summary>Lists the composed events (records print collections as their type name otherwise).</summary>
    /// <param name="builder">The builder to append to.</param>
    /// <returns>True: members were printed.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Events = [").AppendJoin(", ", Events).Append(']');
        return true;
    }

    /// <inheritdoc />
    public bool Equals(ComposedDpEvent? other) =>
        other is not null && Events.SequenceEqual(other.Events);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var e in Events)
        {
            hash.Add(e);
        }

        return hash.ToHashCode();
    }
}

/// <summary>A step that touches no private data: it costs no privacy.</summary>
public sealed record NoOpDpEvent : DpEvent;

/// <summary>A step that releases private data without protection: any accountant that sees it reports ε = ∞.</summary>
public sealed record NonPrivateDpEvent : DpEvent;
