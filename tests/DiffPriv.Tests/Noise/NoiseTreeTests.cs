using DiffPriv.Noise;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Noise;

/// <summary>
/// The tree-aggregation noise against TF Privacy's own tests (tensorflow/privacy,
/// tensorflow_privacy/privacy/dp_query/tree_aggregation_test.py at commit 2396098b94ab833b6db6fe27ed4de239a7388431): with
/// a constant node value v the cumulative noise after t leaves is v·popcount(t) (plain tree) or the Honaker-weighted
/// values below (efficient tree); with Gaussian nodes of standard deviation s its variance is s²·popcount(t) (plain) or
/// the upstream variances (efficient).
/// </summary>
public sealed class NoiseTreeTests
{
    public NoiseTreeTests() => TorchRuntime.EnsureLoaded();

    /// <summary>The cumulative noise (a scalar) after every leaf of a tree whose nodes are all <paramref name="node"/>.</summary>
    private static double[] ConstantTree(int leaves, double node, bool efficient)
    {
        using var scope = torch.NewDisposeScope();
        var values = new double[leaves];
        var tree = NoiseTree.Empty(efficient);
        for (var t = 0; t < leaves; t++)
        {
            var next = tree.Append(() => [torch.tensor(node, ScalarType.Float64)]);
            tree.Dispose();
            tree = next;
            values[t] = tree.CumulativeNoise()![0].item<double>();
        }

        tree.Dispose();
        return values;
    }

    private static int PopCount(long t) => System.Numerics.BitOperations.PopCount((ulong)t);

    [Theory]
    [InlineData(1.0, new[] { 1.0, 1, 2, 1, 2, 2, 3, 1 })]
    [InlineData(2.0, new[] { 2.0, 2, 4, 2, 4, 4, 6, 2 })]
    [InlineData(0.5, new[] { 0.5, 0.5, 1, 0.5, 1, 1, 1.5, 0.5 })]
    public void PlainTreeEveryStepMatchesUpstream(double node, double[] expected) =>
        Assert.Equal(expected, ConstantTree(expected.Length, node, efficient: false));

    [Theory]
    [InlineData(16, 1.0, 1.0)]
    [InlineData(17, 2.0, 1.0)]
    [InlineData(18, 2.0, 1.0)]
    [InlineData(19, 3.0, 1.0)]
    [InlineData(20, 1.0, 0.5)]
    [InlineData(21, 6.0, 2.0)]
    [InlineData(1024, 1.0, 1.0)]
    [InlineData(1025, 2.0, 1.0)]
    [InlineData(1026, 2.0, 1.0)]
    [InlineData(1027, 3.0, 1.0)]
    [InlineData(1028, 1.0, 0.5)]
    [InlineData(1029, 6.0, 2.0)]
    public void PlainTreeLastStepMatchesUpstream(int leaves, double expected, double node)
    {
        var values = ConstantTree(leaves, node, efficient: false);
        Assert.Equal(expected, values[^1]);
        // Every step: popcount(t) nodes, at most ⌈log2 T⌉ for T ≥ 2 leaves (upstream's test_tree_sum_steps_max).
        for (var t = 1; t <= leaves; t++)
        {
            Assert.Equal(node * PopCount(t), values[t - 1]);
        }

        Assert.True(values.Max() <= node * Math.Ceiling(Math.Log2(leaves)));
    }

    public static TheoryData<int, double, double> EfficientLastSteps()
    {
        var deep = 11.0 / (2 - Math.Pow(0.5, 10));
        return new()
        {
            { 1, 1.0, 1.0 },
            { 2, 4.0 / 3.0, 1.0 },
            { 3, (4.0 / 3.0) + 1.0, 1.0 },
            { 4, 12.0 / 7.0, 1.0 },
            { 5, (12.0 / 7.0) + 1.0, 1.0 },
            { 6, (12.0 / 7.0) + (4.0 / 3.0), 1.0 },
            { 7, (12.0 / 7.0) + (4.0 / 3.0) + 1.0, 1.0 },
            { 8, 32.0 / 15.0, 1.0 },
            { 1024, deep, 1.0 },
            { 1025, deep + 1.0, 1.0 },
            { 1026, deep + (4.0 / 3.0), 1.0 },
            { 1027, deep + (4.0 / 3.0) + 1.0, 1.0 },
            { 1028, (deep + (12.0 / 7.0)) * 0.5, 0.5 },
            { 1029, (deep + (12.0 / 7.0) + 1.0) * 2.0, 2.0 },
        };
    }

    [Theory]
    [MemberData(nameof(EfficientLastSteps))]
    public void EfficientTreeLastStepMatchesUpstream(int leaves, double expected, double node) =>
        // Upstream's assertAllClose: |a − e| ≤ 1e-6 + 1e-6·|e|; here in float64 the sums agree to rounding.
        Assert.Equal(expected, ConstantTree(leaves, node, efficient: true)[^1], 1e-12);

    /// <summary>The sample variance of the cumulative noise after each of <paramref name="leaves"/> leaves, d coordinates per node.</summary>
    private static double[] NoiseVariances(int leaves, double std, bool efficient, NoiseGate gate, int d)
    {
        using var scope = torch.NewDisposeScope();
        var variances = new double[leaves];
        var tree = NoiseTree.Empty(efficient);
        for (var t = 0; t < leaves; t++)
        {
            var next = tree.Append(() => [gate.Gaussian([d], std, ScalarType.Float64)]);
            tree.Dispose();
            tree = next;
            variances[t] = tree.CumulativeNoise()![0].var().item<double>();
        }

        tree.Dispose();
        return variances;
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(0.5)]
    public void PlainTreeNoiseHasVarianceStdSquaredTimesTheNodesOfTheDecomposition(double std)
    {
        // After t leaves the noise is the sum of popcount(t) independent N(0, s²) nodes. d = 100 000 coordinates: the sample
        // variance has relative standard error √(2/d) ≈ 0.45%; accept 4 of them (upstream: 15% at d = 1000).
        const int D = 100_000;
        using var gate = NoiseGate.CreateSeeded(2020);
        var variances = NoiseVariances(12, std, efficient: false, gate, D);
        for (var t = 1; t <= variances.Length; t++)
        {
            var expected = std * std * PopCount(t);
            Assert.InRange(variances[t - 1], expected * (1 - (4 * Math.Sqrt(2.0 / D))), expected * (1 + (4 * Math.Sqrt(2.0 / D))));
        }
    }

    [Theory]
    [InlineData(4, 4.0 / 7.0, 1.0)]
    [InlineData(7, (4.0 / 7.0) + (2.0 / 3.0) + 1.0, 1.0)]
    [InlineData(8, 8.0 / 15.0, 1.0)]
    [InlineData(8, 8.0 / 15.0 * 4, 2.0)]
    [InlineData(8, 8.0 / 15.0 * 0.25, 0.5)]
    public void EfficientTreeNoiseHasUpstreamVariance(int leaves, double expected, double std)
    {
        const int D = 100_000;
        using var gate = NoiseGate.CreateSeeded(2020);
        var variance = NoiseVariances(leaves, std, efficient: true, gate, D)[^1];
        Assert.InRange(variance, expected * (1 - (4 * Math.Sqrt(2.0 / D))), expected * (1 + (4 * Math.Sqrt(2.0 / D))));
    }

    [Fact]
    public void AppendLeavesTheTreeItCameFromUnchangedAndKeepsOneNodePerSetBit()
    {
        using var scope = torch.NewDisposeScope();
        using var gate = NoiseGate.CreateSeeded(3);
        using var three = NoiseTree.Empty(efficient: false)
            .Append(() => [gate.Gaussian([5], 1.0)])
            .Append(() => [gate.Gaussian([5], 1.0)])
            .Append(() => [gate.Gaussian([5], 1.0)]);
        Assert.Equal(3, three.Leaves);
        Assert.Equal([0, 1], three.Levels);
        var before = three.CumulativeNoise()![0].clone();
        using var four = three.Append(() => [gate.Gaussian([5], 1.0)]);
        Assert.Equal([2], four.Levels);
        Assert.True(before.equal(three.CumulativeNoise()![0]).all().item<bool>());
        Assert.False(before.equal(four.CumulativeNoise()![0]).all().item<bool>());
        Assert.Null(NoiseTree.Empty(efficient: true).CumulativeNoise());
    }

    [Fact]
    public void TreesFreeTheirNodes()
    {
        using var gate = NoiseGate.CreateSeeded(4);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var tree = NoiseTree.Empty(efficient: true);
        for (var t = 0; t < 37; t++)
        {
            using var scope = torch.NewDisposeScope();
            var next = tree.Append(() => [gate.Gaussian([3], 1.0), gate.Gaussian([2, 2], 1.0)]);
            tree.Dispose();
            tree = next;
            _ = tree.CumulativeNoise();
        }

        tree.Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
