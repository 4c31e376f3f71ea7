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
    /// uses connect-the-dots, optimistic the post-processing discretisation.
    /// </summary>
    public static PrivacyLossDistribution FromGaussian(double sigma, double discretization, double samplingProbability, bool pessimistic) =>
        FromMechanism(adjacency => new GaussianPrivacyLoss(sigma, 1.0, samplingProbability, adjacency), discretization, samplingProbability, pessimistic);

    /// <summary>The Laplace mechanism with scale b and sensitivity 1, Poisson-subsampled with probability q.</summary>
    public static PrivacyLossDistribution FromLaplace(double b, double discretization, double samplingProbability, bool pessimistic) =>
        FromMechanism(adjacency => new LaplacePrivacyLoss(b, 1.0, samplingProbability, adjacency), discretization, samplingProbability, pessimistic);

    private static PrivacyLossDistribution FromMechanism(Func<AdjacencyType, AdditiveNoisePrivacyLoss> create, double d, double q, bool pessimistic)
    {
        PldPmf Build(AdjacencyType adjacency) =>
            pessimistic ? PmfBuilder.ConnectDots(create(adjacency), d) : PmfBuilder.OptimisticMixing(create(adjacency), d);

        // Without subsampling the ADD and REMOVE losses have the same distribution.
        if (q == 1.0)
        {
            return new PrivacyLossDistribution(Build(AdjacencyType.Remove));
        }

        // The two discretisations are independent: build them on two cores.
        PldPmf? remove = null, add = null;
        Parallel.Invoke(() => remove = Build(AdjacencyType.Remove), () => add = Build(AdjacencyType.Add));
        return new PrivacyLossDistribution(remove!, add);
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
            !p.IsSparse || (n > 1 && Math.Pow(p.Size, n) > PldPmf.MaxSparseSize);

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
