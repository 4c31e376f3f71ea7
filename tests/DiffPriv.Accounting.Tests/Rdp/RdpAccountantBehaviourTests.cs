using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting.Tests.Rdp;

/// <summary>
/// What the RDP accountant accepts, under which relation, and its API surface. DPA: google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant.py and
/// rdp_privacy_accountant_test.py (test_supports etc.).
/// </summary>
public sealed class RdpAccountantBehaviourTests
{
    private static readonly GaussianDpEvent Gaussian = new(1.0);

    // DPA rdp_privacy_accountant.py DEFAULT_RDP_ORDERS.
    [Fact]
    public void DefaultOrdersAreDpAccountants()
    {
        var orders = RdpAccountant.DefaultOrders;
        Assert.Equal(156, orders.Count);
        Assert.Equal(1.1, orders[0]);
        Assert.Equal(10.9, orders[98]);
        Assert.Equal(11.0, orders[99]);
        Assert.Equal(63.0, orders[151]);
        Assert.Equal([128.0, 256, 512, 1024], orders.Skip(152));
        Assert.Equal(orders, new RdpAccountant().Orders);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.NegativeInfinity)]
    public void OrdersMustExceedOne(double bad)
    {
        var ex = Assert.Throws<ArgumentException>(() => new RdpAccountant([2.0, bad]));
        Assert.Equal("orders", ex.ParamName);
        Assert.Throws<ArgumentException>(() => new RdpAccountant([]));
    }

    [Fact]
    public void OrdersAreCopied()
    {
        var orders = new[] { 2.0, 3.0 };
        var accountant = new RdpAccountant(orders);
        orders[0] = 5.0;
        Assert.Equal([2.0, 3.0], accountant.Orders);
    }

    // DPA test_supports, for the events this library has.
    [Fact]
    public void SupportsFollowsDpAccounting()
    {
        var addRemove = new RdpAccountant();
        var replace = new RdpAccountant(neighboringRelation: NeighboringRelation.ReplaceOne);
        var special = new RdpAccountant(neighboringRelation: NeighboringRelation.ReplaceSpecial);
        DpEvent[] everywhere =
        [
            Gaussian,
            new LaplaceDpEvent(1.0),
            new SelfComposedDpEvent(Gaussian, 6),
            new ComposedDpEvent([Gaussian, new GaussianDpEvent(2.0)]),
            new NoOpDpEvent(),
            new NonPrivateDpEvent(),
        ];
        foreach (var e in everywhere)
        {
            Assert.True(addRemove.Supports(e), e.ToString());
            Assert.True(replace.Supports(e), e.ToString());
            Assert.True(special.Supports(e), e.ToString());
        }

        var poisson = new PoissonSampledDpEvent(0.1, Gaussian);
        var poissonComposed = new PoissonSampledDpEvent(0.1, new ComposedDpEvent([Gaussian, new SelfComposedDpEvent(new GaussianDpEvent(2.0), 3)]));
        Assert.True(addRemove.Supports(poisson));
        Assert.True(addRemove.Supports(poissonComposed));
        Assert.False(replace.Supports(poisson));
        Assert.False(replace.Supports(poissonComposed));

        var withoutReplacement = new SampledWithoutReplacementDpEvent(1000, 10, Gaussian);
        var withoutReplacementComposed = new SampledWithoutReplacementDpEvent(1000, 10, new ComposedDpEvent([Gaussian, new GaussianDpEvent(2.0)]));
        Assert.False(addRemove.Supports(withoutReplacement));
        Assert.False(addRemove.Supports(withoutReplacementComposed));
        Assert.True(replace.Supports(withoutReplacement));
        Assert.True(replace.Supports(withoutReplacementComposed));
        Assert.False(special.Supports(withoutReplacement));

        // A sampled Laplace has no RDP analysis here (dp_accounting: "Subevent … must be a GaussianDpEvent").
        Assert.False(addRemove.Supports(new PoissonSampledDpEvent(0.1, new LaplaceDpEvent(1.0))));
        Assert.False(addRemove.Supports(new PoissonSampledDpEvent(0.1, new ComposedDpEvent([Gaussian, new LaplaceDpEvent(1.0)]))));
        Assert.False(replace.Supports(new SampledWithoutReplacementDpEvent(100, 10, new LaplaceDpEvent(1.0))));
        Assert.False(addRemove.Supports(new ComposedDpEvent([Gaussian, withoutReplacement])));
        Assert.False(addRemove.Supports(new SelfComposedDpEvent(withoutReplacement, 2)));
    }

    // Extension beyond dp_accounting: the degenerate sampling rates are exact for any analysable inner event.
    [Fact]
    public void DegenerateSamplingRatesWorkForAnyInnerEvent()
    {
        var laplace = new LaplaceDpEvent(0.5);
        var sampledAll = new RdpAccountant().Compose(new PoissonSampledDpEvent(1.0, laplace), 3);
        var plain = new RdpAccountant().Compose(laplace, 3);
        Assert.Equal(((RdpAccountant)plain).RdpValues, ((RdpAccountant)sampledAll).RdpValues);
        Assert.Equal(0.0, new RdpAccountant().Compose(new PoissonSampledDpEvent(0.0, laplace), 3).GetEpsilon(1e-5));
        Assert.False(new RdpAccountant().Supports(new PoissonSampledDpEvent(1.0, new SampledWithoutReplacementDpEvent(10, 1, Gaussian))));
    }

    [Fact]
    public void UnsupportedEventIsRefused()
    {
        var accountant = new RdpAccountant();
        Assert.Throws<UnsupportedDpEventException>(() => accountant.Compose(new PoissonSampledDpEvent(0.1, new LaplaceDpEvent(1.0))));
        Assert.All(accountant.RdpValues, r => Assert.Equal(0.0, r));
    }

    // DPA test_raises_on_invalid_sampling_rate / test_raises_on_invalid_noise_multiplier: here the events
    // themselves refuse invalid parameters, so no accountant ever sees them.
    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    public void InvalidSamplingRateIsRejected(double q)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new PoissonSampledDpEvent(q, Gaussian));
        Assert.Contains("Sampling probability", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NegativeNoiseMultiplierIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianDpEvent(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LaplaceDpEvent(-1));
    }

    [Fact]
    public void NonPrivateAndZeroNoiseGiveInfiniteRdp()
    {
        foreach (DpEvent e in new DpEvent[] { new NonPrivateDpEvent(), new GaussianDpEvent(0), new LaplaceDpEvent(0), new PoissonSampledDpEvent(0.5, new GaussianDpEvent(0)) })
        {
            var accountant = new RdpAccountant([1.5, 2, 32]);
            accountant.Compose(e);
            Assert.All(accountant.RdpValues, r => Assert.Equal(double.PositiveInfinity, r));
            Assert.Equal(double.PositiveInfinity, accountant.GetEpsilon(0.5));
            Assert.Equal(1.0, accountant.GetDelta(100));
        }
    }

    [Fact]
    public void DeltaZeroNeedsNothingSpent()
    {
        var fresh = new RdpAccountant();
        Assert.Equal(new RdpEpsilonResult(0, 0), fresh.GetEpsilonAndOrder(0));
        fresh.Compose(new GaussianDpEvent(5));
        Assert.Equal(double.PositiveInfinity, fresh.GetEpsilon(0));
        Assert.Equal(0.0, fresh.GetEpsilon(1.0));
    }

    // Pure ε-DP at order +∞: a Laplace mechanism's RDP there is exactly ε, and δ(ε') is 0 for ε' ≥ ε.
    [Fact]
    public void InfiniteOrderIsPureDp()
    {
        var accountant = new RdpAccountant([double.PositiveInfinity]);
        accountant.Compose(new LaplaceDpEvent(0.5), 2);
        Assert.Equal(4.0, accountant.RdpValues[0]);
        Assert.Equal(new RdpEpsilonResult(4.0, double.PositiveInfinity), accountant.GetEpsilonAndOrder(1e-9));
        Assert.Equal(new RdpDeltaResult(0.0, double.PositiveInfinity), accountant.GetDeltaAndOrder(4.0));
        // Below ε only the KL bound √(1 − e^{−r}) remains.
        Assert.Equal(Math.Sqrt(1 - Math.Exp(-4.0)), accountant.GetDelta(3.9), 1e-15);
    }

    // Huge integer orders are not expanded term by term; the unsampled Gaussian bound α/(2σ²) is used instead.
    [Fact]
    public void HugeIntegerOrdersUseTheUnsampledBound()
    {
        var poisson = new RdpAccountant([1e10]);
        poisson.Compose(new PoissonSampledDpEvent(0.01, new GaussianDpEvent(2.0)));
        Assert.Equal(1e10 / 8, poisson.RdpValues[0]);
        var fixedSize = new RdpAccountant([2e6 + 0.5], NeighboringRelation.ReplaceOne);
        fixedSize.Compose(new SampledWithoutReplacementDpEvent(100, 1, new GaussianDpEvent(2.0)));
        Assert.Equal((2e6 + 0.5) / 8, fixedSize.RdpValues[0]);
    }

    [Fact]
    public void RdpValuesIsASnapshot()
    {
        var accountant = new RdpAccountant([2.0]);
        var before = accountant.RdpValues;
        accountant.Compose(new GaussianDpEvent(1.0));
        Assert.Equal(0.0, before[0]);
        Assert.Equal(1.0, accountant.RdpValues[0]);
    }

    // Adding events one by one, by count, or nested gives the same curve (linear composition of RDP).
    [Fact]
    public void LargeCountsScaleLinearly()
    {
        var step = new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0));
        var once = new RdpAccountant().Compose(step);
        var many = new RdpAccountant().Compose(new SelfComposedDpEvent(new SelfComposedDpEvent(step, 1000), 100));
        var a = ((RdpAccountant)once).RdpValues;
        var b = ((RdpAccountant)many).RdpValues;
        for (var k = 0; k < a.Count; k++)
        {
            Assert.Equal(a[k] * 100000, b[k], Math.Abs(b[k]) * 1e-12);
        }
    }
}
