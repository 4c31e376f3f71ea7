using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>
/// The mixture-of-Gaussians privacy loss. Values stated in google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/pld/privacy_loss_mechanism_test.py
/// (MixtureGaussianPrivacyLossTest) and privacy_loss_distribution_test.py (MixtureGaussianPrivacyLossDistributionTest);
/// assertAlmostEqual there means |Δ| &lt; 5e-8.
/// </summary>
public sealed class MixtureGaussianPrivacyLossTests
{
    private const double Places7 = 5e-8;

    private static AdjacencyType Adj(string a) => a == "ADD" ? AdjacencyType.Add : AdjacencyType.Remove;

    // test_privacy_loss.
    [Theory]
    [InlineData(1.0, new[] { 1.0 }, new[] { 1.0 }, "ADD", 5.0, -4.5)]
    [InlineData(1.0, new[] { 2.0 }, new[] { 1.0 }, "ADD", 3.0, -4.0)]
    [InlineData(7.0, new[] { 14.0 }, new[] { 1.0 }, "ADD", 21.0, -4.0)]
    [InlineData(1.0, new[] { 0.0, 1.0 }, new[] { 0.2, 0.8 }, "ADD", 0.5, 0.0)]
    [InlineData(1.0, new[] { 0.0, 2.0 }, new[] { 0.3, 0.7 }, "ADD", 0.0, 0.929541389699331)]
    [InlineData(7.0, new[] { 0.0, 14.0 }, new[] { 0.1, 0.9 }, "ADD", -7.0, 2.150000710600199)]
    [InlineData(1.0, new[] { 0.0, 1.0, 2.0 }, new[] { 0.2, 0.6, 0.2 }, "ADD", 0.5, 0.1351602748368097)]
    [InlineData(1.0, new[] { 1.0, 2.0 }, new[] { 0.2, 0.8 }, "ADD", 0.5, 0.7046054708796523)]
    [InlineData(7.0, new[] { 0.0, 7.0, 14.0 }, new[] { 0.2, 0.6, 0.2 }, "ADD", 0.5, 0.4746752545839654)]
    [InlineData(7.0, new[] { 0.0, 7.0, 14.0 }, new[] { 0.2, 0.6, 0.2 }, "ADD", -0.5, 0.5757291778782041)]
    [InlineData(1.0, new[] { 1.0 }, new[] { 1.0 }, "REMOVE", 4.0, -4.5)]
    [InlineData(1.0, new[] { 2.0 }, new[] { 1.0 }, "REMOVE", 1.0, -4.0)]
    [InlineData(7.0, new[] { 14.0 }, new[] { 1.0 }, "REMOVE", 7.0, -4.0)]
    [InlineData(1.0, new[] { 0.0, 1.0 }, new[] { 0.2, 0.8 }, "REMOVE", -0.5, 0.0)]
    [InlineData(1.0, new[] { 0.0, 2.0 }, new[] { 0.3, 0.7 }, "REMOVE", 0.0, -0.929541389699331)]
    [InlineData(7.0, new[] { 0.0, 14.0 }, new[] { 0.1, 0.9 }, "REMOVE", 7.0, -2.150000710600199)]
    [InlineData(1.0, new[] { 0.0, 1.0, 2.0 }, new[] { 0.2, 0.6, 0.2 }, "REMOVE", 0.5, -0.8423781325734492)]
    [InlineData(1.0, new[] { 1.0, 2.0 }, new[] { 0.2, 0.8 }, "REMOVE", 0.5, -2.176785009442309)]
    [InlineData(7.0, new[] { 0.0, 7.0, 14.0 }, new[] { 0.2, 0.6, 0.2 }, "REMOVE", 0.5, -0.5757291778782041)]
    [InlineData(7.0, new[] { 0.0, 7.0, 14.0 }, new[] { 0.2, 0.6, 0.2 }, "REMOVE", -0.5, -0.4746752545839654)]
    public void PrivacyLossAndInverse(double sigma, double[] sensitivities, double[] probabilities, string adjacency, double x, double expected)
    {
        var loss = new MixtureGaussianPrivacyLoss(sigma, sensitivities, probabilities, Adj(adjacency));
        Assert.Equal(expected, loss.PrivacyLoss(x), Places7);

        // The inverse is the root itself (upstream bisects to 1e-6 in x and tests at places 5 only).
        var inverse = loss.InversePrivacyLoss(expected);
        if (double.IsFinite(inverse))
        {
            Assert.Equal(x, inverse, 1e-9);
        }
    }

    // test_mu_lower_log_cdf, the rows with a zero or several sensitivities, at x = −10, 0, 1, 10.
    [Theory]
    [InlineData(1.0, new[] { 0.0, 1.0 }, new[] { 0.2, 0.8 }, "ADD", new[] { -54.84062277, -1.48313922, -0.56516047, 0.0 })]
    [InlineData(2.0, new[] { 0.0, 1.0 }, new[] { 0.8, 0.2 }, "ADD", new[] { -1.52717161e01, -7.72823689e-01, -4.25917894e-01, -9.08856295e-07 })]
    [InlineData(1.0, new[] { 0.0, 1.0, 2.0 }, new[] { 0.2, 0.4, 0.4 }, "ADD", new[] { -5.48406729e01, -1.75699779, -0.839952452, -2.22044605e-13 })]
    [InlineData(1.0, new[] { 0.0, 1.0, 2.0 }, new[] { 0.2, 0.4, 0.4 }, "REMOVE", new[] { -5.32312852e01, -6.93147181e-01, -1.72753779e-01, -7.61985302e-24 })]
    public void MuLowerLogCdf(double sigma, double[] sensitivities, double[] probabilities, string adjacency, double[] expected)
    {
        var loss = new MixtureGaussianPrivacyLoss(sigma, sensitivities, probabilities, Adj(adjacency));
        double[] xs = [-10, 0, 1, 10];
        for (var i = 0; i < xs.Length; i++)
        {
            // The stated values carry 9 significant digits.
            Assert.Equal(expected[i], loss.MuLowerLogCdf(xs[i]), Math.Max(Places7, 1e-8 * Math.Abs(expected[i])));
        }
    }

    // test_get_delta_for_epsilon at ε = 1 (upstream found the mixture rows by a numerical search over the cut).
    [Theory]
    [InlineData(new[] { 1.0 }, new[] { 1.0 }, "ADD", 0.12693674)]
    [InlineData(new[] { 3.0 }, new[] { 1.0 }, "ADD", 0.78760074)]
    [InlineData(new[] { 0.0, 1.0 }, new[] { 0.2, 0.8 }, "ADD", 0.0231362104090899)]
    [InlineData(new[] { 0.0, 3.0 }, new[] { 0.3, 0.7 }, "ADD", 0.1195051215523554)]
    [InlineData(new[] { 0.0, 1.0, 2.0 }, new[] { 0.2, 0.6, 0.2 }, "ADD", 0.036691263832032806)]
    [InlineData(new[] { 1.0, 2.0 }, new[] { 0.2, 0.8 }, "ADD", 0.3894964356580768)]
    [InlineData(new[] { 1.0 }, new[] { 1.0 }, "REMOVE", 0.12693674)]
    [InlineData(new[] { 3.0 }, new[] { 1.0 }, "REMOVE", 0.78760074)]
    [InlineData(new[] { 0.0, 1.0 }, new[] { 0.2, 0.8 }, "REMOVE", 0.0816951786585355)]
    [InlineData(new[] { 0.0, 3.0 }, new[] { 0.3, 0.7 }, "REMOVE", 0.5356298793262404)]
    [InlineData(new[] { 0.0, 1.0, 2.0 }, new[] { 0.2, 0.6, 0.2 }, "REMOVE", 0.15768284088654105)]
    [InlineData(new[] { 1.0, 2.0 }, new[] { 0.2, 0.8 }, "REMOVE", 0.433276675545065)]
    public void DeltaForEpsilon(double[] sensitivities, double[] probabilities, string adjacency, double expected)
    {
        var loss = new MixtureGaussianPrivacyLoss(1.0, sensitivities, probabilities, Adj(adjacency));
        Assert.Equal(expected, loss.GetDeltaForEpsilon(1.0), Places7);

        // Zero-probability components are ignored (test_zero_sampling_probs_ignored).
        var padded = new MixtureGaussianPrivacyLoss(1.0, [.. sensitivities, 100.0], [.. probabilities, 0.0], Adj(adjacency));
        Assert.Equal(loss.GetDeltaForEpsilon(1.0), padded.GetDeltaForEpsilon(1.0), 1e-15);
    }

    // One component is the Gaussian mechanism; [0, c] with [1 − q, q] is the subsampled one (same δ everywhere).
    [Theory]
    [InlineData(1.0, 1.0, 1.0)]
    [InlineData(2.0, 1.5, 0.3)]
    [InlineData(0.8, 1.0, 0.01)]
    public void ReducesToTheSubsampledGaussian(double sigma, double c, double q)
    {
        foreach (var adjacency in new[] { AdjacencyType.Add, AdjacencyType.Remove })
        {
            var gaussian = new GaussianPrivacyLoss(sigma, c, q, adjacency);
            var mixture = q == 1.0
                ? new MixtureGaussianPrivacyLoss(sigma, [c], [1.0], adjacency)
                : new MixtureGaussianPrivacyLoss(sigma, [0.0, c], [1 - q, q], adjacency);
            foreach (var epsilon in new[] { -0.5, 0.0, 0.01, 0.3, 1.0, 3.0, 8.0 })
            {
                var expected = gaussian.GetDeltaForEpsilon(epsilon);
                Assert.Equal(expected, mixture.GetDeltaForEpsilon(epsilon), Math.Max(1e-14, 1e-9 * expected));
            }
        }
    }

    // The cases of test_mixture_gaussian_varying_standard_deviation_and_sensitivity_connect_dots (interval 1,
    // log_mass_truncation_bound = ln 2 + ln Φ(−0.9)), computed with dp_accounting at the commit above but with the
    // interval given as the float 1.0 (reference_values.py). The values stated there come from the Python int 1: the grid
    // of ε is then an integer array, and MixtureGaussianPrivacyLoss.inverse_privacy_losses fills an integer copy of it, so
    // every cut point x is truncated to an integer (numpy warns "invalid value encountered in cast"). With 1.0 the
    // single-Gaussian case equals GaussianPrivacyLoss's connect-the-dots PMF stated in the same file (0.319116756, …).
    public static TheoryData<double, double[], double[], Dictionary<int, double>, double, Dictionary<int, double>, double> ConnectDotsCases => new()
    {
        { 1.0, [1.0], [1.0], new() { [-1] = 0.148979161, [0] = 0.319116756, [1] = 0.34327019, [2] = 0.167710257 }, 0.020923635821113756, new() { [-2] = 0.022697115, [-1] = 0.126282046, [0] = 0.319116756, [1] = 0.34327019, [2] = 0.167710257 }, 0.020923635821113756 },
        { 1.0, [2.0], [1.0], new() { [0] = 0.216728735, [1] = 0.169838899, [2] = 0.195352391, [3] = 0.176732821, [4] = 0.156393834 }, 0.08495331867107113, new() { [-4] = 0.002864453, [-3] = 0.008799009, [-2] = 0.026438071, [-1] = 0.062480239, [0] = 0.116146963, [1] = 0.169838899, [2] = 0.195352391, [3] = 0.176732821, [4] = 0.156393834 }, 0.08495331867107113 },
        { 1.0, [0.0, 1.0], [0.2, 0.8], new() { [-1] = 0.130738017, [0] = 0.398104072, [1] = 0.4480217 }, 0.02313621040908223, new() { [-1] = 0.164817973, [0] = 0.398104072, [1] = 0.314081995, [2] = 0.112267164 }, 0.010728796216931999 },
        { 5.0, [0.0, 5.0], [0.4, 0.6], new() { [-1] = 0.108076372, [0] = 0.528456643, [1] = 0.363466985 }, 0.0, new() { [-1] = 0.133712031, [0] = 0.528456643, [1] = 0.293782039 }, 0.04404928680132414 },
        { 1.0, [0.0, 1.0, 2.0], [0.2, 0.6, 0.2], new() { [-1] = 0.116651045, [0] = 0.338161419, [1] = 0.487142811, [2] = 0.058044725 }, 0.0, new() { [-2] = 0.007855499, [-1] = 0.179209825, [0] = 0.338161419, [1] = 0.259339455, [2] = 0.156983388 }, 0.058450413977214795 },
    };

    [Theory]
    [MemberData(nameof(ConnectDotsCases))]
    public void ConnectDotsPmf(double sigma, double[] sensitivities, double[] probabilities, Dictionary<int, double> add, double addInfinity, Dictionary<int, double> remove, double removeInfinity)
    {
        var bound = Math.Log(2) + NormalDistribution.LogCdf(-0.9);
        var pld = PrivacyLossDistribution.FromMixtureOfGaussians(sigma, sensitivities, probabilities, 1.0, pessimistic: true, bound);
        Assert.False(pld.IsSymmetric);
        PmfAssert.Equal(add, pld.Add, Places7);
        PmfAssert.Equal(remove, pld.Remove, Places7);
        Assert.Equal(addInfinity, pld.Add.InfinityMass, Places7);
        Assert.Equal(removeInfinity, pld.Remove.InfinityMass, Places7);
    }

    // test_mixture_gaussian_discretization_connect_dots: σ 1, [0, 1, 2] with [0.2, 0.6, 0.2] at intervals 0.5 and 0.3.
    public static TheoryData<double, double, double, Dictionary<int, double>, Dictionary<int, double>> DiscretizationCases => new()
    {
        { 0.5, 7.02736093e-05, 0.058450414, new() { [-1] = 0.1766054, [0] = 0.17661904, [1] = 0.26907836, [2] = 0.2845549, [3] = 0.09307203 }, new() { [-3] = 0.02076718, [-2] = 0.1046819, [-1] = 0.16320427, [0] = 0.17661904, [1] = 0.15880237, [2] = 0.12600393, [3] = 0.09134778, [4] = 0.10012311 } },
        { 0.3, 0.010838515, 0.072142753, new() { [-1] = 0.20621578, [0] = 0.10686974, [1] = 0.14244404, [2] = 0.17395599, [3] = 0.18472755, [4] = 0.17494839 }, new() { [-4] = 0.05269344, [-3] = 0.07510462, [-2] = 0.09546907, [-1] = 0.10552514, [0] = 0.10686974, [1] = 0.10149509, [2] = 0.09162041, [3] = 0.07936186, [4] = 0.06644975, [5] = 0.05409823, [6] = 0.09916991 } },
    };

    [Theory]
    [MemberData(nameof(DiscretizationCases))]
    public void ConnectDotsPmfAtOtherIntervals(double interval, double addInfinity, double removeInfinity, Dictionary<int, double> add, Dictionary<int, double> remove)
    {
        var bound = Math.Log(2) + NormalDistribution.LogCdf(-0.9);
        var pld = PrivacyLossDistribution.FromMixtureOfGaussians(1.0, [0.0, 1.0, 2.0], [0.2, 0.6, 0.2], interval, pessimistic: true, bound);
        Assert.Equal(addInfinity, pld.Add.InfinityMass, Places7);
        Assert.Equal(removeInfinity, pld.Remove.InfinityMass, Places7);
        PmfAssert.Equal(add, pld.Add, Places7);
        PmfAssert.Equal(remove, pld.Remove, Places7);
    }

    // The optimistic discretisation (post-processing, ours) and connect-the-dots bracket the exact δ.
    [Fact]
    public void OptimisticAndPessimisticBracketTheMechanism()
    {
        foreach (var adjacency in new[] { AdjacencyType.Add, AdjacencyType.Remove })
        {
            var loss = new MixtureGaussianPrivacyLoss(1.0, [0.0, 1.0, 2.0], [0.2, 0.6, 0.2], adjacency);
            var optimistic = PmfBuilder.OptimisticMixing(loss, 1e-2);
            var pessimistic = PmfBuilder.ConnectDots(loss, 1e-2);
            Assert.InRange(optimistic.Probs.Sum(), 1 - 1e-9, 1 + 1e-12);
            foreach (var epsilon in new[] { 0.0, 0.005, 0.1, 0.5, 1.0, 2.0, 5.0 })
            {
                var exact = loss.GetDeltaForEpsilon(epsilon);
                Assert.True(optimistic.GetDeltaForEpsilon(epsilon) <= exact + 1e-12, $"optimistic δ({epsilon}) > {exact}");
                Assert.True(pessimistic.GetDeltaForEpsilon(epsilon) >= exact - 1e-12, $"pessimistic δ({epsilon}) < {exact}");
            }
        }
    }

    // test_init_raises_error.
    [Theory]
    [InlineData(-1.0, new[] { 1.0 }, new[] { 1.0 })]
    [InlineData(1.0, new[] { -1.0, 1.0 }, new[] { 0.5, 0.5 })]
    [InlineData(1.0, new[] { 0.0, 1.0, 2.0 }, new[] { 0.75, 0.75, -0.5 })]
    [InlineData(1.0, new[] { 0.0, 1.0, 2.0 }, new[] { 1.5, 0.5, 0.5 })]
    [InlineData(1.0, new[] { 0.0, 1.0, 2.0 }, new[] { 0.2, 0.2, 0.2 })]
    [InlineData(1.0, new[] { 1.0 }, new[] { 0.5, 0.5 })]
    [InlineData(1.0, new[] { 1.0, 2.0, 3.0 }, new[] { 0.5, 0.5 })]
    [InlineData(1.0, new[] { 0.0 }, new[] { 1.0 })]
    public void InvalidArgumentsAreRejected(double sigma, double[] sensitivities, double[] probabilities) =>
        Assert.ThrowsAny<ArgumentException>(() => new MixtureGaussianPrivacyLoss(sigma, sensitivities, probabilities));

    [Fact]
    public void ReplaceIsNotSupported() =>
        Assert.Throws<NotSupportedException>(() => new MixtureGaussianPrivacyLoss(1.0, [0.0, 1.0], [0.5, 0.5], AdjacencyType.Replace));
}
