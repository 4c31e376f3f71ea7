using DiffPriv.Accounting.Numerics;

namespace DiffPriv.Accounting.Pld;

/// <summary>
/// A privacy loss distribution under add/remove-one adjacency: the PMF for REMOVE and the PMF for ADD
/// (the same object when the mechanism is symmetric); δ and ε are the worse of the two (dp_accounting's
/// PrivacyLossDistribution).
/// </summary>
internal sealed class PrivacyLossDistribution
{
    /// <summary>Default bound on the tail mass each composition may truncate (upstream's 1e-15).</summary>
    public const double DefaultTailMassTruncation = 1e-15;

    public PrivacyLossDistribution(PldPmf remove, PldPmf? add = null)
    {
        Remove = remove;
        Add = add ?? remove;
    }

    /// <summary>PMF for REMOVE adjacency.</summary>
    public PldPmf Remove { get; }

    /// <summary>PMF for ADD adjacency.</summary>
    public PldPmf Add { get; }

    /// <summary>Whether ADD and REMOVE share one PMF.</summary>
    public bool IsSymmetric => ReferenceEquals(Remove, Add);

    /// <summary>Loss 0 with probability 1.</summary>
    public static PrivacyLossDistribution Identity(double discretization, bool pessimistic) =>
        new(PldPmf.Identity(discretization, pessimistic));

    /// <summary>
    /// The Gaussian mechanism with noise σ and sensitivity 1, Poisson-subsampled with probability q; pessimistic
    /// uses connect-the-dots, optimistic the post-processing discretisation. Add/remove-one keeps a PMF for each
    /// direction; <paramref name="replace"/> analyses replace-one instead (one PMF: the two directions mirror each other).
    /// </summary>
    public static PrivacyLossDistribution FromGaussian(double sigma, double discretization, double samplingProbability, bool pessimistic, bool replace = false, double logMassTruncationBound = -50) =>
        replace
            ? new PrivacyLossDistribution(Build(new GaussianPrivacyLoss(sigma, 1.0, samplingProbability, AdjacencyType.Replace, logMassTruncationBound), discretization, pessimistic))
            : FromMechanism(adjacency => new GaussianPrivacyLoss(sigma, 1.0, samplingProbability, adjacency, logMassTruncationBound), discretization, samplingProbability, pessimistic);

    /// <summary>The Laplace mechanism with scale b and sensitivity 1, Poisson-subsampled with probability q.</summary>
    public static PrivacyLossDistribution FromLaplace(double b, double discretization, double samplingProbability, bool pessimistic) =>
        FromMechanism(adjacency => new LaplacePrivacyLoss(b, 1.0, samplingProbability, adjacency), discretization, samplingProbability, pessimistic);

    /// <summary>
    /// The discrete Laplace mechanism (parameter a, integer sensitivity Δ) by privacy buckets, as dp_accounting's
    /// accountant builds it; ADD and REMOVE coincide without subsampling.
    /// </summary>
    public static PrivacyLossDistribution FromDiscreteLaplace(double parameter, int sensitivity, double discretization, bool pessimistic) =>
        new(PmfBuilder.PrivacyBuckets(new DiscreteLaplacePrivacyLoss(parameter, sensitivity), discretization, pessimistic));

    /// <summary>
    /// The mixture-of-Gaussians mechanism (noise σ, sensitivity cᵢ with probability pᵢ); ADD and REMOVE differ in
    /// general, so both PMFs are built (on two cores).
    /// </summary>
    public static PrivacyLossDistribution FromMixtureOfGaussians(double sigma, IReadOnlyList<double> sensitivities, IReadOnlyList<double> probabilities, double discretization, bool pessimistic, double logMassTruncationBound = -50)
    {
        PldPmf? remove = null, add = null;
        Parallel.Invoke(
            () => remove = Build(new MixtureGaussianPrivacyLoss(sigma, sensitivities, probabilities, AdjacencyType.Remove, logMassTruncationBound), discretization, pessimistic),
            () => add = Build(new MixtureGaussianPrivacyLoss(sigma, sensitivities, probabilities, AdjacencyType.Add, logMassTruncationBound), discretization, pessimistic));
        return new PrivacyLossDistribution(remove!, add);
    }

    /// <summary>
    /// The Gaussian mechanism (noise σ, sensitivity 1) on a Poisson sample with probability q of n records that is cut
    /// to at most B records (dp_accounting's <c>from_truncated_subsampled_gaussian_mechanism</c>): with probability
    /// t = P[Binomial(n − 1, q) ≥ B] the sample of the other records is full and the record's effect is bounded by
    /// a replace-one Gaussian with σ/2 sampled with q' = P[Binomial(n, q) &gt; B]·B/(t·n); otherwise it is the
    /// ordinary subsampled Gaussian. The PLD is the t-mixture of the two (an upper bound on the mechanism's).
    /// </summary>
    public static PrivacyLossDistribution FromTruncatedSubsampledGaussian(long datasetSize, double samplingProbability, long truncatedBatchSize, double noiseMultiplier, double discretization, bool pessimistic, bool replace, double logMassTruncationBound = -50)
    {
        var untruncated = FromGaussian(noiseMultiplier, discretization, samplingProbability, pessimistic, replace, logMassTruncationBound);
        var truncationProbability = PldMath.BinomialSurvival(truncatedBatchSize - 1, datasetSize - 1, samplingProbability);
        if (truncationProbability == 0)
        {
            return untruncated;
        }

        var conditionalSampling = PldMath.BinomialSurvival(truncatedBatchSize, datasetSize, samplingProbability)
            * truncatedBatchSize / truncationProbability / datasetSize;
        var truncated = FromGaussian(noiseMultiplier / 2, discretization, conditionalSampling, pessimistic, replace: true, logMassTruncationBound);
        return truncated.ComputeMixture(untruncated, truncationProbability);
    }

    /// <summary>
    /// Randomized response over k buckets that outputs a uniform bucket with probability p and the true one otherwise
    /// (dp_accounting's <c>from_randomized_response</c>). Replace-one: the true bucket x becomes x'; outcomes x, x'
    /// and any other bucket have losses ±ln((1 − p + p/k)/(p/k)) and 0 (one symmetric PMF). Replace-special: x
    /// becomes a special input answered uniformly; REMOVE is R(x) against the uniform output and ADD the reverse.
    /// </summary>
    public static PrivacyLossDistribution FromRandomizedResponse(double noiseParameter, long numBuckets, double discretization, bool pessimistic, bool replaceSpecial)
    {
        if (!(noiseParameter > 0 && noiseParameter <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(noiseParameter), noiseParameter, "The noise parameter must be in (0, 1].");
        }

        if (numBuckets < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(numBuckets), numBuckets, "There must be at least 2 buckets.");
        }

        double k = numBuckets, p = noiseParameter;
        var logKeep = Math.Log(1 - (p * (k - 1) / k));
        if (!replaceSpecial)
        {
            var logOther = Math.Log(p / k);
            double[] upper = numBuckets > 2 ? [logKeep, logOther, Math.Log((k - 2) * p / k)] : [logKeep, logOther];
            double[] lower = numBuckets > 2 ? [logOther, logKeep, upper[2]] : [logOther, logKeep];
            return new PrivacyLossDistribution(FromTwoDistributions(lower, upper, discretization, pessimistic));
        }

        double[] real = [logKeep, Math.Log((k - 1) * p / k)];
        double[] special = [-Math.Log(k), LogMath.Log1p(-1 / k)];
        return new PrivacyLossDistribution(
            FromTwoDistributions(special, real, discretization, pessimistic),
            FromTwoDistributions(real, special, discretization, pessimistic));
    }

    /// <summary>
    /// The worst case of any (ε, δ)-DP mechanism (dp_accounting's <c>from_privacy_parameters</c>; Section 4.5 of its
    /// supplementary material): loss +∞ with probability δ, ε with (1 − δ)/(1 + e^{−ε}) and −ε with (1 − δ)/(1 + e^ε).
    /// </summary>
    public static PrivacyLossDistribution FromEpsilonDelta(double epsilon, double delta, double discretization, bool pessimistic)
    {
        var buckets = new SortedDictionary<long, double>();
        PmfBuilder.AddToBucket(buckets, PmfBuilder.Round(epsilon / discretization, pessimistic), (1 - delta) / (1 + Math.Exp(-epsilon)));
        PmfBuilder.AddToBucket(buckets, PmfBuilder.Round(-epsilon / discretization, pessimistic), (1 - delta) / (1 + Math.Exp(epsilon)));
        return new PrivacyLossDistribution(PldPmf.FromBuckets(discretization, buckets, delta, pessimistic));
    }

    /// <summary>
    /// The PMF of the losses ln(μ_upper(o)/μ_lower(o)) of finitely many outcomes o, given as ln μ (−∞ for 0), each
    /// rounded to the grid (up when pessimistic, down when optimistic); outcomes that μ_lower never produces carry
    /// loss +∞ (dp_accounting's <c>from_two_probability_mass_functions</c>).
    /// </summary>
    private static PldPmf FromTwoDistributions(double[] logLower, double[] logUpper, double discretization, bool pessimistic)
    {
        var infinity = 0.0;
        var buckets = new SortedDictionary<long, double>();
        for (var o = 0; o < logUpper.Length; o++)
        {
            if (double.IsNegativeInfinity(logLower[o]))
            {
                infinity += Math.Exp(logUpper[o]);
            }
            else if (!double.IsNegativeInfinity(logUpper[o]))
            {
                PmfBuilder.AddToBucket(buckets, PmfBuilder.Round((logUpper[o] - logLower[o]) / discretization, pessimistic), Math.Exp(logUpper[o]));
            }
        }

        return PldPmf.FromBuckets(discretization, buckets, infinity, pessimistic);
    }

    private static PldPmf Build(MonotonePrivacyLoss loss, double d, bool pessimistic) =>
        pessimistic ? PmfBuilder.ConnectDots(loss, d) : PmfBuilder.OptimisticMixing(loss, d);

    private static PrivacyLossDistribution FromMechanism(Func<AdjacencyType, AdditiveNoisePrivacyLoss> create, double d, double q, bool pessimistic)
    {
        // Without subsampling the ADD and REMOVE losses have the same distribution.
        if (q == 1.0)
        {
            return new PrivacyLossDistribution(Build(create(AdjacencyType.Remove), d, pessimistic));
        }

        // The two discretisations are independent: build them on two cores.
        PldPmf? remove = null, add = null;
        Parallel.Invoke(() => remove = Build(create(AdjacencyType.Remove), d, pessimistic), () => add = Build(create(AdjacencyType.Add), d, pessimistic));
        return new PrivacyLossDistribution(remove!, add);
    }

    /// <summary>selfWeight·this + (1 − selfWeight)·other, direction by direction (upstream's <c>compute_mixture</c>).</summary>
    public PrivacyLossDistribution ComputeMixture(PrivacyLossDistribution other, double selfWeight)
    {
        var remove = Remove.ComputeMixture(other.Remove, selfWeight);
        return IsSymmetric && other.IsSymmetric
            ? new PrivacyLossDistribution(remove)
            : new PrivacyLossDistribution(remove, Add.ComputeMixture(other.Add, selfWeight));
    }

    /// <summary>The PLD of running both mechanisms.</summary>
    public PrivacyLossDistribution Compose(PrivacyLossDistribution other, double tailMassTruncation = DefaultTailMassTruncation)
    {
        var remove = Remove.Compose(other.Remove, tailMassTruncation);
        if (IsSymmetric && other.IsSymmetric)
        {
            return new PrivacyLossDistribution(remove);
        }

        return new PrivacyLossDistribution(remove, Add.Compose(other.Add, tailMassTruncation));
    }

    /// <summary>The PLD of running the mechanism <paramref name="times"/> times; both PMFs share one FFT pair when dense.</summary>
    public PrivacyLossDistribution SelfCompose(long times, double tailMassTruncation = DefaultTailMassTruncation)
    {
        if (IsSymmetric)
        {
            return new PrivacyLossDistribution(Remove.SelfCompose(times, tailMassTruncation));
        }

        static bool TakesDensePath(PldPmf p, long n) =>
            !p.IsSparse || (n > 1 && Math.Pow(p.EntryCount, n) > PldPmf.MaxSparseSize);

        if (TakesDensePath(Remove, times) && TakesDensePath(Add, times))
        {
            var (remove, add) = PldPmf.SelfComposePair(Remove, Add, times, tailMassTruncation);
            return new PrivacyLossDistribution(remove, add);
        }

        return new PrivacyLossDistribution(Remove.SelfCompose(times, tailMassTruncation), Add.SelfCompose(times, tailMassTruncation));
    }

    /// <summary>max(δ_REMOVE(ε), δ_ADD(ε)).</summary>
    public double GetDeltaForEpsilon(double epsilon)
    {
        var remove = Remove.GetDeltaForEpsilon(epsilon);
        return IsSymmetric ? remove : Math.Max(remove, Add.GetDeltaForEpsilon(epsilon));
    }

    /// <summary>max(ε_REMOVE(δ), ε_ADD(δ)).</summary>
    public double GetEpsilonForDelta(double delta)
    {
        var remove = Remove.GetEpsilonForDelta(delta);
        return IsSymmetric ? remove : Math.Max(remove, Add.GetEpsilonForDelta(delta));
    }
}
