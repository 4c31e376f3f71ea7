namespace DiffPriv.Accounting.Events;

/// <summary>
/// The mixture-of-Gaussians mechanism (Choquette-Choo et al. 2023, "Privacy Amplification for Matrix Mechanisms",
/// arXiv 2310.15526): on one dataset the output is N(0, σ²), on its neighbour it is Σᵢ pᵢ·N(cᵢ, σ²), with
/// sensitivities cᵢ = <see cref="Sensitivities"/> and probabilities pᵢ = <see cref="SamplingProbs"/>.
/// A Poisson-sampled Gaussian with probability q is σ with c = [0, 1] and p = [1 − q, q].
/// </summary>
public sealed record MixtureOfGaussiansDpEvent : DpEvent
{
    /// <summary>Creates the event.</summary>
    /// <param name="standardDeviation">σ, the standard deviation of the noise; finite, ≥ 0 (0 means no privacy).</param>
    /// <param name="sensitivities">The support cᵢ of the sensitivity; finite, ≥ 0; at least one value.</param>
    /// <param name="samplingProbs">The probability pᵢ of each sensitivity, same length; each in [0, 1], summing to 1
    /// (within a relative 1e-9, as dp_accounting checks).</param>
    /// <exception cref="ArgumentOutOfRangeException">σ, a sensitivity or a probability is out of range, or the
    /// probabilities do not sum to 1.</exception>
    /// <exception cref="ArgumentException">The lists are empty or differ in length.</exception>
    /// <exception cref="ArgumentNullException">A list is null.</exception>
    public MixtureOfGaussiansDpEvent(double standardDeviation, IReadOnlyList<double> sensitivities, IReadOnlyList<double> samplingProbs)
    {
        RequireFiniteNonNegative(standardDeviation, nameof(standardDeviation));
        ArgumentNullException.ThrowIfNull(sensitivities);
        ArgumentNullException.ThrowIfNull(samplingProbs);
        var c = sensitivities.ToArray();
        var p = samplingProbs.ToArray();
        if (c.Length == 0)
        {
            throw new ArgumentException("At least one sensitivity is required.", nameof(sensitivities));
        }

        if (c.Length != p.Length)
        {
            throw new ArgumentException($"sensitivities ({c.Length}) and sampling_probs ({p.Length}) must have the same length.", nameof(samplingProbs));
        }

        foreach (var ci in c)
        {
            RequireFiniteNonNegative(ci, nameof(sensitivities));
        }

        var sum = 0.0;
        foreach (var pi in p)
        {
            RequireProbability(pi, nameof(samplingProbs));
            sum += pi;
        }

        if (!(Math.Abs(sum - 1) <= 1e-9))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingProbs), sum, "The sampling probabilities must sum to 1.");
        }

        StandardDeviation = standardDeviation;
        Sensitivities = Array.AsReadOnly(c);
        SamplingProbs = Array.AsReadOnly(p);
    }

    /// <summary>σ: the standard deviation of the Gaussian noise.</summary>
    public double StandardDeviation { get; }

    /// <summary>cᵢ: the support of the sensitivity.</summary>
    public IReadOnlyList<double> Sensitivities { get; }

    /// <summary>pᵢ: the probability of each sensitivity.</summary>
    public IReadOnlyList<double> SamplingProbs { get; }

    /// <summary>Lists the sensitivities and probabilities (records print collections as their type name otherwise).</summary>
    /// <param name="builder">The builder to append to.</param>
    /// <returns>True: members were printed.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("StandardDeviation = ").Append(StandardDeviation)
            .Append(", Sensitivities = [").AppendJoin(", ", Sensitivities)
            .Append("], SamplingProbs = [").AppendJoin(", ", SamplingProbs).Append(']');
        return true;
    }

    /// <inheritdoc />
    public bool Equals(MixtureOfGaussiansDpEvent? other) =>
        other is not null
        && StandardDeviation.Equals(other.StandardDeviation)
        && Sensitivities.SequenceEqual(other.Sensitivities)
        && SamplingProbs.SequenceEqual(other.SamplingProbs);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(StandardDeviation);
        foreach (var c in Sensitivities)
        {
            hash.Add(c);
        }

        foreach (var p in SamplingProbs)
        {
            hash.Add(p);
        }

        return hash.ToHashCode();
    }
}
