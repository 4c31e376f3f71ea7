using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>
/// The PLD accountant on the events beyond Gaussian and Laplace, and under the replace relations. Stated values from
/// google/differential-privacy @ b5b0286e313b64a692abfc8c528d54ef47d960a0,
/// python/dp_accounting/dp_accounting/pld/pld_privacy_accountant_test.py (the test named in each comment); computed
/// values from that commit's PLDAccountant (reference_values.py).
/// </summary>
public sealed class PldAccountantEventTests
{
    private const NeighboringRelation AddRemove = NeighboringRelation.AddOrRemoveOne;
    private const NeighboringRelation Replace = NeighboringRelation.ReplaceOne;
    private const NeighboringRelation Special = NeighboringRelation.ReplaceSpecial;

    private static PldAccountant Run(NeighboringRelation relation, params (DpEvent Event, long Count)[] events)
    {
        var accountant = new PldAccountant(relation);
        foreach (var (e, c) in events)
        {
            accountant.Compose(e, c);
        }

        return accountant;
    }

    // test_composition_errors_for_neighboring_relation, test_supports_randomized_response,
    // test_poisson_subsampling_laplace_not_supported_for_replace_one, test_supports_subsampled_gaussian_and_rr_composition.
    public static TheoryData<DpEvent, NeighboringRelation, bool> SupportCases => new()
    {
        { new RandomizedResponseDpEvent(0.1, 3), AddRemove, false },
        { new RandomizedResponseDpEvent(0.1, 3), Replace, true },
        { new RandomizedResponseDpEvent(0.1, 3), Special, true },
        { new LaplaceDpEvent(1.0), Replace, false },
        { new PoissonSampledDpEvent(0.1, new LaplaceDpEvent(1.0)), Replace, false },
        { new DiscreteLaplaceDpEvent(0.1, 1), Replace, false },
        { new MixtureOfGaussiansDpEvent(1.0, [0.0, 1.0], [0.5, 0.5]), Replace, false },
        { new PermuteAndFlipDpEvent(1.0), Replace, false },
        { new LaplaceDpEvent(1.0), Special, true },
        { new DiscreteLaplaceDpEvent(0.1, 1), Special, true },
        { new MixtureOfGaussiansDpEvent(1.0, [0.0, 1.0], [0.5, 0.5]), Special, true },
        { new PermuteAndFlipDpEvent(1.0), Special, true },
        { new ComposedDpEvent([new PoissonSampledDpEvent(0.1, new GaussianDpEvent(1.0)), new RandomizedResponseDpEvent(0.1, 3)]), Replace, true },
        { new ComposedDpEvent([new PoissonSampledDpEvent(0.1, new GaussianDpEvent(1.0)), new RandomizedResponseDpEvent(0.1, 3)]), Special, true },
        { new ComposedDpEvent([new PoissonSampledDpEvent(0.1, new GaussianDpEvent(1.0)), new RandomizedResponseDpEvent(0.1, 3)]), AddRemove, false },
        { new DiscreteGaussianDpEvent(1.0), AddRemove, false },
    };

    [Theory]
    [MemberData(nameof(SupportCases))]
    public void SupportDependsOnTheRelation(DpEvent e, NeighboringRelation relation, bool supported)
    {
        var accountant = new PldAccountant(relation);
        Assert.Equal(supported, accountant.Supports(e));
        if (!supported)
        {
            Assert.Throws<UnsupportedDpEventException>(() => accountant.Compose(e));
        }
    }

    // test_supports_gaussian: every relation.
    [Theory]
    [InlineData(AddRemove)]
    [InlineData(Replace)]
    [InlineData(Special)]
    public void GaussianEventsAreSupportedUnderEveryRelation(NeighboringRelation relation)
    {
        var accountant = new PldAccountant(relation);
        Assert.True(accountant.Supports(new SelfComposedDpEvent(new GaussianDpEvent(1.0), 6)));
        Assert.True(accountant.Supports(new ComposedDpEvent([new PoissonSampledDpEvent(0.1, new GaussianDpEvent(1.0)), new GaussianDpEvent(2.0)])));
        Assert.True(accountant.Supports(new TruncatedSubsampledGaussianDpEvent(100, 0.1, 10, 1.0)));
        Assert.True(accountant.Supports(new EpsilonDeltaDpEvent(1.0, 1e-6)));
        Assert.True(accountant.Supports(new ExponentialMechanismDpEvent(1.0)));
    }

    // test_randomized_response_with_single_bucket, test_randomized_response_with_zero_noise_parameter.
    [Theory]
    [InlineData(Replace)]
    [InlineData(Special)]
    public void RandomizedResponseEdgeCases(NeighboringRelation relation)
    {
        var single = Run(relation, (new RandomizedResponseDpEvent(0.0, 1), 1));
        Assert.Equal(0.0, single.GetDelta(0));
        Assert.Equal(0.0, single.GetEpsilon(0));
        var truthful = Run(relation, (new RandomizedResponseDpEvent(0.0, 3), 1));
        Assert.Equal(1.0, truthful.GetDelta(1.0));
        Assert.Equal(double.PositiveInfinity, truthful.GetEpsilon(0.01));
    }

    // test_randomized_response: each noise level is exactly 1-DP, so δ(1) = 0 (places 7).
    [Theory]
    [InlineData(Replace, 4, 4)]
    [InlineData(Special, 4, 4)]
    [InlineData(Special, 2, 2)]
    public void RandomizedResponseIsExactlyOneDp(NeighboringRelation relation, int numBuckets, int caseNumber)
    {
        var p = (relation, caseNumber) switch
        {
            (Replace, _) => 4 / (3 + Math.E),
            (_, 4) => (4 - Math.E) / 3,
            _ => Math.Exp(-1),
        };
        Assert.Equal(0.0, Run(relation, (new RandomizedResponseDpEvent(p, numBuckets), 1)).GetDelta(1.0), 7);
    }

    // test_additive_noise_mechanisms_with_zero_noise_multiplier; test_poisson_subsampling_with_zero_probability.
    [Fact]
    public void ZeroNoiseAndZeroSensitivity()
    {
        foreach (var e in new DpEvent[] { new DiscreteLaplaceDpEvent(0, 1), new MixtureOfGaussiansDpEvent(0, [1, 2], [0.5, 0.5]), new TruncatedSubsampledGaussianDpEvent(100, 0.1, 10, 0.0) })
        {
            var accountant = Run(AddRemove, (e, 1));
            Assert.Equal(1.0, accountant.GetDelta(1.0));
            Assert.Equal(double.PositiveInfinity, accountant.GetEpsilon(0.01));
        }

        foreach (var e in new DpEvent[] { new MixtureOfGaussiansDpEvent(1, [0], [1.0]), new MixtureOfGaussiansDpEvent(0, [0], [1.0]), new TruncatedSubsampledGaussianDpEvent(100, 0.0, 10, 1.0), new TruncatedSubsampledGaussianDpEvent(100, 0.1, 0, 1.0), new PermuteAndFlipDpEvent(0) })
        {
            var accountant = Run(AddRemove, (e, 1));
            Assert.Equal(0.0, accountant.GetDelta(0));
            Assert.Equal(0.0, accountant.GetEpsilon(0));
        }
    }

    // test_epsilon_basic and test_exponential_mechanism_basic (exact equalities there), test_epsilon_delta_basic.
    [Fact]
    public void EpsilonDeltaAndExponentialMechanism()
    {
        foreach (var (first, second) in new (DpEvent, DpEvent)[]
        {
            (new EpsilonDeltaDpEvent(1.0, 0.0), new EpsilonDeltaDpEvent(2.0, 0.0)),
            (new ExponentialMechanismDpEvent(1.0), new ExponentialMechanismDpEvent(2.0)),
        })
        {
            var accountant = Run(AddRemove, (first, 1), (second, 1));
            Assert.Equal(0.0, accountant.GetDelta(3.0));
            Assert.Equal(3.0, accountant.GetEpsilon(0.0));
        }

        var withDelta = Run(AddRemove, (new EpsilonDeltaDpEvent(1.0, 0.1), 1), (new EpsilonDeltaDpEvent(2.0, 0.2), 1));
        Assert.Equal(0.28, withDelta.GetDelta(3.0));
        Assert.Equal(3.0, withDelta.GetEpsilon(0.28));
        Assert.Equal(double.PositiveInfinity, Run(AddRemove, (new EpsilonDeltaDpEvent(double.PositiveInfinity, 0), 1)).GetEpsilon(0.5));
    }

    // test_permute_and_flip_matches_laplace.
    [Fact]
    public void PermuteAndFlipIsLaplace() =>
        Assert.Equal(Run(AddRemove, (new LaplaceDpEvent(1.0), 1)).GetEpsilon(1e-5), Run(AddRemove, (new PermuteAndFlipDpEvent(1.0), 1)).GetEpsilon(1e-5), 12);

    // test_discrete_laplace_basic: 3 × DLap(1) and 2 × DLap(0.5), each 1-DP and ½-DP: ε = 4 at δ = 0 (within 1e-6).
    [Fact]
    public void DiscreteLaplaceBasic()
    {
        var accountant = Run(AddRemove, (new DiscreteLaplaceDpEvent(1, 1), 3), (new DiscreteLaplaceDpEvent(0.5, 1), 2));
        Assert.Equal(0.0, accountant.GetDelta(4), 1e-6);
        Assert.Equal(4.0, accountant.GetEpsilon(0), 1e-6);
    }

    // test_mixture_of_gaussians_basic: δ(17.193115) = 1e-6 within 1e-12, ε(1e-6) = 17.193115 within 1e-6.
    [Fact]
    public void MixtureOfGaussiansBasic()
    {
        var accountant = Run(AddRemove,
            (new MixtureOfGaussiansDpEvent(1.0, [0.0, 1.0, 2.0], [0.2, 0.6, 0.2]), 3),
            (new MixtureOfGaussiansDpEvent(2.0, [0.0, 2.0, 3.0], [0.33, 0.34, 0.33]), 2));
        Assert.Equal(1e-6, accountant.GetDelta(17.193115), 1e-12);
        Assert.Equal(17.193115, accountant.GetEpsilon(1e-6), 1e-6);
        var interval = accountant.GetEpsilonInterval(1e-6);
        Assert.InRange(interval.Lower, 17.0, interval.Upper);
    }

    // test_truncated_subsampled_gaussian_basic: δ(17.904330) = 1e-6 within 1e-12, ε(1e-6) = 17.904330 within 1e-6.
    [Fact]
    public void TruncatedSubsampledGaussianBasic()
    {
        var accountant = Run(AddRemove,
            (new TruncatedSubsampledGaussianDpEvent(4, 0.5, 2, 1.0), 3),
            (new TruncatedSubsampledGaussianDpEvent(3, 0.5, 2, 1.0), 2));
        Assert.Equal(1e-6, accountant.GetDelta(17.904330), 1e-12);
        Assert.Equal(17.904330, accountant.GetEpsilon(1e-6), 1e-6);
    }

    // Computed with dp_accounting's PLDAccountant at the commit above (reference_values.py); ε at δ = 1e-5.
    [Theory]
    [InlineData(1, 2.0, 4.37717810002493)]
    [InlineData(2, 1.0, 2.8434458130196942)]
    [InlineData(3, 1.0, 1.828243645616618)]
    [InlineData(4, 0.0, 2.397881818016527)]
    [InlineData(5, 0.0, 1.704781818016527)]
    [InlineData(6, 0.0, 9.998854120412483)]
    [InlineData(7, 0.0, 9.99999999896799)]
    [InlineData(8, 2.0, 2.2195113903357897)]
    [InlineData(9, 0.0, 10.326310943905051)]
    public void MatchesDpAccounting(int caseNumber, double sigma, double expected)
    {
        var accountant = caseNumber switch
        {
            1 => Run(Replace, (new GaussianDpEvent(sigma), 1)),
            2 => Run(Replace, (new PoissonSampledDpEvent(0.01, new GaussianDpEvent(sigma)), 1000)),
            3 => Run(Special, (new PoissonSampledDpEvent(0.01, new GaussianDpEvent(sigma)), 1000)),
            4 => Run(Replace, (new RandomizedResponseDpEvent(0.5, 10), 1)),
            5 => Run(Special, (new RandomizedResponseDpEvent(0.5, 10), 1)),
            6 => Run(AddRemove, (new DiscreteLaplaceDpEvent(0.5, 2), 10)),
            7 => Run(AddRemove, (new EpsilonDeltaDpEvent(1.0, 1e-6), 10)),
            8 => Run(Replace, (new TruncatedSubsampledGaussianDpEvent(1000, 0.1, 110, sigma), 10)),
            _ => Run(AddRemove, (new MixtureOfGaussiansDpEvent(1.0, [0, 1, 2], [0.5, 0.3, 0.2]), 2)),
        };
        Assert.Equal(expected, accountant.GetEpsilon(1e-5), 1e-6);
        var (lower, upper) = accountant.GetEpsilonInterval(1e-5);
        Assert.True(lower <= upper && upper == accountant.GetEpsilon(1e-5), $"[{lower}, {upper}]");
    }

    // Randomized response composes count times (dp_accounting composes this event once whatever its count).
    [Fact]
    public void RandomizedResponseCountsEveryRun()
    {
        var once = Run(Replace, (new RandomizedResponseDpEvent(0.5, 10), 1));
        var twice = Run(Replace, (new RandomizedResponseDpEvent(0.5, 10), 1), (new RandomizedResponseDpEvent(0.5, 10), 1));
        Assert.Equal(twice.GetEpsilon(1e-5), Run(Replace, (new RandomizedResponseDpEvent(0.5, 10), 2)).GetEpsilon(1e-5), 12);
        Assert.True(twice.GetEpsilon(1e-5) > once.GetEpsilon(1e-5) + 1);
    }

    // DP-FTRL's trees (beyond dp_accounting, whose PLDAccountant refuses them): a record changes one leaf and its
    // ⌈log₂(s + 1)⌉ ancestors in each of k trees, so k trees of 100 steps are 7k Gaussians of σ, i.e. one Gaussian of
    // σ/√(7k), whose exact ε is Balle & Wang's; the PLD brackets it and the RDP bound lies above.
    [Fact]
    public void TreeAggregationUnderReplaceSpecialIsExactlyItsGaussians()
    {
        var tree = new SingleEpochTreeAggregationDpEvent(2.0, [60, 100]);
        var accountant = Run(Special, (tree, 3));
        var exact = GaussianMechanism.GetEpsilon(2.0 / Math.Sqrt(7 * 3), 1e-5);
        var (lower, upper) = accountant.GetEpsilonInterval(1e-5);
        Assert.InRange(exact, lower, upper);
        Assert.True(upper - lower < 1e-2, $"[{lower}, {upper}]");
        var rdp = new DiffPriv.Accounting.Rdp.RdpAccountant(neighboringRelation: Special).Compose(tree, 3).GetEpsilon(1e-5);
        Assert.True(rdp > upper, $"RDP {rdp} vs PLD {upper}");

        Assert.True(new PldAccountant(Special).Supports(tree));
        Assert.False(new PldAccountant(AddRemove).Supports(tree));
        Assert.False(new PldAccountant(Replace).Supports(tree));
        Assert.Equal(0.0, Run(Special, (new SingleEpochTreeAggregationDpEvent(2.0, [0]), 1)).GetEpsilon(1e-5));
        Assert.Equal(double.PositiveInfinity, Run(Special, (new SingleEpochTreeAggregationDpEvent(0.0, [4]), 1)).GetEpsilon(1e-5));
    }
}
