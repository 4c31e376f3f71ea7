using System.Collections.ObjectModel;
using DiffPriv.Accounting.Events;

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
/// <item><see cref="LaplaceDpEvent"/>: Mironov 2017, Proposition 6, with ε = 1/b; b = 0 gives +∞.</item>
/// <item><see cref="PoissonSampledDpEvent"/> under <see cref="NeighboringRelation.AddOrRemoveOne"/>, when its
/// inner event is a Gaussian or a nest of <see cref="ComposedDpEvent"/>/<see cref="SelfComposedDpEvent"/> of
/// Gaussians (treated as one Gaussian with σ = (Σ σᵢ⁻²)^(−1/2)): the sampled Gaussian mechanism of Mironov,
/// Talwar, Zhang 2019, integer and fractional orders. Also q = 0 (costs nothing) and q = 1 (the inner event
/// itself) with any supported inner event.</item>
/// <item><see cref="SampledWithoutReplacementDpEvent"/> of such Gaussians under
/// <see cref="NeighboringRelation.ReplaceOne"/> only: Wang, Balle, Kasiviswanathan 2019, Theorem 27.</item>
/// <item><see cref="SingleEpochTreeAggregationDpEvent"/> under <see cref="NeighboringRelation.ReplaceSpecial"/>
/// only: ⌈log₂(s + 1)⌉·α/(2σ²) for the longest tree of s steps (Kairouz et al. 2021, appendix D). Trees that share
/// records (several epochs) are composed events.</item>
/// <item><see cref="SelfComposedDpEvent"/>, <see cref="ComposedDpEvent"/>, <see cref="NoOpDpEvent"/>, and
/// <see cref="NonPrivateDpEvent"/> (RDP +∞ at every order, so ε = +∞ and δ = 1).</item>
/// </list>
/// <para>Composition costs one RDP evaluation per order per distinct event, whatever the count.</para>
/// </remarks>
public sealed class RdpAccountant : PrivacyAccountant
{
    private static readonly ReadOnlyCollection<double> DefaultOrderList = Array.AsReadOnly(BuildDefaultOrders());

    private readonly double[] _orders;
    private readonly double[] _rdp;
    private readonly double[] _scratch;

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
            SelfComposedDpEvent s => Supports(s.Event),
            ComposedDpEvent c => c.Events.All(Supports),
            PoissonSampledDpEvent p => NeighboringRelation == NeighboringRelation.AddOrRemoveOne
                && (EffectiveNoiseMultiplier(p.Event) is not null
                    || p.SamplingProbability == 0
                    || (p.SamplingProbability == 1 && Supports(p.Event))),
            SampledWithoutReplacementDpEvent w => NeighboringRelation == NeighboringRelation.ReplaceOne
                && EffectiveNoiseMultiplier(w.Event) is not null,
            SingleEpochTreeAggregationDpEvent => NeighboringRelation == NeighboringRelation.ReplaceSpecial,
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
        var (epsilon, order) = RdpMath.Epsilon(_orders, _rdp, delta);
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
