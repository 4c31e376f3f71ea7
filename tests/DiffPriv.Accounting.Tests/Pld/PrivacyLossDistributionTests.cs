using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>
/// PLDs of the discrete and composite mechanisms. Values stated in google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/pld/privacy_loss_distribution_test.py
/// (assertAlmostEqual: |Δ| &lt; 5e-8) unless a comment says computed (scipy 1.10.1's <c>stats.binom.sf</c>).
/// </summary>
public sealed class PrivacyLossDistributionTests
{
    private const double Places7 = 5e-8;

    // test_discrete_laplace_varying_parameter_and_sensitivity (pessimistic) and …_optimistic: privacy buckets at
    // interval 1. Without subsampling ADD and REMOVE share one PMF (the first dictionary).
    public static TheoryData<double, int, double, bool, Dictionary<int, double>, Dictionary<int, double>?> DiscreteLaplaceCases => new()
    {
        { 1.0, 1, 1.0, true, new() { [1] = 0.73105858, [-1] = 0.26894142 }, null },
        { 1.0, 2, 1.0, true, new() { [2] = 0.73105858, [0] = 0.17000340, [-2] = 0.09893802 }, null },
        { 0.8, 2, 1.0, true, new() { [2] = 0.68997448, [0] = 0.17072207, [-1] = 0.13930345 }, null },
        { 0.8, 3, 1.0, true, new() { [3] = 0.68997448, [1] = 0.17072207, [0] = 0.07671037, [-2] = 0.06259307 }, null },
        { 1.0, 1, 0.8, true, new() { [1] = 0.7310585786300049, [0] = 0.2689414213699951 }, new() { [1] = 0.63863515, [0] = 0.36136485 } },
        { 1.0, 2, 0.5, true, new() { [1] = 0.7310585786300049, [0] = 0.17000340156854787, [-1] = 0.09893801980144723 }, new() { [2] = 0.41499829921572606, [1] = 0.0, [0] = 0.5850017007842739 } },
        { 0.8, 2, 0.3, true, new() { [1] = 0.6899744811276125, [0] = 0.3100255188723875 }, new() { [1] = 0.30450475600966753, [0] = 0.6954952439903325 } },
        { 0.8, 3, 0.2, true, new() { [1] = 0.8606965547551659, [0] = 0.07671037249501267, [-1] = 0.0625930727498214 }, new() { [2] = 0.1880693544253796, [1] = 0.09551271272152079, [0] = 0.7164179328530996 } },
        { 1.0, 1, 1.0, false, new() { [1] = 0.73105858, [-1] = 0.26894142 }, null },
        { 1.0, 2, 1.0, false, new() { [2] = 0.73105858, [0] = 0.17000340, [-2] = 0.09893802 }, null },
        { 0.8, 2, 1.0, false, new() { [1] = 0.68997448, [0] = 0.17072207, [-2] = 0.13930345 }, null },
        { 0.8, 3, 1.0, false, new() { [2] = 0.68997448, [0] = 0.17072207, [-1] = 0.07671037, [-3] = 0.06259307 }, null },
        { 1.0, 1, 0.8, false, new() { [0] = 0.7310585786300049, [-1] = 0.2689414213699951 }, new() { [0] = 0.63863515, [-1] = 0.36136485 } },
        { 1.0, 2, 0.5, false, new() { [0] = 0.9010619801985528, [-2] = 0.09893801980144723 }, new() { [1] = 0.41499829921572606, [0] = 0.17000340156854787, [-1] = 0.41499829921572606 } },
        { 0.8, 2, 0.3, false, new() { [0] = 0.8606965547551659, [-1] = 0.13930344524483407 }, new() { [0] = 0.47522682963722107, [-1] = 0.5247731703627789 } },
        { 0.8, 3, 0.2, false, new() { [0] = 0.8606965547551659, [-1] = 0.07671037249501267, [-2] = 0.0625930727498214 }, new() { [1] = 0.1880693544253796, [0] = 0.09551271272152079, [-1] = 0.7164179328530996 } },
    };

    [Theory]
    [MemberData(nameof(DiscreteLaplaceCases))]
    public void DiscreteLaplacePrivacyBuckets(double a, int sensitivity, double q, bool pessimistic, Dictionary<int, double> add, Dictionary<int, double>? remove)
    {
        var addPmf = PmfBuilder.PrivacyBuckets(new DiscreteLaplacePrivacyLoss(a, sensitivity, q, AdjacencyType.Add), 1.0, pessimistic);
        var removePmf = PmfBuilder.PrivacyBuckets(new DiscreteLaplacePrivacyLoss(a, sensitivity, q, AdjacencyType.Remove), 1.0, pessimistic);
        PmfAssert.Equal(add, addPmf, Places7);
        PmfAssert.Equal(remove ?? add, removePmf, Places7);
        Assert.Equal(0.0, addPmf.InfinityMass);
        Assert.Equal(0.0, removePmf.InfinityMass);
        if (q == 1.0)
        {
            PmfAssert.Equal(add, PrivacyLossDistribution.FromDiscreteLaplace(a, sensitivity, 1.0, pessimistic).Remove, Places7);
        }
    }

    // test_discrete_laplace_discretization: a = 1, Δ = 1 at intervals 0.1 and 0.03.
    [Theory]
    [InlineData(0.1, 10, -10)]
    [InlineData(0.03, 34, -33)]
    public void DiscreteLaplaceDiscretization(double interval, int top, int bottom)
    {
        var pmf = PrivacyLossDistribution.FromDiscreteLaplace(1.0, 1, interval, pessimistic: true).Remove;
        PmfAssert.Equal(new Dictionary<int, double> { [top] = 0.73105858, [bottom] = 0.26894142 }, pmf, Places7);
        Assert.Equal(2, pmf.EntryCount);
    }

    // δ(ε) of the discrete Laplace loss equals the hockey-stick divergence summed over its integer outcomes.
    [Theory]
    [InlineData(1.0, 1, 1.0, "ADD")]
    [InlineData(0.8, 3, 1.0, "REMOVE")]
    [InlineData(0.8, 3, 0.2, "ADD")]
    [InlineData(0.5, 2, 0.6, "REMOVE")]
    public void DiscreteLaplaceDeltaIsTheHockeyStickSum(double a, int sensitivity, double q, string adjacency)
    {
        var adj = adjacency == "ADD" ? AdjacencyType.Add : AdjacencyType.Remove;
        var loss = new DiscreteLaplacePrivacyLoss(a, sensitivity, q, adj);
        foreach (var epsilon in new[] { -0.5, 0.0, 0.3, 1.0, 2.5 })
        {
            // Σ over integer outcomes of (μ_upper(x) − e^ε μ_lower(x))₊; the tails beyond ±80 are below 1e-16.
            var expected = 0.0;
            for (var x = -80; x <= 80; x++)
            {
                var upper = loss.MuUpperCdf(x) - loss.MuUpperCdf(x - 1);
                var lower = loss.MuLowerCdf(x) - loss.MuLowerCdf(x - 1);
                expected += Math.Max(0, upper - (Math.Exp(epsilon) * lower));
            }

            Assert.Equal(expected, loss.GetDeltaForEpsilon(epsilon), 1e-12);
        }
    }

    // test_randomized_response_pessimistic / _optimistic at interval 1. Replace-special: REMOVE then ADD.
    public static TheoryData<double, int, bool, bool, Dictionary<int, double>, Dictionary<int, double>?> RandomizedResponseCases => new()
    {
        { 0.5, 2, false, true, new() { [2] = 0.75, [-1] = 0.25 }, null },
        { 0.5, 2, true, true, new() { [1] = 0.75, [0] = 0.25 }, new() { [1] = 0.5, [0] = 0.5 } },
        { 0.2, 4, false, true, new() { [3] = 0.85, [-2] = 0.05, [0] = 0.1 }, null },
        { 0.2, 4, true, true, new() { [2] = 0.85, [-1] = 0.15 }, new() { [2] = 0.75, [-1] = 0.25 } },
        { 0.2, 4, false, false, new() { [2] = 0.85, [-3] = 0.05, [0] = 0.1 }, null },
        { 0.2, 4, true, false, new() { [1] = 0.85, [-2] = 0.15 }, new() { [1] = 0.75, [-2] = 0.25 } },
    };

    [Theory]
    [MemberData(nameof(RandomizedResponseCases))]
    public void RandomizedResponse(double p, int k, bool special, bool pessimistic, Dictionary<int, double> remove, Dictionary<int, double>? add)
    {
        var pld = PrivacyLossDistribution.FromRandomizedResponse(p, k, 1.0, pessimistic, special);
        Assert.Equal(!special, pld.IsSymmetric);
        PmfAssert.Equal(remove, pld.Remove, 1e-12);
        PmfAssert.Equal(add ?? remove, pld.Add, 1e-12);
        Assert.Equal(0.0, pld.Remove.InfinityMass);
    }

    // test_randomized_response_discretization: p = 0.2, k = 4.
    [Theory]
    [InlineData(0.7, false, new[] { 5, -4, 0 }, new[] { 0.85, 0.05, 0.1 }, null, null)]
    [InlineData(0.5, true, new[] { 3, -3 }, new[] { 0.85, 0.15 }, new[] { 4, -2 }, new[] { 0.75, 0.25 })]
    [InlineData(2.0, false, new[] { 2, -1, 0 }, new[] { 0.85, 0.05, 0.1 }, null, null)]
    [InlineData(2.0, true, new[] { 1, 0 }, new[] { 0.85, 0.15 }, new[] { 1, 0 }, new[] { 0.75, 0.25 })]
    public void RandomizedResponseDiscretization(double interval, bool special, int[] removeKeys, double[] removeMasses, int[]? addKeys, double[]? addMasses)
    {
        var pld = PrivacyLossDistribution.FromRandomizedResponse(0.2, 4, interval, pessimistic: true, special);
        PmfAssert.Equal(removeKeys.Zip(removeMasses).ToDictionary(), pld.Remove, 1e-12);
        PmfAssert.Equal((addKeys ?? removeKeys).Zip(addMasses ?? removeMasses).ToDictionary(), pld.Add, 1e-12);
    }

    // from_privacy_parameters (the worst case of an (ε, δ)-DP mechanism, used for epsilon_delta and the exponential
    // mechanism): δ at +∞, ε with (1 − δ)/(1 + e^{−ε}), −ε with (1 − δ)/(1 + e^ε); a wide sparse PMF of 2 entries.
    [Theory]
    [InlineData(1.0, 0.1, 1e-4)]
    [InlineData(2.0, 0.0, 1e-4)]
    [InlineData(0.0, 0.3, 1e-2)]
    public void EpsilonDelta(double epsilon, double delta, double interval)
    {
        var pmf = PrivacyLossDistribution.FromEpsilonDelta(epsilon, delta, interval, pessimistic: true).Remove;
        Assert.Equal(delta, pmf.InfinityMass);
        Assert.True(pmf.IsSparse);
        Assert.Equal(epsilon == 0 ? 1 : 2, pmf.EntryCount);
        var top = (int)Math.Ceiling(epsilon / interval);
        var bottom = (int)Math.Ceiling(-epsilon / interval);
        var expected = epsilon == 0
            ? new Dictionary<int, double> { [0] = 1 - delta }
            : new Dictionary<int, double> { [top] = (1 - delta) / (1 + Math.Exp(-epsilon)), [bottom] = (1 - delta) / (1 + Math.Exp(epsilon)) };
        PmfAssert.Equal(expected, pmf, 1e-15);

        // Its δ(ε') is exactly the worst case: δ + (1 − δ)·(1 − e^{ε'−ε})/(1 + e^{−ε}) below ε, δ from ε on.
        Assert.Equal(delta, pmf.GetDeltaForEpsilon(epsilon), 15);
    }

    // test_compute_mixture.
    [Fact]
    public void ComputeMixture()
    {
        var pld1 = new PrivacyLossDistribution(new PldPmf(1.0, 0, [0.7, 0.1], 0.2, true, false), new PldPmf(1.0, 1, [0.5, 0.5], 0.0, true, false));
        var pld2 = new PrivacyLossDistribution(new PldPmf(1.0, 1, [0.5, 0.5], 0.0, true, false), new PldPmf(1.0, 2, [0.3, 0.7], 0.0, true, false));
        var mixture = pld1.ComputeMixture(pld2, 0.5);
        PmfAssert.Equal(0, [0.35, 0.3, 0.25], mixture.Remove, Places7);
        PmfAssert.Equal(1, [0.25, 0.4, 0.35], mixture.Add, Places7);
        Assert.Equal(0.1, mixture.Remove.InfinityMass);
        Assert.Equal(0.0, mixture.Add.InfinityMass);
        Assert.False(mixture.Remove.IsSparse);
    }

    // test_truncated_gaussian_varying_dataset_size_connect_dots: σ 1, q 0.5, B 2, interval 1,
    // log_mass_truncation_bound = ln 2 + ln Φ(−0.9).
    [Theory]
    [InlineData(3, new[] { 0.1072221054305259, 0.5750175093813645, 0.24646336289751442, 0.022865957358847812, 0.01388675505995418, 0.00912546415256483 },
        new[] { 0.09462189455729614, 0.5750175093813645, 0.28071428714896685, 0.022865957358847812, 0.01388675505995418, 0.00912546415256483 })]
    [InlineData(4, new[] { 0.10162886309504321, 0.5602705999888661, 0.23358984055161794, 0.04249628168264489, 0.02512152877677031, 0.016043607350074908 },
        new[] { 0.09322872251289002, 0.5602705999888662, 0.2564237900525862, 0.04249628168264489, 0.02512152877677031, 0.016043607350074908 })]
    public void TruncatedSubsampledGaussian(long datasetSize, double[] remove, double[] add)
    {
        var bound = Math.Log(2) + NormalDistribution.LogCdf(-0.9);
        var pld = PrivacyLossDistribution.FromTruncatedSubsampledGaussian(datasetSize, 0.5, 2, 1.0, 1.0, pessimistic: true, replace: false, bound);
        Assert.False(pld.IsSymmetric);
        PmfAssert.Equal(-1, remove, pld.Remove, Places7);
        PmfAssert.Equal(-1, add, pld.Add, Places7);
        Assert.True(pld.Remove.InfinityMass <= NormalDistribution.Cdf(-0.9) + Places7);
        Assert.True(pld.Add.InfinityMass <= NormalDistribution.Cdf(-0.9) + Places7);
    }

    // test_truncated_gaussian_matches_gaussian: no truncation is the subsampled Gaussian; certain truncation (q = 1,
    // B = 100 of 1000) is the replace-one Gaussian with σ/2 sampled with B/n.
    [Theory]
    [InlineData(1.0, 100, false, 0.5, 0.1, true)]
    [InlineData(0.1, 1000, false, 1.0, 0.1, false)]
    [InlineData(0.1, 1000, true, 1.0, 0.1, true)]
    [InlineData(1.0, 1000, false, 1.0, 1.0, false)]
    public void TruncatedSubsampledGaussianAtTheExtremes(double q, long batch, bool replace, double sigma, double expectedQ, bool expectedReplace)
    {
        var truncated = PrivacyLossDistribution.FromTruncatedSubsampledGaussian(1000, q, batch, 1.0, 1e-3, pessimistic: true, replace);
        var gaussian = PrivacyLossDistribution.FromGaussian(sigma, 1e-3, expectedQ, pessimistic: true, expectedReplace);
        foreach (var epsilon in new[] { 0.0, 0.5, 1.0, 3.0 })
        {
            Assert.Equal(gaussian.GetDeltaForEpsilon(epsilon), truncated.GetDeltaForEpsilon(epsilon), 1e-9);
        }
    }

    // P[Binomial(n, p) > k], computed with scipy 1.10.1's stats.binom.sf (reference_values.py).
    [Theory]
    [InlineData(1, 2, 0.5, 0.25)]
    [InlineData(2, 4, 0.5, 0.3125)]
    [InlineData(99, 999, 0.1, 0.5112160304798045)]
    [InlineData(19, 999, 0.02, 0.5288467221457422)]
    [InlineData(255, 59999, 256.0 / 60000, 0.5082582063450986)]
    [InlineData(299, 59999, 256.0 / 60000, 0.0038715239183431853)]
    [InlineData(0, 10, 0.3, 0.9717524751)]
    [InlineData(5000, 1000000, 0.004, 7.526156704130808e-53)]
    [InlineData(3, 3, 0.5, 0.0)]
    [InlineData(-1, 3, 0.5, 1.0)]
    public void BinomialSurvival(long k, long n, double p, double expected) =>
        Assert.Equal(expected, PldMath.BinomialSurvival(k, n, p), Math.Max(1e-13 * expected, 1e-15));
}
