using DiffPriv.Accounting.Events;

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
/// Adjacency is add/remove-one: the accountant keeps the PLD for removing a record and the one for adding a
/// record and reports the worse. It keeps two discretisations of everything it composes: the pessimistic
/// connect-the-dots PLD (dp_accounting's default; its ε is an upper bound and is what <see cref="GetEpsilon"/>
/// reports) and an optimistic PLD obtained by post-processing (its ε is a lower bound), so
/// <see cref="GetEpsilonInterval"/> brackets the exact ε and shows the discretisation error.
/// </para>
/// <para>
/// Supported events: <see cref="GaussianDpEvent"/>, <see cref="LaplaceDpEvent"/>, <see cref="PoissonSampledDpEvent"/> of
/// either, <see cref="SelfComposedDpEvent"/>, <see cref="ComposedDpEvent"/>, <see cref="NoOpDpEvent"/> and
/// <see cref="NonPrivateDpEvent"/> (and zero noise), which make ε = ∞ and δ(ε) = 1.
/// </para>
/// </remarks>
public sealed class PldAccountant : PrivacyAccountant
{
    private PrivacyLossDistribution _pessimistic;
    private PrivacyLossDistribution _optimistic;
    private bool _containsNonPrivateEvent;

    // The optimistic PLD is only needed for the interval queries; its constructions wait here until one is asked.
    private readonly List<(Func<bool, PrivacyLossDistribution> Build, long Count, bool SelfCompose)> _pendingOptimistic = [];

    /// <summary>Creates an accountant that has spent nothing.</summary>
    /// <param name="valueDiscretizationInterval">
    /// Grid step d of the privacy losses (nats), finite and &gt; 0; default 1e-4 as in dp_accounting. Smaller is
    /// tighter (the interval width shrinks roughly like d) and slower (the grids grow like 1/d).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">d is not finite and positive.</exception>
    public PldAccountant(double valueDiscretizationInterval = 1e-4)
        : base(NeighboringRelation.AddOrRemoveOne)
    {
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

    /// <inheritdoc />
    public override bool Supports(DpEvent dpEvent) => dpEvent switch
    {
        NoOpDpEvent or NonPrivateDpEvent or GaussianDpEvent or LaplaceDpEvent => true,
        SelfComposedDpEvent s => Supports(s.Event),
        ComposedDpEvent c => c.Events.All(Supports),
        PoissonSampledDpEvent { Event: GaussianDpEvent or LaplaceDpEvent } => true,
        _ => false,
    };

    /// <inheritdoc />
    protected override void ComposeCore(DpEvent dpEvent, long count)
    {
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
                _containsNonPrivateEvent = true;
                break;
            case GaussianDpEvent g:
                // count runs of N(0, σ²) on a sensitivity-1 query are one run with σ/√count: no discretisation error added.
                Add(pessimistic => PrivacyLossDistribution.FromGaussian(g.NoiseMultiplier / Math.Sqrt(count), ValueDiscretizationInterval, 1.0, pessimistic), 1, selfCompose: false);
                break;
            case LaplaceDpEvent l:
                Add(pessimistic => PrivacyLossDistribution.FromLaplace(l.NoiseMultiplier, ValueDiscretizationInterval, 1.0, pessimistic), count, selfCompose: true);
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

                Add(pessimistic => PrivacyLossDistribution.FromGaussian(g.NoiseMultiplier, ValueDiscretizationInterval, p.SamplingProbability, pessimistic), count, selfCompose: true);
                break;
            case PoissonSampledDpEvent { Event: LaplaceDpEvent l } p:
                if (l.NoiseMultiplier == 0)
                {
                    _containsNonPrivateEvent = true;
                    break;
                }

                Add(pessimistic => PrivacyLossDistribution.FromLaplace(l.NoiseMultiplier, ValueDiscretizationInterval, p.SamplingProbability, pessimistic), count, selfCompose: true);
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
