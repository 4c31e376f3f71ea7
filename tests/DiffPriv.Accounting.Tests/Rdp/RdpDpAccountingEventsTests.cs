using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Rdp;
using static DiffPriv.Accounting.Tests.Rdp.RdpTestHelpers;

namespace DiffPriv.Accounting.Tests.Rdp;

/// <summary>
/// The RDP accountant on dp_accounting's other events: zCDP, discrete Gaussian, (ε, δ), exponential mechanism,
/// permute-and-flip and randomized response. DPA: google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py
/// (the tests named below). "Computed" values are DPA's <c>RdpAccountant</c> at that commit, run here because its
/// tests state no number for those settings (reference_values.py recomputes them). DPA's tests at order 1 run here at
/// orders above 1, which is all this accountant accepts.
/// </summary>
public sealed class RdpDpAccountingEventsTests
{
    private static RdpAccountant Compose(IReadOnlyList<double>? orders, DpEvent dpEvent, NeighboringRelation relation = NeighboringRelation.AddOrRemoveOne, long count = 1)
    {
        var accountant = new RdpAccountant(orders, relation);
        accountant.Compose(dpEvent, count);
        return accountant;
    }

    private static double Rdp(DpEvent dpEvent, double order, NeighboringRelation relation = NeighboringRelation.AddOrRemoveOne) =>
        Compose([order], dpEvent, relation).RdpValues[0];

    // DPA test_supports, the events added since: zCDP, exponential mechanism, randomized response, discrete Gaussian,
    // sampling with replacement; plus the relations DPA's code accepts for each.
    [Fact]
    public void SupportsFollowsDpAccounting()
    {
        var addRemove = new RdpAccountant([2.0]);
        var replace = new RdpAccountant([2.0], NeighboringRelation.ReplaceOne);
        var special = new RdpAccountant([2.0], NeighboringRelation.ReplaceSpecial);
        DpEvent[] everywhere =
        [
            new ZcdpDpEvent(1.0, 2.0),
            new ExponentialMechanismDpEvent(1.0),
            new PermuteAndFlipDpEvent(1.0),
            new EpsilonDeltaDpEvent(1.0, 1e-6),
            new DiscreteGaussianDpEvent(10.0),
        ];
        foreach (var e in everywhere)
        {
            Assert.True(addRemove.Supports(e), e.ToString());
            Assert.True(replace.Supports(e), e.ToString());
            Assert.True(special.Supports(e), e.ToString());
        }

        var sampledDiscrete = new PoissonSampledDpEvent(0.1, new DiscreteGaussianDpEvent(10.0));
        Assert.True(addRemove.Supports(sampledDiscrete));
        Assert.False(replace.Supports(sampledDiscrete));
        Assert.True(special.Supports(sampledDiscrete));

        var randomizedResponse = new RandomizedResponseDpEvent(0.3, 15);
        Assert.False(addRemove.Supports(randomizedResponse));
        Assert.True(replace.Supports(randomizedResponse));
        Assert.True(special.Supports(randomizedResponse));

        var withReplacement = new SampledWithReplacementDpEvent(1000, 10, new GaussianDpEvent(1.0));
        Assert.False(addRemove.Supports(withReplacement));
        Assert.False(replace.Supports(withReplacement));
        Assert.False(special.Supports(withReplacement));

        // DPA test_poisson_sampled_zcdp_xi_positive_unsupported; DPA also has no RDP analysis of these three.
        Assert.False(addRemove.Supports(new PoissonSampledDpEvent(0.01, new ZcdpDpEvent(1.0, 0.5))));
        Assert.False(addRemove.Supports(new TruncatedSubsampledGaussianDpEvent(1000, 0.01, 20, 1.0)));
        Assert.False(addRemove.Supports(new MixtureOfGaussiansDpEvent(1.0, [0, 1], [0.9, 0.1])));
        Assert.False(addRemove.Supports(new DiscreteLaplaceDpEvent(1.0, 1)));
    }

    // DPA test_compute_rdp_multi_zcdp and test_zcdp_matches_gaussian.
    [Fact]
    public void ZcdpIsXiPlusRhoAlpha()
    {
        var rdp = Compose([2.0], new ComposedDpEvent([new ZcdpDpEvent(2.71828, 3.14159), new ZcdpDpEvent(6.28319, 1.23456)])).RdpValues[0];
        Assert.Equal(3.14159 + 1.23456 + (2.0 * (2.71828 + 6.28319)), rdp, Places7);

        const double Sigma = 3.14159;
        Assert.Equal(Rdp(new GaussianDpEvent(Sigma), 2.71828), Rdp(new ZcdpDpEvent(1 / (2 * Sigma * Sigma)), 2.71828), Places7);
        Assert.Equal(double.PositiveInfinity, Rdp(new ZcdpDpEvent(0.1), double.PositiveInfinity));
        Assert.Equal(0.25, Rdp(new ZcdpDpEvent(0, 0.25), double.PositiveInfinity));
    }

    // DPA test_discrete_gaussian_rdp, test_discrete_gaussian_matches_zcdp, test_discrete_gaussian_matches_continuous_gaussian.
    [Fact]
    public void DiscreteGaussianIsZcdpWithSensitivitySquaredOverTwoSigmaSquared()
    {
        Assert.Equal(3.14159 * 4.0 / (2 * 25.0), Rdp(new DiscreteGaussianDpEvent(5.0, 2.0), 3.14159), Places7);
        Assert.Equal(Rdp(new ZcdpDpEvent(1 / (2 * 3.14159 * 3.14159)), 2.71828), Rdp(new DiscreteGaussianDpEvent(3.14159, 1.0), 2.71828), Places7);
        Assert.Equal(Rdp(new GaussianDpEvent(3.14159), 2.71828), Rdp(new DiscreteGaussianDpEvent(3.14159), 2.71828), Places7);
        Assert.Equal(double.PositiveInfinity, Rdp(new DiscreteGaussianDpEvent(0.0), 2.0));
    }

    // DPA test_poisson_sampled_zcdp_matches_gaussian and test_poisson_sampled_discrete_gaussian_matches_gaussian (rtol 1e-10).
    [Fact]
    public void SampledZcdpAndDiscreteGaussianAreSampledGaussians()
    {
        double[] orders = [1.5, 2.5, 5, 50, 100];
        DpEvent Sampled(DpEvent inner) => new SelfComposedDpEvent(new PoissonSampledDpEvent(0.01, inner), 50);
        var gaussian = Compose(orders, Sampled(new GaussianDpEvent(2.5))).RdpValues;
        var zcdp = Compose(orders, Sampled(new ZcdpDpEvent(0.5 / (2.5 * 2.5)))).RdpValues;
        var discrete = Compose(orders, Sampled(new DiscreteGaussianDpEvent(2.5))).RdpValues;
        for (var k = 0; k < orders.Length; k++)
        {
            AssertRelative(gaussian[k], zcdp[k], 1e-10);
            AssertRelative(gaussian[k], discrete[k], 1e-10);
        }
    }

    // DPA test_compute_rdp_exponential_mechanism states 0.123301561 at order 1 and 1.0 at order 1000 for ε = 1;
    // the other orders are computed (DPA: 0.18580156148224458 at 1.5, 0.24830156148224458 at 2, 1.0 at 10).
    [Fact]
    public void ExponentialMechanismIsBoundedRange()
    {
        Assert.Equal(0.123301561, RdpMath.ExponentialMechanism(1.0, 1.0), Places7);
        var rdp = Compose([1.5, 2.0, 10.0, 1000.0], new ExponentialMechanismDpEvent(1.0)).RdpValues;
        AssertRelative(0.18580156148224458, rdp[0], 1e-14);
        AssertRelative(0.24830156148224458, rdp[1], 1e-14);
        Assert.Equal(1.0, rdp[2]);
        Assert.Equal(1.0, rdp[3]);
        // Computed for ε = 0.1: 0.001874826427459834 at 1.5 and 0.1 at 1000.
        var small = Compose([1.5, 1000.0], new ExponentialMechanismDpEvent(0.1)).RdpValues;
        AssertRelative(0.001874826427459834, small[0], 1e-9);
        Assert.Equal(0.1, small[1]);
        // Computed: ε(1e-6) with DPA's default orders 1.0057522259947587.
        AssertRelative(1.0057522259947587, Compose(null, new ExponentialMechanismDpEvent(1.0)).GetEpsilon(1e-6), 1e-12);
    }

    // DPA's RdpAccountant adds the exponential mechanism's RDP once whatever the count (its _maybe_compose omits the
    // factor); composition multiplies it here, as for every other event.
    [Fact]
    public void ExponentialMechanismComposes()
    {
        var once = Compose([2.0], new ExponentialMechanismDpEvent(1.0)).RdpValues[0];
        Assert.Equal(5 * once, Compose([2.0], new ExponentialMechanismDpEvent(1.0), count: 5).RdpValues[0], 1e-12);
        Assert.Equal(5 * once, Compose([2.0], new SelfComposedDpEvent(new ExponentialMechanismDpEvent(1.0), 5)).RdpValues[0], 1e-12);
    }

    // DPA test_permute_and_flip_matches_laplace; computed: 10 runs at ε 0.5, ε(1e-6) 4.9989813679296375.
    [Fact]
    public void PermuteAndFlipIsLaplace()
    {
        double[] orders = [2.0, 10.0, 100.0];
        Assert.Equal(Compose(orders, new LaplaceDpEvent(1.0)).RdpValues, Compose(orders, new PermuteAndFlipDpEvent(1.0)).RdpValues);
        AssertRelative(4.9989813679296375, Compose(null, new SelfComposedDpEvent(new PermuteAndFlipDpEvent(0.5), 10)).GetEpsilon(1e-6), 1e-12);
        Assert.Equal(0.0, Compose(null, new PermuteAndFlipDpEvent(0.0)).GetEpsilon(1e-6));
        Assert.Equal(double.PositiveInfinity, Compose(null, new PermuteAndFlipDpEvent(double.PositiveInfinity)).GetEpsilon(1e-6));
    }

    // DPA test_compute_rdp_randomized_response_replace_special / _replace_one: the stated values (rtol 1e-4), and the
    // full-precision values DPA computes for them (rtol 1e-12).
    [Theory]
    [InlineData(0.3, 10, NeighboringRelation.ReplaceSpecial, new[] { 1.5030552584146897, 1.7801182478869704, 1.9091969256833639, 1.9814516798923105, 1.9846954517418232, 1.9878743481543455 })]
    [InlineData(0.05, 20, NeighboringRelation.ReplaceSpecial, new[] { 2.8985312222056674, 2.9615414620514047, 2.982908949957726, 2.994685471627712, 2.9952141594692665, 2.995732273553991 })]
    [InlineData(0.01, 3, NeighboringRelation.ReplaceSpecial, new[] { 3.851345343526459, 4.334924907685137, 4.503803908976894, 4.596895387863428, 4.601074578835478, 4.605170185988092 })]
    [InlineData(0.3, 10, NeighboringRelation.ReplaceOne, new[] { 2.6946320226546314, 2.983865364028855, 3.11316970070507, 3.1854244842182466, 3.1886682560677593, 3.1918471524802814 })]
    [InlineData(0.05, 20, NeighboringRelation.ReplaceOne, new[] { 5.850317703374384, 5.910360162307462, 5.930633082131939, 5.94180620835157, 5.942307807732949, 5.942799375126701 })]
    [InlineData(0.01, 3, NeighboringRelation.ReplaceOne, new[] { 5.684126770932727, 5.692634596034571, 5.695421239467805, 5.696956976543137, 5.697025920968522, 5.697093486505405 })]
    public void RandomizedResponseMatchesDpAccounting(double p, long k, NeighboringRelation relation, double[] stated)
    {
        double[] orders = [1.5, 2.5, 5, 50, 100, double.PositiveInfinity];
        var rdp = Compose(orders, new RandomizedResponseDpEvent(p, k), relation).RdpValues;
        for (var i = 0; i < orders.Length; i++)
        {
            AssertRelative(stated[i], rdp[i], 1e-4);
        }

        var computed = (p, relation) switch
        {
            (0.3, NeighboringRelation.ReplaceSpecial) => new[] { 1.5030552584146895, 1.7801182478869702, 1.9091969256833636, 1.9814516798923105, 1.9846954517418232, 1.9878743481543453 },
            (0.05, NeighboringRelation.ReplaceSpecial) => [2.898531222205669, 2.9615414620514073, 2.9829089499577277, 2.9946854716277143, 2.995214159469268, 2.995732273553991],
            (0.01, NeighboringRelation.ReplaceSpecial) => [3.851345343526465, 4.334924907685143, 4.5038039089769, 4.596895387863435, 4.601074578835483, 4.605170185988091],
            (0.3, _) => [2.6946320226546305, 2.9838653640288553, 3.11316970070507, 3.185424484218246, 3.1886682560677593, 3.1918471524802814],
            (0.05, _) => [5.850317703374385, 5.910360162307463, 5.930633082131941, 5.941806208351572, 5.94230780773295, 5.9427993751267],
            _ => [5.684126770932734, 5.69263459603458, 5.695421239467812, 5.696956976543144, 5.697025920968528, 5.697093486505405],
        };
        for (var i = 0; i < orders.Length; i++)
        {
            AssertRelative(computed[i], rdp[i], 1e-12);
        }
    }

    // DPA test_compute_rdp_randomized_response_boundary and _inf_order (places 7).
    [Theory]
    [InlineData(NeighboringRelation.ReplaceSpecial, 2.302585092994046)]
    [InlineData(NeighboringRelation.ReplaceOne, 4.51085950651685)]
    public void RandomizedResponseBoundaries(NeighboringRelation relation, double infiniteOrder)
    {
        double[] orders = [1.1, 1.2];
        Assert.Equal([0.0, 0.0], Compose(orders, new RandomizedResponseDpEvent(1, 2), relation).RdpValues);
        Assert.Equal([double.PositiveInfinity, double.PositiveInfinity], Compose(orders, new RandomizedResponseDpEvent(0, 2), relation).RdpValues);
        Assert.Equal([0.0, 0.0], Compose(orders, new RandomizedResponseDpEvent(0.1, 1), relation).RdpValues);
        Assert.Equal(infiniteOrder, Rdp(new RandomizedResponseDpEvent(0.1, 10), double.PositiveInfinity, relation), Places7);
    }

    // Computed: 20 runs of 4-ary randomized response with p 0.5, ε(1e-6) with DPA's default orders.
    [Theory]
    [InlineData(NeighboringRelation.ReplaceSpecial, 18.314206283985982)]
    [InlineData(NeighboringRelation.ReplaceOne, 32.17714989518488)]
    public void ComposedRandomizedResponseMatchesDpAccounting(NeighboringRelation relation, double epsilon)
    {
        var result = Compose(null, new SelfComposedDpEvent(new RandomizedResponseDpEvent(0.5, 4), 20), relation).GetEpsilonAndOrder(1e-6);
        AssertRelative(epsilon, result.Epsilon, 1e-12);
        Assert.Equal(63.0, result.OptimalOrder);
    }

    // DPA test_epsilon_delta_dp_event (places 6).
    [Fact]
    public void DeltaOfAnEpsilonDeltaEventIsSetAside()
    {
        const double TargetDelta = 0.02;
        const double ExtraDelta = 0.01;
        var accountant = new RdpAccountant();
        accountant.Compose(new GaussianDpEvent(1.0)).Compose(new EpsilonDeltaDpEvent(0, ExtraDelta));
        var reference = new RdpAccountant();
        reference.Compose(new GaussianDpEvent(1.0));

        var effectiveDelta = 1 - ((1 - TargetDelta) / (1 - ExtraDelta));
        Assert.Equal(reference.GetEpsilon(effectiveDelta), accountant.GetEpsilon(TargetDelta), 1e-6);
        var referenceDelta = reference.GetDelta(1.0);
        Assert.Equal(referenceDelta + ExtraDelta - (referenceDelta * ExtraDelta), accountant.GetDelta(1.0), 1e-6);
        Assert.Equal(double.PositiveInfinity, accountant.GetEpsilon(0.005));
        // δ exactly the set-aside δ leaves nothing for the Gaussian; δ = 1 needs no ε.
        Assert.Equal(double.PositiveInfinity, accountant.GetEpsilon(ExtraDelta));
        Assert.Equal(0.0, accountant.GetEpsilon(1.0));
    }

    // DPA test_epsilon_delta_dp_event_with_epsilon.
    [Fact]
    public void EpsilonOfAnEpsilonDeltaEventIsPureDp()
    {
        var accountant = Compose(null, new EpsilonDeltaDpEvent(1.0, 0.0));
        Assert.InRange(accountant.GetEpsilon(1e-5), 1.0, 1.01);
        Assert.InRange(accountant.GetEpsilon(1e-3), 0.99, 1.0);
        Assert.Equal(double.PositiveInfinity, Compose(null, new EpsilonDeltaDpEvent(double.PositiveInfinity, 0.0)).GetEpsilon(0.5));
        Assert.Equal(0.0, Compose(null, new EpsilonDeltaDpEvent(0.0, 0.0)).GetEpsilon(1e-9));
    }

    // DPA test_epsilon_delta_dp_event_self_composed (places 10): δ composes as 1 − (1 − δ)^count.
    // Computed with it: ε(1e-5) = 6.6123495971089294 for 100 × (0.1, 1e-7).
    [Fact]
    public void DeltasComposeMultiplicatively()
    {
        var accountant = Compose(null, new SelfComposedDpEvent(new EpsilonDeltaDpEvent(0, 0.001), 10));
        Assert.Equal(1 - Math.Pow(1 - 0.001, 10), accountant.GetDelta(0.0), 1e-10);
        var many = Compose(null, new SelfComposedDpEvent(new EpsilonDeltaDpEvent(0.1, 1e-7), 100));
        AssertRelative(6.6123495971089294, many.GetEpsilon(1e-5), 1e-12);
        AssertRelative(9.999950500161699e-06, many.GetDelta(double.MaxValue), 1e-12);
    }

    // Computed: (1, 1e-6) then Gaussian(2): ε(1e-5) 3.141419248387754 at α 9.5, δ(2) 0.013152144204092513;
    // 50 × zCDP(0.01, 0.001): ε(1e-6) 5.271539631154418; 30 × discrete Gaussian(4, Δ 2, 10 dims): 17.161440103711584.
    [Fact]
    public void MixedCompositionsMatchDpAccounting()
    {
        var mixed = Compose(null, new ComposedDpEvent([new EpsilonDeltaDpEvent(1.0, 1e-6), new GaussianDpEvent(2.0)]));
        var result = mixed.GetEpsilonAndOrder(1e-5);
        AssertRelative(3.141419248387754, result.Epsilon, 1e-12);
        Assert.Equal(9.5, result.OptimalOrder, 12);
        AssertRelative(0.013152144204092513, mixed.GetDelta(2.0), 1e-12);
        AssertRelative(5.271539631154418, Compose(null, new SelfComposedDpEvent(new ZcdpDpEvent(0.01, 0.001), 50)).GetEpsilon(1e-6), 1e-12);
        AssertRelative(17.161440103711584, Compose(null, new SelfComposedDpEvent(new DiscreteGaussianDpEvent(4.0, 2.0, 10), 30)).GetEpsilon(1e-6), 1e-12);
    }
}
