using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Experiments.Tabular;

namespace DiffPriv.Experiments.Tests.Tabular;

/// <summary>The DP statistics of <c>train csv</c>'s preprocessing: the public grid, the range and category releases, the
/// threshold and the events that account for them.</summary>
public sealed class TabularMechanismsTests
{
    private static double[] NoNoise(int n, double std) => new double[n];

    [Fact]
    public void TheGridIsZeroAndPlusMinusOneTwoFiveTimesPowersOfTen()
    {
        var e = TabularMechanisms.GridEdges;
        Assert.Equal(79, e.Count);
        Assert.Equal(80, TabularMechanisms.GridBins);
        Assert.True(e.Zip(e.Skip(1)).All(p => p.First < p.Second));
        Assert.Equal(0.0, e[39]);
        Assert.Equal([0.001, 0.002, 0.005, 0.01], e.Skip(40).Take(4));
        Assert.Equal(5e9, e[^1]);
        Assert.Equal(-5e9, e[0]);

        // bin b = [edge[b-1], edge[b]): a value on an edge belongs to the bin above it.
        Assert.Equal(40, TabularMechanisms.BinOf(0));
        Assert.Equal(39, TabularMechanisms.BinOf(-1e-9));
        Assert.Equal(42, TabularMechanisms.BinOf(0.002));
        Assert.Equal(0, TabularMechanisms.BinOf(-1e12));
        Assert.Equal(79, TabularMechanisms.BinOf(5e9));
        Assert.Equal((20.0, 50.0), TabularMechanisms.RangeOf(TabularMechanisms.BinOf(20), TabularMechanisms.BinOf(49.9)));
        Assert.Equal((-1e10, 1e10), TabularMechanisms.RangeOf(0, 79));
    }

    [Fact]
    public void WithoutNoiseTheRangeSpansTheBinsThatHoldValues()
    {
        var (low, high, counts) = TabularMechanisms.NumericRange([19, 23, 47, 48, 61], 0, NoNoise);
        Assert.Equal((10.0, 100.0), (low, high));
        Assert.Equal(5, counts.Sum());
    }

    [Fact]
    public void SparseTailsBelowTheThresholdAreLeftOutOfTheRange()
    {
        // σ = 1: bins need a noisy count above 4. One value at 1 000 and two at 3 do not count; the bulk in [20, 50) does.
        var values = Enumerable.Repeat(30.0, 50).Concat([1000, 3, 3]);
        var (low, high, _) = TabularMechanisms.NumericRange(values, 1, NoNoise);
        Assert.Equal((20.0, 50.0), (low, high));
    }

    [Fact]
    public void WithoutAnyBinAboveTheThresholdTheFullestBinIsTheRange()
    {
        var (low, high, _) = TabularMechanisms.NumericRange([7, 7, 30], 10, NoNoise);
        Assert.Equal((5.0, 10.0), (low, high));
    }

    [Fact]
    public void CategoriesAreReleasedWhenTheirNoisyCountExceedsTheThresholdInOrdinalOrder()
    {
        var values = Enumerable.Repeat("b", 5).Concat(Enumerable.Repeat("a", 3)).Concat(["c"]);
        var released = TabularMechanisms.ReleasedCategories(values, 1, 2.5, NoNoise);
        Assert.Equal([("a", 3.0), ("b", 5.0)], released);
    }

    // Golden values: scipy.stats.norm.isf(1e-6) = 4.753424308822899 and norm.isf(1e-7) = 5.1993375821928165 (SciPy 1.10.1).
    [Theory]
    [InlineData(1e-6, 4.753424308822899)]
    [InlineData(1e-7, 5.1993375821928165)]
    public void TheThresholdLetsASingleRecordThroughWithProbabilityDeltaTau(double deltaTau, double z)
    {
        Assert.Equal(1 + (3 * z), TabularMechanisms.CategoryThreshold(3, deltaTau), 1e-9);
    }

    [Fact]
    public void ASingleRecordsValueIsReleasedAtTheRateTheThresholdPromises()
    {
        // δ_τ = 0.2 (z = norm.isf(0.2) = 0.8416212335729142): a value held by one record passes 1 + N(0, 1) > τ in 20% of
        // 20 000 seeded draws; the binomial standard error is 0.0028, the tolerance 4 of them.
        var random = new Random(5);
        var tau = TabularMechanisms.CategoryThreshold(1, 0.2);
        Assert.Equal(1.8416212335729142, tau, 1e-9);
        var released = 0;
        for (var i = 0; i < 20_000; i++)
        {
            released += TabularMechanisms.ReleasedCategories(["x"], 1, tau, (n, std) => [.. Enumerable.Range(0, n).Select(_ => std * Normal(random))]).Count;
        }

        Assert.Equal(0.2, released / 20_000.0, 0.0113);
    }

    [Fact]
    public void TheEventsAreOneGaussianPerColumnAndOneEpsilonDeltaPerThresholdedHistogram()
    {
        var events = TabularMechanisms.Events(3, 2, 5, 1e-7);
        Assert.Equal(
            [new SelfComposedDpEvent(new GaussianDpEvent(5), 5), new SelfComposedDpEvent(new EpsilonDeltaDpEvent(0, 1e-7), 2)],
            events);
        Assert.Empty(TabularMechanisms.Events(0, 0, 5, 1e-7));
        Assert.Equal([new GaussianDpEvent(5)], TabularMechanisms.Events(1, 0, 5, 1e-7));
        Assert.Equal(1e-7, TabularMechanisms.DeltaPerColumn(10, 1e-5), 1e-20);
    }

    [Theory]
    [InlineData(7, 0, 0.3)]
    [InlineData(9, 5, 0.1)]
    [InlineData(0, 1, 0.8)]
    public void TheCalibratedSigmaMeetsThePreprocessingBudgetAndNoSmallerSigmaDoes(int numeric, int categorical, double epsilon)
    {
        const double Delta = 1e-5;
        var deltaTau = TabularMechanisms.DeltaPerColumn(categorical, Delta);
        double Eps(double sigma) => new PldAccountant().Compose(new ComposedDpEvent(TabularMechanisms.Events(numeric, categorical, sigma, deltaTau))).GetEpsilon(Delta);
        var result = TabularMechanisms.CalibrateSigma(numeric, categorical, epsilon, Delta);
        Assert.True(Eps(result.NoiseMultiplier) <= epsilon, $"ε(σ = {result.NoiseMultiplier}) = {Eps(result.NoiseMultiplier)} > {epsilon}");
        Assert.True(Eps(result.NoiseMultiplier * 0.99) > epsilon);
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
