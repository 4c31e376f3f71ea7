using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using DiffPriv.PerSample;
using DiffPriv.Queries;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Queries;

/// <summary>
/// DP-FTRL's tree query. Goldens: TF Privacy's tensorflow_privacy/privacy/dp_query/tree_aggregation_query_test.py at
/// commit 26725594719fd9890e5f1d6c8556350902a08ef7 (test_partial_sum_scalar_tree_aggregation: a scalar record per step and
/// a constant node value, the plain tree); the restart expectations are those of the same file's later
/// test_sum_scalar_tree_aggregation_reset / test_scalar_tree_aggregation_reset (signal + finished trees + the current tree,
/// each tree v·popcount(leaves)), computed here from that rule.
/// </summary>
public sealed class TreeResidualSumQueryTests
{
    private const string Name = "w";

    public TreeResidualSumQueryTests() => TorchRuntime.EnsureLoaded();

    private static readonly Dictionary<string, (long[], ScalarType, Device)> Scalar = new() { [Name] = ([], ScalarType.Float64, torch.CPU) };

    /// <summary>A plain-tree query whose nodes are all <paramref name="node"/> and whose records are never clipped.</summary>
    private static TreeResidualSumQuery ConstantNodes(double node, long stepsPerTree, bool efficient = false) =>
        new(ClippingOptions.Flat(1e6), 1.0, stepsPerTree, efficient)
        {
            NodeOverride = requests => [.. requests.Select(r => torch.full(r.Shape, node, r.Type))],
        };

    /// <summary>Runs the query over one scalar record per step (the step's clipped sum); returns each release and event.</summary>
    private static List<(double Release, DpEvent? Event)> Run(TreeResidualSumQuery query, double record, int steps, Func<int, long?> pass)
    {
        var results = new List<(double, DpEvent?)>();
        var global = query.InitialGlobalState();
        using var gate = NoiseGate.CreateSeeded(1);
        for (var i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            using var state = query.InitialSampleState(query.DeriveSampleParameters(global, new DpStepInfo(i, 0.1, 10)));
            state.Add(new Dictionary<string, Tensor> { [Name] = torch.tensor(record, ScalarType.Float64) }, 1);
            var release = query.GetNoisedResult(state, global, new DpStepInfo(i, 0.1, 10) { Pass = pass(i) }, gate, Scalar);
            (global as IDisposable)?.Dispose();
            global = release.GlobalState;
            results.Add((release.NoisedSum[Name].item<double>(), release.Event));
        }

        (global as IDisposable)?.Dispose();
        return results;
    }

    private static int PopCount(long t) => System.Numerics.BitOperations.PopCount((ulong)t);

    private static double[] RunningSums(IEnumerable<double> values)
    {
        var total = 0.0;
        return [.. values.Select(v => total += v)];
    }

    [Theory]
    [InlineData(0.0, 1.0, new[] { 1.0, 1, 2, 1, 2, 2, 3, 1 })]
    [InlineData(1.0, 1.0, new[] { 2.0, 3, 5, 5, 7, 8, 10, 9 })]
    [InlineData(1.0, 2.0, new[] { 3.0, 4, 7, 6, 9, 10, 13, 10 })]
    public void TheRunningSumOfTheResidualsIsUpstreamsNoisyCumulativeSum(double record, double node, double[] expected)
    {
        var releases = Run(ConstantNodes(node, 8), record, expected.Length, _ => 0L);
        Assert.Equal(expected, RunningSums(releases.Select(r => r.Release)));
    }

    [Theory]
    [InlineData(0.0, 1.0, 1)]
    [InlineData(0.0, 1.0, 2)]
    [InlineData(0.0, 1.0, 5)]
    [InlineData(1.0, 1.0, 5)]
    [InlineData(1.0, 2.0, 2)]
    [InlineData(1.0, 5.0, 6)]
    public void EveryPassRestartsTheTreeAndKeepsTheNoiseOfTheFinishedOnes(double record, double node, int period)
    {
        // 20 steps, a new pass every `period` steps.
        var releases = Run(ConstantNodes(node, period), record, 20, i => i / period);
        var cumulative = RunningSums(releases.Select(r => r.Release));
        for (var i = 0; i < 20; i++)
        {
            // Residual: the record plus the difference of consecutive tree sums within the current tree.
            Assert.Equal(record + (node * (PopCount((i % period) + 1) - PopCount(i % period))), releases[i].Release);
            // Cumulative: the signal, the complete trees that were restarted, and the current tree.
            Assert.Equal((record * (i + 1)) + (i / period * node * PopCount(period)) + (node * PopCount((i % period) + 1)), cumulative[i]);
            // One event per tree, with its first release.
            Assert.Equal(i % period == 0 ? new SingleEpochTreeAggregationDpEvent(1.0, [period]) : null, releases[i].Event);
        }
    }

    [Fact]
    public void TheEfficientTreeReleasesTheHonakerWeightedSums()
    {
        // Nodes of 1: after 8 leaves the efficient tree's noise is 32/15 (tree_aggregation_test.py, see NoiseTreeTests).
        var releases = Run(ConstantNodes(1.0, 8, efficient: true), 0.0, 8, _ => 0L);
        Assert.Equal(32.0 / 15.0, RunningSums(releases.Select(r => r.Release))[^1], 1e-12);
    }

    [Fact]
    public void TheNoiseComesFromTheGateAndReplaysFromItsSeed()
    {
        // Zero records, two entries (released in name order), σ·C = 0.6. The plain tree draws one node per step:
        // residuals z1, z2 − z1, z3, z4 − z2 − z3 (the nodes of 1, 2, 3 = 2 + 1, 4).
        const double Sigma = 1.5, C = 0.4;
        var query = new TreeResidualSumQuery(ClippingOptions.Flat(C), Sigma, stepsPerTree: 4, efficient: false);
        var shapes = new Dictionary<string, (long[], ScalarType, Device)> { ["b"] = ([3], ScalarType.Float32, torch.CPU), ["a"] = ([2, 2], ScalarType.Float32, torch.CPU) };
        using var scope = torch.NewDisposeScope();
        using var gate = NoiseGate.CreateSeeded(77);
        using var replica = NoiseGate.CreateSeeded(77);
        var requests = new List<(long[], ScalarType, Device?)> { ([2, 2], ScalarType.Float32, torch.CPU), ([3], ScalarType.Float32, torch.CPU) };
        var z = Enumerable.Range(0, 4).Select(_ => replica.Gaussians(requests, Sigma * C)).ToList();
        var expected = new[]
        {
            z[0].ToArray(),
            [z[1][0] - z[0][0], z[1][1] - z[0][1]],
            z[2].ToArray(),
            [z[3][0] - z[1][0] - z[2][0], z[3][1] - z[1][1] - z[2][1]],
        };
        var global = query.InitialGlobalState();
        for (var i = 0; i < 4; i++)
        {
            using var state = query.InitialSampleState(query.DeriveSampleParameters(global, new DpStepInfo(i, 0.1, 10)));
            var release = query.GetNoisedResult(state, global, new DpStepInfo(i, 0.1, 10) { Pass = 0 }, gate, shapes);
            (global as IDisposable)?.Dispose();
            global = release.GlobalState;
            Assert.True(release.NoisedSum["a"].allclose(expected[i][0], rtol: 0, atol: 1e-6));
            Assert.True(release.NoisedSum["b"].allclose(expected[i][1], rtol: 0, atol: 1e-6));
        }

        (global as IDisposable)?.Dispose();
    }

    [Fact]
    public void TheCumulativeNoiseOfEveryStepHasVarianceSigmaCSquaredTimesItsNodes()
    {
        // Zero records, d = 50 000 coordinates, the plain tree: after t steps the noise of the cumulative sum is
        // popcount(t) independent N(0, (σC)²) nodes. Relative standard error of a sample variance √(2/d) ≈ 0.63%; accept 4.
        const double Sigma = 2.0, C = 0.5;
        const int D = 50_000;
        var query = new TreeResidualSumQuery(ClippingOptions.Flat(C), Sigma, stepsPerTree: 16, efficient: false);
        var shapes = new Dictionary<string, (long[], ScalarType, Device)> { [Name] = ([D], ScalarType.Float64, torch.CPU) };
        using var gate = NoiseGate.CreateSeeded(2021);
        using var outer = torch.NewDisposeScope();
        var global = query.InitialGlobalState();
        var cumulative = torch.zeros([D], ScalarType.Float64);
        for (var t = 1; t <= 16; t++)
        {
            using var scope = torch.NewDisposeScope();
            using var state = query.InitialSampleState(query.DeriveSampleParameters(global, new DpStepInfo(t - 1, 0.1, 10)));
            var release = query.GetNoisedResult(state, global, new DpStepInfo(t - 1, 0.1, 10) { Pass = 3 }, gate, shapes);
            (global as IDisposable)?.Dispose();
            global = release.GlobalState;
            cumulative.add_(release.NoisedSum[Name]);
            var expected = Sigma * C * Sigma * C * PopCount(t);
            var tolerance = 4 * Math.Sqrt(2.0 / D) * expected;
            Assert.InRange(cumulative.var().item<double>(), expected - tolerance, expected + tolerance);
        }

        (global as IDisposable)?.Dispose();
    }

    [Fact]
    public void ATreeIsAccountedAsCompleteAndCannotOutgrowIt()
    {
        var query = ConstantNodes(1.0, 3);
        Assert.Equal(new SelfComposedDpEvent(new SingleEpochTreeAggregationDpEvent(1.0, [3]), 4), query.PlannedEvent(0.5, 10));
        Assert.Equal(new SelfComposedDpEvent(new SingleEpochTreeAggregationDpEvent(1.0, [3]), 1), query.PlannedEvent(0.5, 2));
        var tooLong = Assert.Throws<InvalidOperationException>(() => Run(query, 1.0, 4, _ => 0L));
        Assert.Contains("more than the 3 steps", tooLong.Message);
        var backwards = Assert.Throws<InvalidOperationException>(() => Run(query, 1.0, 3, i => i == 2 ? 0 : 1));
        Assert.Contains("came after pass 1", backwards.Message);
        var poisson = Assert.Throws<InvalidOperationException>(() => Run(query, 1.0, 1, _ => null));
        Assert.Contains("Poisson", poisson.Message);
        Assert.Equal(new TreeResidualSumQuery(ClippingOptions.Flat(2), 3.0, 7).WithNoiseMultiplier(0.5).PlannedEvent(1, 7), new SelfComposedDpEvent(new SingleEpochTreeAggregationDpEvent(0.5, [7]), 1));
    }
}
