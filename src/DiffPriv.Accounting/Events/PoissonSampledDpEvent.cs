namespace DiffPriv.Accounting.Events;

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
