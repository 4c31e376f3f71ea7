namespace DiffPriv.Accounting.Events;

/// <summary>
/// <see cref="Event"/> is run a random number of times and only the best run is released (private hyperparameter
/// tuning; Papernot &amp; Steinke 2022, "Hyperparameter Tuning with Renyi Differential Privacy"). The number of runs
/// follows a truncated negative binomial distribution with the given <see cref="Mean"/> and <see cref="Shape"/>:
/// shape 0 is the logarithmic distribution, 1 the geometric, +∞ the Poisson, anything between a truncated negative
/// binomial.
/// </summary>
public sealed record RepeatAndSelectDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="event">The mechanism that is repeated (one run, e.g. one training run).</param>
    /// <param name="mean">The mean number of runs; finite, ≥ 1.</param>
    /// <param name="shape">The shape of the distribution of the number of runs; ≥ 0, +∞ for Poisson (JSON <c>"Infinity"</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">The mean is below 1, infinite or NaN, or the shape is negative or NaN.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="event"/> is null.</exception>
    public RepeatAndSelectDpEvent(DpEvent @event, double mean, double shape)
    {
        ArgumentNullException.ThrowIfNull(@event);
        if (!(mean >= 1) || double.IsInfinity(mean))
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean, "The mean number of runs must be finite and ≥ 1.");
        }

        RequireNonNegativeOrInfinity(shape, nameof(shape));
        Event = @event;
        Mean = mean;
        Shape = shape;
    }

    /// <summary>The mechanism that is repeated.</summary>
    public DpEvent Event { get; }

    /// <summary>The mean number of runs.</summary>
    public double Mean { get; }

    /// <summary>The shape of the distribution of the number of runs (0 logarithmic, 1 geometric, +∞ Poisson).</summary>
    public double Shape { get; }
}
