using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Rdp;
using static DiffPriv.Accounting.Tests.Rdp.RdpTestHelpers;

namespace DiffPriv.Accounting.Tests.Rdp;

/// <summary>
/// Single-epoch tree aggregation (DP-FTRL) in the RDP accountant. DPA: google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py
/// (the tests named below); "computed" values are DPA's <c>RdpAccountant</c> output at that commit
/// (recomputed by reference_values.py). DPA's structural tests use order 1, which this accountant does not accept;
/// they run here at order 2.
/// </summary>
public sealed class RdpTreeAggregationTests
{
    private static readonly double[] Orders = TutorialOrders.Where(o => o < 11 || o >= 12).ToArray();

    private static RdpAccountant Special(IReadOnlyList<double>? orders = null) =>
        new(orders, NeighboringRelation.ReplaceSpecial);

    private static RdpAccountant Trees(double sigma, IEnumerable<long> stepCounts, IReadOnlyList<double> orders)
    {
        var accountant = Special(orders);
        accountant.Compose(new ComposedDpEvent([.. stepCounts.Select(s => (DpEvent)new SingleEpochTreeAggregationDpEvent(sigma, [s]))]));
        return accountant;
    }

    private static RdpAccountant SingleEpoch(double sigma, IReadOnlyList<long> stepCounts, IReadOnlyList<double> orders)
    {
        var accountant = Special(orders);
        accountant.Compose(new SingleEpochTreeAggregationDpEvent(sigma, stepCounts));
        return accountant;
    }

    // DPA test_tree_wrong_neighbor_rel.
    [Theory]
    [InlineData(NeighboringRelation.AddOrRemoveOne)]
    [InlineData(NeighboringRelation.ReplaceOne)]
    public void OnlyReplaceSpecialIsSupported(NeighboringRelation relation)
    {
        var tree = new SingleEpochTreeAggregationDpEvent(1.0, [1]);
        var accountant = new RdpAccountant(neighboringRelation: relation);
        Assert.False(accountant.Supports(tree));
        Assert.Throws<UnsupportedDpEventException>(() => accountant.Compose(tree));
        Assert.True(Special().Supports(tree));
    }

    // DPA test_compute_eps_tree: the StackOverflow setting of Kairouz et al. 2021 (1600 steps, δ 1e-6) stays below
    // the stated ε 19.74 and 2.04; the computed values are DPA's (18.709609893772754 at α 2.7, 1.7731924496178202 at α 14).
    [Theory]
    [InlineData(1.13, 19.74, 18.709609893772754, 2.7)]
    [InlineData(8.83, 2.04, 1.7731924496178202, 14.0)]
    public void StackOverflowSettingMatchesDpAccounting(double sigma, double statedBound, double computed, double order)
    {
        var result = SingleEpoch(sigma, [1600], Orders).GetEpsilonAndOrder(1e-6);
        Assert.True(result.Epsilon < statedBound);
        AssertRelative(computed, result.Epsilon, 1e-12);
        Assert.Equal(order, result.OptimalOrder);
    }

    // Computed: DPA RdpAccountant(DEFAULT_RDP_ORDERS, REPLACE_SPECIAL) after
    // SelfComposedDpEvent(SingleEpochTreeAggregationDpEvent(1.5, [234, 234, 100]), 5): ε(1e-5) = 27.81184688377875 at α 2.1.
    [Fact]
    public void RestartedTreesOverEpochsMatchDpAccounting()
    {
        var accountant = Special();
        accountant.Compose(new SelfComposedDpEvent(new SingleEpochTreeAggregationDpEvent(1.5, [234, 234, 100]), 5));
        var result = accountant.GetEpsilonAndOrder(1e-5);
        AssertRelative(27.81184688377875, result.Epsilon, 1e-12);
        Assert.Equal(2.1, result.OptimalOrder, 12);
    }

    // DPA test_compose_tree_rdp: composing trees adds their RDP.
    [Theory]
    [InlineData(new long[] { 400, 400, 400, 400 })]
    [InlineData(new long[] { 800, 800 })]
    [InlineData(new long[] { 10, 400, 400, 400, 390 })]
    public void ComposedTreesAddUp(long[] stepCounts)
    {
        double[] orders = [2.0];
        var summed = stepCounts.Sum(s => SingleEpoch(0.1, [s], orders).RdpValues[0]);
        Assert.Equal(summed, Trees(0.1, stepCounts, orders).RdpValues[0], 1e-12 * summed);
    }

    // DPA test_single_epoch_multi_tree_rdp: trees of one epoch cost what the largest costs.
    [Fact]
    public void OneEpochOfSeveralTreesCostsTheLargest()
    {
        double[] orders = [2.0];
        long[] stepCounts = [10, 40, 30, 20];
        var single = SingleEpoch(0.1, stepCounts, orders).RdpValues[0];
        Assert.Equal(stepCounts.Max(s => SingleEpoch(0.1, [s], orders).RdpValues[0]), single);
        // ⌈log₂ 41⌉ = 6 levels of α/(2σ²) = 100.
        Assert.Equal(600.0, single, 1e-9);
    }

    // DPA test_compute_eps_tree_decreasing.
    [Theory]
    [InlineData(new long[] { 400, 400, 400, 400 })]
    [InlineData(new long[] { 800, 800 })]
    [InlineData(new long[] { 10, 400, 400, 400, 390 })]
    public void EpsilonFallsWithNoise(long[] stepCounts)
    {
        var previous = double.PositiveInfinity;
        for (var x = 1; x < 100; x += 5)
        {
            var epsilon = Trees(0.1 * x, stepCounts, Orders).GetEpsilon(1e-6);
            Assert.True(epsilon < previous, $"σ = {0.1 * x}: ε = {epsilon} ≥ {previous}");
            previous = epsilon;
        }
    }

    // DPA test_no_tree_no_sampling: trees of one step each are plain Gaussians.
    [Theory]
    [InlineData(100, 0.1)]
    [InlineData(1000, 0.01)]
    public void OneStepTreesAreGaussians(int totalSteps, double sigma)
    {
        var trees = Trees(sigma, Enumerable.Repeat(1L, totalSteps), Orders).RdpValues;
        var gaussians = new RdpAccountant(Orders).Compose(new SelfComposedDpEvent(new GaussianDpEvent(sigma), totalSteps)) is RdpAccountant g ? g.RdpValues : [];
        Assert.Equal(gaussians.Count, trees.Count);
        for (var k = 0; k < trees.Count; k++)
        {
            Assert.Equal(gaussians[k], trees[k], 1e-12 * gaussians[k]);
        }
    }

    [Theory]
    [InlineData(0L, 0)]
    [InlineData(1L, 1)]
    [InlineData(2L, 2)]
    [InlineData(3L, 2)]
    [InlineData(7L, 3)]
    [InlineData(8L, 4)]
    [InlineData(1600L, 11)]
    [InlineData((1L << 40) - 1, 40)]
    [InlineData(1L << 40, 41)]
    [InlineData(long.MaxValue, 63)]
    public void TreeDepthIsCeilLog2OfStepsPlusOne(long steps, int depth)
    {
        Assert.Equal(depth, RdpMath.TreeDepth(steps));
    }

    [Fact]
    public void EmptyTreesCostNothingUnlessNoiseless()
    {
        Assert.Equal(0.0, SingleEpoch(1.0, [0, 0], Orders).GetEpsilon(1e-6));
        // dp_accounting: σ = 0 is +∞ before the step counts are looked at.
        Assert.Equal(double.PositiveInfinity, SingleEpoch(0.0, [0], Orders).GetEpsilon(1e-6));
        Assert.Equal(double.PositiveInfinity, SingleEpoch(0.0, [5], Orders).GetEpsilon(1e-6));
        // Order +∞ of a non-empty tree is +∞ (a Gaussian's), of an empty one 0.
        Assert.Equal(double.PositiveInfinity, SingleEpoch(1.0, [5], [double.PositiveInfinity]).RdpValues[0]);
        Assert.Equal(0.0, SingleEpoch(1.0, [0], [double.PositiveInfinity]).RdpValues[0]);
    }
}
