using System.Collections.ObjectModel;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Numerics;

namespace DiffPriv.Accounting.Rdp;

/// <summary>
/// Privacy accountant based on Rényi differential privacy (Mironov 2017, "Rényi Differential Privacy"): it keeps
/// the RDP ε(α) of everything composed at a fixed set of orders α, adds curves under composition, and converts
/// to (ε, δ)-DP by minimising over the orders. This is the method of Google's dp_accounting <c>RdpAccountant</c>.
/// </summary>
/// <remarks>
/// <para>Supported events (anything else makes <see cref="Supports"/> false):</para>
/// <list type="bullet">
/// <item><see cref="GaussianDpEvent"/>: α/(2σ²); σ = 0 gives +∞.</item>
/// <item><see cref="LaplaceDpEvent"/>: Mironov 2017, Proposition 6, with ε = 1/b; b = 0 gives +∞.
/// <see cref="PermuteAndFlipDpEvent"/> with ε is the Laplace mechanism with b = 1/ε (McKenna &amp; Sheldon 2020).</item>
/// <item><see cref="ZcdpDpEvent"/>: ξ + ρα. <see cref="DiscreteGaussianDpEvent"/>: Δ²/(2σ²)-zCDP in any dimension
/// (Canonne, Kamath &amp; Steinke 2020).</item>
/// <item><see cref="EpsilonDeltaDpEvent"/>: ε as the worst ε-DP mechanism (binary randomized response, Mironov 2017,
/// Proposition 5); δ is set aside and composes as 1 − Π(1 − δᵢ), so <see cref="GetEpsilon"/> at δ proves the RDP
/// part at 1 − (1 − δ)/(1 − δ_set aside) (+∞ when that is negative).</item>
/// <item><see cref="ExponentialMechanismDpEvent"/>: ε-bounded range, min(ξ + ε²α/8, ε) (Cesar &amp; Rogers 2021).
/// dp_accounting adds it once whatever the count; here it composes like every other event.</item>
/// <item><see cref="RandomizedResponseDpEvent"/> under <see cref="NeighboringRelation.ReplaceOne"/> or
/// <see cref="NeighboringRelation.ReplaceSpecial"/> (dp_accounting's formulas for each).</item>
/// <item><see cref="PoissonSampledDpEvent"/> under <see cref="NeighboringRelation.AddOrRemoveOne"/> or
/// <see cref="NeighboringRelation.ReplaceSpecial"/>, when its inner event is a Gaussian or a nest of
/// <see cref="ComposedDpEvent"/>/<see cref="SelfComposedDpEvent"/> of Gaussians (treated as one Gaussian with
/// σ = (Σ σᵢ⁻²)^(−1/2)): the sampled Gaussian mechanism of Mironov, Talwar, Zhang 2019, integer and fractional
/// orders. As in dp_accounting, a ρ-zCDP event (ξ = 0) counts as the Gaussian with σ = 1/√(2ρ) and a discrete
/// Gaussian as the Gaussian with σ/Δ there. Also q = 0 (costs nothing) and q = 1 (the inner event itself) with any
/// supported inner event.</item>
/// <item><see cref="SampledWithoutReplacementDpEvent"/> of such Gaussians under
/// <see cref="NeighboringRelation.ReplaceOne"/> only: Wang, Balle, Kasiviswanathan 2019, Theorem 27.</item>
/// <item><see cref="SingleEpochTreeAggregationDpEvent"/> under <see cref="NeighboringRelation.ReplaceSpecial"/>
/// only: ⌈log₂(s + 1)⌉·α/(2σ²) for the longest tree of s steps (Kairouz et al. 2021, appendix D). Trees that share
/// records (several epochs) are composed events.</item>
/// <item><see cref="RepeatAndSelectDpEvent"/> of any supported event without a δ: Papernot &amp; Steinke 2022,
/// Theorem 2 (truncated negative binomial, shape ≥ 0) and Theorem 6 (Poisson, shape +∞). An inner δ &gt; 0 is
/// refused: it would be spent once per run, a random number of times.</item>
/// <item><see cref="SelfComposedDpEvent"/>, <see cref="ComposedDpEvent"/>, <see cref="NoOpDpEvent"/>, and
/// <see cref="NonPrivateDpEvent"/> (RDP +∞ at every order, so ε = +∞ and δ = 1).</item>
/// </list>
/// <para>Not supported, as in dp_accounting: <see cref="SampledWithReplacementDpEvent"/>,
/// <see cref="TruncatedSubsampledGaussianDpEvent"/>, <see cref="MixtureOfGaussiansDpEvent"/>,
/// <see cref="DiscreteLaplaceDpEvent"/>.</para>
/// <para>Composition costs one RDP evaluation per order per distinct event, whatever the count.</para>
/// </remarks>
public sealed class RdpAccountant : PrivacyAccountant
{
    private static readonly ReadOnlyCollection<double> DefaultOrderList = Array.AsReadOnly(BuildDefaultOrders());

    private readonly double[] _orders;
    private readonly double[] _rdp;
    private readonly double[] _scratch;

    // log(1 − δ) of the (ε, δ) events composed so far, kept in log space so that many tiny δ lose nothing.
    private double _logOneMinusExtraDelta;

    /// <summary>Creates an accountant that has spent nothing.</summary>
    /// <param name="orders">The Rényi orders α at which RDP is tracked; each &gt; 1 (+∞ allowed), at least one.
    /// Null means <see cref="DefaultOrders"/>. More orders give a tighter ε at a proportional cost.</param>
    /// <param name="neighboringRelation">The adjacency under which the guarantee holds. Poisson sampling is analysed
    /// under <see cref="NeighboringRelation.AddOrRemoveOne"/>, sampling without replacement under
    /// <see cref="NeighboringRelation.ReplaceOne"/>, tree aggregation under
    /// <see cref="NeighboringRelation.ReplaceSpecial"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="orders"/> is empty or holds an order ≤ 1 or NaN.</exception>
    public RdpAccountant(IReadOnlyList<double>? orders = null, NeighboringRelation neighboringRelation = NeighboringRelation.AddOrRemoveOne)
        : base(neighboringRelation)
    {
        var list = (orders ?? DefaultOrderList).ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("At least one RDP order is required.", nameof(orders));
        }

        foreach (var a in list)
        {
            if (!(a > 1))
            {
                throw new ArgumentException($"RDP orders must be > 1 (found {a}).", nameof(orders));
            }
        }

        _orders = list;
        _rdp = new double[list.Length];
        _scratch = new double[list.Length];
        Orders = Array.AsReadOnly((double[])list.Clone());
    }

    /// <summary>
    /// dp_accounting's default orders (<c>DEFAULT_RDP_ORDERS</c>), 156 values: 1.1, 1.2, …, 10.9 (step 0.1),
    /// then 11, 12, …, 63, then 128, 256, 512, 1024.
    /// </summary>
    public static IReadOnlyList<double> DefaultOrders => DefaultOrderList;

    /// <summary>The orders α tracked by this accountant, in the order given to the constructor.</summary>
    public IReadOnlyList<double> Orders { get; }

    /// <summary>
    /// A snapshot of the accumulated RDP ε(α) (in nats) at each of <see cref="Orders"/>; +∞ where no finite bound
    /// holds (for example order +∞ of a Gaussian, or a fractional order whose series did not converge).
    /// </summary>
    public IReadOnlyList<double> RdpValues => Array.AsReadOnly((double[])_rdp.Clone());

    /// <inheritdoc />
    public override bool Supports(DpEvent dpEvent)
    {
        ArgumentNullException.ThrowIfNull(dpEvent);
        return dpEvent switch
        {
            NoOpDpEvent or NonPrivateDpEvent or GaussianDpEvent or LaplaceDpEvent => true,
            ZcdpDpEvent or DiscreteGaussianDpEvent or EpsilonDeltaDpEvent => true,
            ExponentialMechanismDpEvent or PermuteAndFlipDpEvent => true,
            SelfComposedDpEvent s => Supports(s.Event),
            ComposedDpEvent c => c.Events.All(Supports),
            PoissonSampledDpEvent p => NeighboringRelation is NeighboringRelation.AddOrRemoveOne or NeighboringRelation.ReplaceSpecial
                && (EffectiveNoiseMultiplier(p.Event) is not null
                    || p.SamplingProbability == 0
                    || (p.SamplingProbability == 1 && Supports(p.Event))),
            SampledWithoutReplacementDpEvent w => NeighboringRelation == NeighboringRelation.ReplaceOne
                && EffectiveNoiseMultiplier(w.Event) is not null,
            SingleEpochTreeAggregationDpEvent => NeighboringRelation == NeighboringRelation.ReplaceSpecial,
            RandomizedResponseDpEvent => NeighboringRelation is NeighboringRelation.ReplaceOne or NeighboringRelation.ReplaceSpecial,
            RepeatAndSelectDpEvent r => Supports(r.Event) && !HasDelta(r.Event),
            _ => false,
        };
    }

    /// <inheritdoc />
    protected override void ComposeCore(DpEvent dpEvent, long count) => Accumulate(dpEvent, count);

    /// <summary>The smallest ε provable at δ from the RDP curve (see <see cref="GetEpsilonAndOrder"/>).</summary>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <returns>ε ≥ 0, or +∞.</returns>
    /// <exception cref="ArgumentOutOfRangeException">δ is outside [0, 1] or NaN.</exception>
    public override double GetEpsilon(double delta) => GetEpsilonAndOrder(delta).Epsilon;

    /// <summary>
    /// The smallest ε provable at δ and the order that gives it, by the conversion of Canonne, Kamath, Steinke 2020
    /// ("The Discrete Gaussian for Differential Privacy", Proposition 12; also Asoodeh et al. 2020):
    /// ε = min over α of ε(α) + log(1 − 1/α) − log(δ·α)/(α − 1), and ε = 0 at orders where the KL bound
    /// δ ≥ √(1 − e^{−ε(α)}) already holds. Orders in (1, 1.01] only use the KL bound.
    /// </summary>
    /// <param name="delta">δ ∈ [0, 1]. δ = 0 gives ε = 0 if nothing was spent, else +∞ (order 0).</param>
    /// <returns>ε ≥ 0 (possibly +∞) and the minimising order.</returns>
    /// <exception cref="ArgumentOutOfRangeException">δ is outside [0, 1] or NaN.</exception>
    public RdpEpsilonResult GetEpsilonAndOrder(double delta)
    {
        ValidateDelta(delta);
        var effectiveDelta = delta;
        if (_logOneMinusExtraDelta != 0)
        {
            // δ = 1 − (1 − δ_RDP)(1 − δ_extra): the RDP curve must prove the rest.
            if (delta == 1)
            {
                effectiveDelta = 1;
            }
            else
            {
                var logRest = LogMath.Log1p(-delta) - _logOneMinusExtraDelta;
                if (logRest > 0)
                {
                    return new RdpEpsilonResult(double.PositiveInfinity, 0);
                }

                effectiveDelta = -LogMath.Expm1(logRest);
            }
        }

        var (epsilon, order) = RdpMath.Epsilon(_orders, _rdp, effectiveDelta);
        return new RdpEpsilonResult(epsilon, order);
    }

    /// <summary>The smallest δ provable at ε from the RDP curve (see <see cref="GetDeltaAndOrder"/>).</summary>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <returns>δ ∈ [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException">ε is negative or NaN.</exception>
    public override double GetDelta(double epsilon) => GetDeltaAndOrder(epsilon).Delta;

    /// <summary>
    /// The smallest δ provable at ε and the order that gives it: δ = min over α of
    /// min(√(1 − e^{−ε(α)}), exp((α − 1)(ε(α) − ε + log(1 − 1/α)) − log α)) (Canonne, Kamath, Steinke 2020,
    /// Proposition 12, and the KL bound), capped at 1.
    /// </summary>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <returns>δ ∈ [0, 1] and the minimising order.</returns>
    /// <exception cref="ArgumentOutOfRangeException">ε is negative or NaN.</exception>
    public RdpDeltaResult GetDeltaAndOrder(double epsilon)
    {
        ValidateEpsilon(epsilon);
        var (delta, order) = RdpMath.Delta(_orders, _rdp, epsilon);
        if (_logOneMinusExtraDelta != 0)
        {
            delta = -LogMath.Expm1(LogMath.Log1p(-delta) + _logOneMinusExtraDelta);
        }

        return new RdpDeltaResult(delta, order);
    }

    private static double[] BuildDefaultOrders()
    {
        var orders = new List<double>(156);
        for (var x = 1; x < 100; x++)
        {
            orders.Add(1 + (x / 10.0));
        }

        for (var a = 11; a < 64; a++)
        {
            orders.Add(a);
        }

        orders.AddRange([128, 256, 512, 1024]);
        return [.. orders];
    }

    /// <summary>σ of the single Gaussian equivalent to a nest of composed Gaussians, or null if not such a nest.</summary>
    private static double? EffectiveNoiseMultiplier(DpEvent dpEvent)
    {
        switch (dpEvent)
        {
            case GaussianDpEvent g:
                return g.NoiseMultiplier;
            case ZcdpDpEvent { Xi: 0 } z:
                // ρ-zCDP is the RDP curve of a Gaussian with ρ = 1/(2σ²); with ξ > 0 it is no Gaussian's.
                return 1 / Math.Sqrt(2 * z.Rho);
            case DiscreteGaussianDpEvent d:
                return d.Sigma / d.Sensitivity;
            case SelfComposedDpEvent s:
                {
                    var inner = EffectiveNoiseMultiplier(s.Event);
                    if (inner is null)
                    {
                        return null;
                    }

                    // k runs of N(0, σ²) on the same query are one run with σ/√k; zero runs add no information.
                    return s.Count == 0 ? double.PositiveInfinity : inner.Value / Math.Sqrt(s.Count);
                }

            case ComposedDpEvent c:
                {
                    var sumInverseSquares = 0.0;
                    foreach (var e in c.Events)
                    {
                        var sigma = EffectiveNoiseMultiplier(e);
                        if (sigma is null)
                        {
                            return null;
                        }

                        sumInverseSquares += 1.0 / (sigma.Value * sigma.Value);
                    }

                    return 1.0 / Math.Sqrt(sumInverseSquares);
                }

            default:
                return null;
        }
    }

    /// <summary>Whether the event holds an (ε, δ) event with δ &gt; 0, which repeat-and-select cannot analyse.</summary>
    private static bool HasDelta(DpEvent dpEvent) => dpEvent switch
    {
        EpsilonDeltaDpEvent e => e.Delta > 0,
        SelfComposedDpEvent s => s.Count > 0 && HasDelta(s.Event),
        ComposedDpEvent c => c.Events.Any(HasDelta),
        PoissonSampledDpEvent p => HasDelta(p.Event),
        SampledWithoutReplacementDpEvent w => HasDelta(w.Event),
        RepeatAndSelectDpEvent r => HasDelta(r.Event),
        _ => false,
    };

    private void Accumulate(DpEvent dpEvent, double multiplier)
    {
        if (multiplier == 0)
        {
            return;
        }

        switch (dpEvent)
        {
            case NoOpDpEvent:
                return;
            case NonPrivateDpEvent:
                Array.Fill(_scratch, double.PositiveInfinity);
                break;
            case SelfComposedDpEvent s:
                Accumulate(s.Event, multiplier * s.Count);
                return;
            case ComposedDpEvent c:
                foreach (var e in c.Events)
                {
                    Accumulate(e, multiplier);
                }

                return;
            case GaussianDpEvent g:
                Evaluate(a => RdpMath.Gaussian(g.NoiseMultiplier, a));
                break;
            case LaplaceDpEvent l:
                {
                    var eps = l.NoiseMultiplier == 0 ? double.PositiveInfinity : 1.0 / l.NoiseMultiplier;
                    Evaluate(a => RdpMath.Laplace(eps, a));
                    break;
                }

            case PoissonSampledDpEvent p when p.SamplingProbability == 0:
                return;
            case PoissonSampledDpEvent p when EffectiveNoiseMultiplier(p.Event) is { } sigma:
                {
                    var q = p.SamplingProbability;
                    Evaluate(a => RdpMath.PoissonSampledGaussian(q, sigma, a));
                    break;
                }

            case PoissonSampledDpEvent p:
                // q = 1 with a non-Gaussian inner event (Supports guarantees it): the sample is the whole dataset.
                Accumulate(p.Event, multiplier);
                return;
            case SampledWithoutReplacementDpEvent w:
                {
                    var sigma = EffectiveNoiseMultiplier(w.Event)!.Value;
                    var q = w.SampleSize == 0 ? 0.0 : (double)w.SampleSize / w.SourceDatasetSize;
                    Evaluate(a => RdpMath.SampledWithoutReplacementGaussian(q, sigma, a));
                    break;
                }

            case ZcdpDpEvent z:
                Evaluate(a => RdpMath.Zcdp(z.Rho, z.Xi, a));
                break;
            case DiscreteGaussianDpEvent d:
                {
                    // Δ²/(2σ²)-zCDP; σ = 0 releases the exact answer.
                    var rho = d.Sigma == 0 ? double.PositiveInfinity : d.Sensitivity * d.Sensitivity / (2 * d.Sigma * d.Sigma);
                    Evaluate(a => RdpMath.Zcdp(rho, 0, a));
                    break;
                }

            case EpsilonDeltaDpEvent e:
                {
                    // δ composes as 1 − (1 − δ_old)(1 − δ)^count; ε as a pure ε-DP mechanism.
                    _logOneMinusExtraDelta += multiplier * LogMath.Log1p(-e.Delta);
                    var eps = e.Epsilon;
                    Evaluate(a => RdpMath.PureDp(eps, a));
                    break;
                }

            case ExponentialMechanismDpEvent x:
                {
                    var eps = x.Epsilon;
                    Evaluate(a => RdpMath.ExponentialMechanism(eps, a));
                    break;
                }

            case PermuteAndFlipDpEvent f:
                {
                    // Its privacy loss distribution is the Laplace mechanism's with scale 1/ε (McKenna & Sheldon 2020).
                    var eps = f.Epsilon;
                    Evaluate(a => RdpMath.Laplace(eps, a));
                    break;
                }

            case RandomizedResponseDpEvent r:
                {
                    var p = r.NoiseParameter;
                    var k = r.NumBuckets;
                    if (NeighboringRelation == NeighboringRelation.ReplaceOne)
                    {
                        Evaluate(a => RdpMath.RandomizedResponseReplaceOne(p, k, a));
                    }
                    else
                    {
                        Evaluate(a => RdpMath.RandomizedResponseReplaceSpecial(p, k, a));
                    }

                    break;
                }

            case RepeatAndSelectDpEvent r:
                {
                    // The inner event's curve alone (one run), transformed, then composed `multiplier` times.
                    var saved = (double[])_rdp.Clone();
                    Array.Clear(_rdp);
                    Accumulate(r.Event, 1);
                    var selected = RepeatAndSelectRdp.Compute(_orders, _rdp, r.Mean, r.Shape);
                    Array.Copy(saved, _rdp, _rdp.Length);
                    Array.Copy(selected, _scratch, _scratch.Length);
                    break;
                }

            case SingleEpochTreeAggregationDpEvent t:
                {
                    var sigma = t.NoiseMultiplier;
                    var maxSteps = t.StepCounts.Max();
                    Evaluate(a => RdpMath.TreeAggregation(sigma, maxSteps, a));
                    break;
                }

            default:
                throw new UnsupportedDpEventException(dpEvent, nameof(RdpAccountant));
        }

        for (var k = 0; k < _rdp.Length; k++)
        {
            var value = _scratch[k];
            if (value != 0)
            {
                _rdp[k] += multiplier * value;
            }
        }
    }

    private void Evaluate(Func<double, double> rdpAtOrder)
    {
        for (var k = 0; k < _orders.Length; k++)
        {
            _scratch[k] = rdpAtOrder(_orders[k]);
        }
    }
}
