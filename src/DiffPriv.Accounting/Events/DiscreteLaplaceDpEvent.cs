namespace DiffPriv.Accounting.Events;

/// <summary>
/// The discrete Laplace mechanism: an integer-valued query of L1 sensitivity <see cref="Sensitivity"/> released with
/// noise whose mass at the integer x is tanh(a/2)·exp(−a|x|), a = <see cref="NoiseParameter"/>. It is
/// (a · sensitivity)-DP.
/// </summary>
public sealed record DiscreteLaplaceDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="noiseParameter">a, the decay rate of the noise; finite, ≥ 0. Larger a means less noise; a = 0 is
    /// read as no privacy, as dp_accounting's PLD accountant does.</param>
    /// <param name="sensitivity">The L1 sensitivity, an integer ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">a is negative, infinite or NaN, or the sensitivity is below 1.</exception>
    public DiscreteLaplaceDpEvent(double noiseParameter, long sensitivity)
    {
        RequireFiniteNonNegative(noiseParameter, nameof(noiseParameter));
        if (sensitivity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(sensitivity), sensitivity, "The sensitivity must be an integer ≥ 1.");
        }

        NoiseParameter = noiseParameter;
        Sensitivity = sensitivity;
    }

    /// <summary>a: the noise mass at x is tanh(a/2)·exp(−a|x|).</summary>
    public double NoiseParameter { get; }

    /// <summary>The L1 sensitivity of the integer-valued query.</summary>
    public long Sensitivity { get; }
}
