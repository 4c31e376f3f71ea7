using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting.Pld;

/// <summary>
/// Privacy accountant based on privacy loss distributions (PLDs): each mechanism's privacy loss is discretised
/// onto a grid of step <see cref="ValueDiscretizationInterval"/>, compositions are convolutions computed by FFT,
/// and (ε, δ) is read off the composed distribution's hockey-stick divergence
/// (Meiser &amp; Mohammadi 2018; Koskela, Jälkö &amp; Honkela 2020; Doroshenko et al. 2022 "Connect the Dots";
/// the algorithm of Google's dp_accounting <c>PLDAccountant</c>).
/// </summary>
/// <remarks>
/// <para>
/// Under add/remove-one (and replace-special, which dp_accounting analyses the same way for these mechanisms) the
/// accountant keeps the PLD for removing a record and the one for adding a record and reports the worse; under
/// replace-one it keeps the PLD of replacing a record. It keeps two discretisations of everything it composes: the
/// pessimistic connect-the-dots PLD (dp_accounting's default; its ε is an upper bound and is what
/// <see cref="GetEpsilon"/> reports) and an optimistic PLD (its ε is a lower bound), so
/// <see cref="GetEpsilonInterval"/> brackets the ε of the analysed PLD and shows the discretisation error. Where the
/// analysis itself is an upper bound (the (ε, δ) worst case, the truncated-Poisson mixture) the bracket is around
/// that bound.
/// </para>
/// <para>
/// Supported events, as dp_accounting's <c>PLDAccountant</c>: <see cref="GaussianDpEvent"/> and
/// <see cref="PoissonSampledDpEvent"/> of it and <see cref="TruncatedSubsampledGaussianDpEvent"/> under every
/// relation; <see cref="LaplaceDpEvent"/> (also Poisson-sampled), <see cref="DiscreteLaplaceDpEvent"/>,
/// <see cref="MixtureOfGaussiansDpEvent"/> and <see cref="PermuteAndFlipDpEvent"/> under add/remove-one and
/// replace-special; <see cref="RandomizedResponseDpEvent"/> under replace-one and replace-special;
/// <see cref="EpsilonDeltaDpEvent"/> and <see cref="ExponentialMechanismDpEvent"/> (as its ε-DP worst case) under
/// every relation; beyond dp_accounting, <see cref="SingleEpochTreeAggregationDpEvent"/> under replace-special (DP-FTRL's
/// tree: ⌈log₂(s + 1)⌉ Gaussians of σ for its longest tree of s steps, exactly); <see cref="SelfComposedDpEvent"/>, <see cref="ComposedDpEvent"/>, <see cref="NoOpDpEvent"/>
/// and <see cref="NonPrivateDpEvent"/> (and zero noise), which make ε = ∞ and δ(ε) = 1.
/// </para>
/// </remarks>
public sealed class PldAccountant : PrivacyAccountant
{
    private PrivacyLossDistribution _pessimistic;
    private PrivacyLossDistribution _optimistic;
    private bool _containsNonPrivateEvent;

    // The optimistic PLD is only needed for the interval queries; its constructions wait here until one is asked.
    private readonly List<(Func<bool, PrivacyLossDistribution> Build, long Count, bool SelfCompose)> _pendingOptimistic = [];

    /// <summary>Creates an accountant under add/remove-one adjacency that has spent nothing.</summary>
    /// <param name="valueDiscretizationInterval">
    /// Grid step d of the privacy losses (nats), finite and &gt; 0; default 1e-4 as in dp_accounting. Smaller is
    /// tighter (the interval width shrinks roughly like d) and slower (the grids grow like 1/d).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">d is not finite and positive.</exception>
#pragma warning disable RS0027 // This shipped constructor keeps its optional parameter; the relation overloads have none.
    public PldAccountant(double valueDiscretizationInterval = 1e-4)
        : this(NeighboringRelation.AddOrRemoveOne, valueDiscretizationInterval)
    {
    }
#pragma warning restore RS0027

    /// <summary>Creates an accountant under the given neighbouring relation with dp_accounting's grid step 1e-4.</summary>
    /// <param name="neighboringRelation">Add/remove-one, replace-one or replace-special; which events are supported depends on it.</param>
    /// <exception cref="ArgumentOutOfRangeException">The relation is unknown.</exception>
    public PldAccountant(NeighboringRelation neighboringRelation)
        : this(neighboringRelation, 1e-4)
    {
    }

    /// <summary>Creates an accountant under the given neighbouring relation that has spent nothing.</summary>
    /// <param name="neighboringRelation">Add/remove-one, replace-one or replace-special; which events are supported depends on it.</param>
    /// <param name="valueDiscretizationInterval">Grid step d of the privacy losses (nats), finite and &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">d is not finite and positive, or the relation is unknown.</exception>
    public PldAccountant(NeighboringRelation neighboringRelation, double valueDiscretizationInterval)
        : base(neighboringRelation)
    {
        if (!Enum.IsDefined(neighboringRelation))
        {
            throw new ArgumentOutOfRangeException(nameof(neighboringRelation), neighboringRelation, "Unknown neighbouring relation.");
        }

        if (!(valueDiscretizationInterval > 0) || double.IsInfinity(valueDiscretizationInterval))
        {
            throw new ArgumentOutOfRangeException(nameof(valueDiscretizationInterval), valueDiscretizationInterval, "The discretization interval must be finite and > 0.");
        }

        ValueDiscretizationInterval = valueDiscretizationInterval;
        _pessimistic = PrivacyLossDistribution.Identity(valueDiscretizationInterval, pessimistic: true);
        _optimistic = PrivacyLossDistribution.Identity(valueDiscretizationInterval, pessimistic: false);
    }

    /// <summary>The grid step of the privacy losses, in nats.</summary>
    public double ValueDiscretizationInterval { get; }

    // Replace-one is analysed with the REPLACE adjacency; replace-special like add/remove-one (dp_accounting).
    private bool ReplaceOne => NeighboringRelation == NeighboringRelation.ReplaceOne;

    // Mechanisms dp_accounting analyses only under add/remove-one and replace-special.
    private bool AddRemoveLike => NeighboringRelation != NeighboringRelation.ReplaceOne;

    /// <inheritdoc />
    public override bool Supports(DpEvent dpEvent) => dpEvent switch
    {
        NoOpDpEvent or NonPrivateDpEvent or GaussianDpEvent or EpsilonDeltaDpEvent or ExponentialMechanismDpEvent or TruncatedSubsampledGaussianDpEvent => true,
        LaplaceDpEvent or DiscreteLaplaceDpEvent or MixtureOfGaussiansDpEvent or PermuteAndFlipDpEvent => AddRemoveLike,
        RandomizedResponseDpEvent => NeighboringRelation != NeighboringRelation.AddOrRemoveOne,
        SingleEpochTreeAggregationDpEvent => NeighboringRelation == NeighboringRelation.ReplaceSpecial,
        SelfComposedDpEvent s => Supports(s.Event),
        ComposedDpEvent c => c.Events.All(Supports),
        PoissonSampledDpEvent { Event: GaussianDpEvent } => true,
        PoissonSampledDpEvent { Event: LaplaceDpEvent } => AddRemoveLike,
        _ => false,
    };

    /// <inheritdoc />
    protected override void ComposeCore(DpEvent dpEvent, long count)
    {
        var d = ValueDiscretizationInterval;
        switch (dpEvent)
        {
            case NoOpDpEvent:
                break;
            case NonPrivateDpEvent:
                _containsNonPrivateEvent = true;
                break;
            case SelfComposedDpEvent s:
                if (s.Count > 0)
                {
                    ComposeCore(s.Event, checked(s.Count * count));
                }

                break;
            case ComposedDpEvent c:
                foreach (var e in c.Events)
                {
                    ComposeCore(e, count);
                }

                break;
            case GaussianDpEvent g when g.NoiseMultiplier == 0:
            case LaplaceDpEvent l when l.NoiseMultiplier == 0:
            case DiscreteLaplaceDpEvent dl when dl.NoiseParameter == 0:
            case EpsilonDeltaDpEvent ed when double.IsPositiveInfinity(ed.Epsilon):
            case ExponentialMechanismDpEvent em when double.IsPositiveInfinity(em.Epsilon):
            case PermuteAndFlipDpEvent pf when double.IsPositiveInfinity(pf.Epsilon):
                _containsNonPrivateEvent = true;
                break;
            case GaussianDpEvent g:
                // count runs of N(0, σ²) on a sensitivity-1 query are one run with σ/√count: no discretisation error added.
                Add(pessimistic => PrivacyLossDistribution.FromGaussian(g.NoiseMultiplier / Math.Sqrt(count), d, 1.0, pessimistic, ReplaceOne), 1, selfCompose: false);
                break;
            case LaplaceDpEvent l:
                Add(pessimistic => PrivacyLossDistribution.FromLaplace(l.NoiseMultiplier, d, 1.0, pessimistic), count, selfCompose: true);
                break;
            case DiscreteLaplaceDpEvent dl:
                var sensitivity = checked((int)dl.Sensitivity);
                Add(pessimistic => PrivacyLossDistribution.FromDiscreteLaplace(dl.NoiseParameter, sensitivity, d, pessimistic), count, selfCompose: true);
                break;
            case PermuteAndFlipDpEvent pf:
                // Permute-and-flip has the PLD of the Laplace mechanism with b = 1/ε (dp_accounting); ε = 0 is infinite noise.
                if (pf.Epsilon > 0)
                {
                    Add(pessimistic => PrivacyLossDistribution.FromLaplace(1.0 / pf.Epsilon, d, 1.0, pessimistic), count, selfCompose: true);
                }

                break;
            case EpsilonDeltaDpEvent ed:
                Add(pessimistic => PrivacyLossDistribution.FromEpsilonDelta(ed.Epsilon, ed.Delta, d, pessimistic), count, selfCompose: true);
                break;
            case ExponentialMechanismDpEvent em:
                // The exponential mechanism is ε-DP; its worst case (a loose upper bound) is what dp_accounting composes.
                Add(pessimistic => PrivacyLossDistribution.FromEpsilonDelta(em.Epsilon, 0, d, pessimistic), count, selfCompose: true);
                break;
            case RandomizedResponseDpEvent rr:
                if (rr.NumBuckets == 1)
                {
                    // One bucket: the output never depends on the input, even with p = 0.
                    break;
                }

                if (rr.NoiseParameter == 0)
                {
                    _containsNonPrivateEvent = true;
                    break;
                }

                // dp_accounting composes this event once whatever the count; here count runs are count runs.
                var special = NeighboringRelation == NeighboringRelation.ReplaceSpecial;
                Add(pessimistic => PrivacyLossDistribution.FromRandomizedResponse(rr.NoiseParameter, rr.NumBuckets, d, pessimistic, special), count, selfCompose: true);
                break;
            case MixtureOfGaussiansDpEvent mog:
                if (!mog.Sensitivities.Where((_, i) => mog.SamplingProbs[i] > 0).Any(c => c > 0))
                {
                    // Every sensitivity that can occur is 0: the output does not depend on the record.
                    break;
                }

                if (mog.StandardDeviation == 0)
                {
                    _containsNonPrivateEvent = true;
                    break;
                }

                Add(pessimistic => PrivacyLossDistribution.FromMixtureOfGaussians(mog.StandardDeviation, mog.Sensitivities, mog.SamplingProbs, d, pessimistic), count, selfCompose: true);
                break;
            case SingleEpochTreeAggregationDpEvent tree:
                {
                    // Under replace-special a record changes one leaf of one tree and its ancestors, ⌈log₂(s + 1)⌉ nodes of
                    // the longest tree, each by at most the sensitivity, and every node carries independent N(0, σ²): the
                    // release is a Gaussian mechanism of L2 sensitivity √depth, i.e. depth Gaussians of σ (the same
                    // reduction as the RDP of Kairouz et al. 2021, appendix D, but exact here). σ = 0 is non-private.
                    var depth = RdpMath.TreeDepth(tree.StepCounts.Count == 0 ? 0 : tree.StepCounts.Max());
                    if (depth == 0)
                    {
                        break;
                    }

                    ComposeCore(new GaussianDpEvent(tree.NoiseMultiplier), checked(depth * count));
                    break;
                }

            case TruncatedSubsampledGaussianDpEvent t:
                if (t.SamplingProbability == 0 || t.TruncatedBatchSize == 0 || t.DatasetSize == 0)
                {
                    break;
                }

                if (t.NoiseMultiplier == 0)
                {
                    _containsNonPrivateEvent = true;
                    break;
                }

                Add(pessimistic => PrivacyLossDistribution.FromTruncatedSubsampledGaussian(t.DatasetSize, t.SamplingProbability, t.TruncatedBatchSize, t.NoiseMultiplier, d, pessimistic, ReplaceOne), count, selfCompose: true);
                break;
            case PoissonSampledDpEvent p when p.SamplingProbability == 0:
                break;
            case PoissonSampledDpEvent p when p.SamplingProbability == 1:
                ComposeCore(p.Event, count);
                break;
            case PoissonSampledDpEvent { Event: GaussianDpEvent g } p:
                if (g.NoiseMultiplier == 0)
                {
                    _containsNonPrivateEvent = true;
                    break;
                }

                Add(pessimistic => PrivacyLossDistribution.FromGaussian(g.NoiseMultiplier, d, p.SamplingProbability, pessimistic, ReplaceOne), count, selfCompose: true);
                break;
            case PoissonSampledDpEvent { Event: LaplaceDpEvent l } p:
                if (l.NoiseMultiplier == 0)
                {
                    _containsNonPrivateEvent = true;
                    break;
                }

                Add(pessimistic => PrivacyLossDistribution.FromLaplace(l.NoiseMultiplier, d, p.SamplingProbability, pessimistic), count, selfCompose: true);
                break;
            default:
                throw new UnsupportedDpEventException(dpEvent, nameof(PldAccountant));
        }
    }

    // As dp_accounting: every mechanism except the plain Gaussian (whose count is folded into σ) goes through
    // self-composition, even for count 1 (which for a dense PMF applies the same tail truncation).
    private void Add(Func<bool, PrivacyLossDistribution> build, long count, bool selfCompose)
    {
        _pessimistic = _pessimistic.Compose(BuildComposed(build, count, selfCompose, pessimistic: true));
        _pendingOptimistic.Add((build, count, selfCompose));
    }

    private static PrivacyLossDistribution BuildComposed(Func<bool, PrivacyLossDistribution> build, long count, bool selfCompose, bool pessimistic)
    {
        var pld = build(pessimistic);
        return selfCompose ? pld.SelfCompose(count) : pld;
    }

    private PrivacyLossDistribution Optimistic()
    {
        foreach (var (build, count, selfCompose) in _pendingOptimistic)
        {
            _optimistic = _optimistic.Compose(BuildComposed(build, count, selfCompose, pessimistic: false));
        }

        _pendingOptimistic.Clear();
        return _optimistic;
    }

    /// <summary>The smallest ε the pessimistic PLD proves at δ: an upper bound on the exact ε (dp_accounting's answer).</summary>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <returns>ε ≥ 0, or +∞.</returns>
    /// <exception cref="ArgumentOutOfRangeException">δ is outside [0, 1].</exception>
    public override double GetEpsilon(double delta)
    {
        ValidateDelta(delta);
        return _containsNonPrivateEvent ? double.PositiveInfinity : _pessimistic.GetEpsilonForDelta(delta);
    }

    /// <summary>The δ the pessimistic PLD proves at ε: an upper bound on the exact δ(ε).</summary>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <returns>δ ∈ [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException">ε is negative or NaN.</exception>
    public override double GetDelta(double epsilon)
    {
        ValidateEpsilon(epsilon);
        return _containsNonPrivateEvent ? 1.0 : Math.Min(1.0, _pessimistic.GetDeltaForEpsilon(epsilon));
    }

    /// <summary>
    /// Bounds on the exact ε at δ: Lower from the optimistic PLD, Upper (= <see cref="GetEpsilon"/>) from the
    /// pessimistic one. Their gap is the discretisation error; it shrinks with <see cref="ValueDiscretizationInterval"/>.
    /// </summary>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <returns>The interval; both ends +∞ after a non-private event.</returns>
    /// <exception cref="ArgumentOutOfRangeException">δ is outside [0, 1].</exception>
    public EpsilonInterval GetEpsilonInterval(double delta)
    {
        ValidateDelta(delta);
        if (_containsNonPrivateEvent)
        {
            return new EpsilonInterval(double.PositiveInfinity, double.PositiveInfinity);
        }

        var upper = _pessimistic.GetEpsilonForDelta(delta);
        var lower = Math.Min(Optimistic().GetEpsilonForDelta(delta), upper);
        return new EpsilonInterval(lower, upper);
    }

    /// <summary>Bounds on the exact δ(ε): Lower from the optimistic PLD, Upper (= <see cref="GetDelta"/>) from the pessimistic one.</summary>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <returns>The interval; both ends 1 after a non-private event.</returns>
    /// <exception cref="ArgumentOutOfRangeException">ε is negative or NaN.</exception>
    public DeltaInterval GetDeltaInterval(double epsilon)
    {
        ValidateEpsilon(epsilon);
        if (_containsNonPrivateEvent)
        {
            return new DeltaInterval(1.0, 1.0);
        }

        var upper = Math.Min(1.0, _pessimistic.GetDeltaForEpsilon(epsilon));
        var lower = Math.Min(Math.Max(0.0, Optimistic().GetDeltaForEpsilon(epsilon)), upper);
        return new DeltaInterval(lower, upper);
    }
}
