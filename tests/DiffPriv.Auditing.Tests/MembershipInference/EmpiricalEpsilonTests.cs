using DiffPriv.Accounting;
using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Tests.MembershipInference;

public sealed class EmpiricalEpsilonTests
{
    private static double[] Gaussian(SplitMix64 rng, int n, double mean) =>
        [.. Enumerable.Range(0, n).Select(_ => rng.NextGaussian() + mean)];

    [Fact]
    public void PerfectSeparationMatchesTfPrivacyClopperPearson()
    {
        // TF Privacy epsilon_lower_bound_test.py: 500 positives all above, 500 negatives all below, α = 0.01 →
        // ln(CLOPPER_PEARSON ratio) = 4.54 (places 2). With δ = 0 both of our forms equal that ratio's log.
        Assert.Equal(4.54, EmpiricalEpsilon.FromCounts(500, 0, 0, 500, delta: 0, confidence: 0.99), 0.005);
    }

    [Theory]
    [InlineData(500, 0.95, 1e-5)]
    [InlineData(37, 0.9, 0.0)]
    [InlineData(5000, 0.99, 1e-3)]
    public void PerfectSeparationHasClosedForm(int n, double confidence, double delta)
    {
        // FP = FN = 0: FPR⁺ = FNR⁺ = u = 1 − ((1 − c)/2)^(1/n), so ε = ln((1 − δ − u)/u).
        var u = -SpecialFunctionsTests.ExpM1(Math.Log((1 - confidence) / 2) / n);
        Assert.Equal(Math.Log((1 - delta - u) / u), EmpiricalEpsilon.FromCounts(n, 0, 0, n, delta, confidence), 1e-12);
    }

    [Fact]
    public void BoundIsSymmetricMonotoneAndZeroWithoutSignal()
    {
        // Exchanging members and non-members exchanges the two forms.
        Assert.Equal(EmpiricalEpsilon.FromCounts(90, 10, 5, 75, 1e-5), EmpiricalEpsilon.FromCounts(75, 5, 10, 90, 1e-5), 1e-15);
        // More true positives never lowers the bound; a larger δ never raises it.
        Assert.True(EmpiricalEpsilon.FromCounts(95, 5, 5, 75, 1e-5) >= EmpiricalEpsilon.FromCounts(90, 10, 5, 75, 1e-5));
        Assert.True(EmpiricalEpsilon.FromCounts(90, 10, 5, 75, 0.01) <= EmpiricalEpsilon.FromCounts(90, 10, 5, 75, 1e-5));
        // Identical rates are no evidence at all.
        Assert.Equal(0, EmpiricalEpsilon.FromCounts(50, 50, 50, 50, 1e-5));
        Assert.Equal(0, EmpiricalEpsilon.FromCounts(1000, 0, 1000, 0, 0));
    }

    [Fact]
    public void NeverExceedsTheTrueEpsilonOfTheGaussianMechanism()
    {
        // Member scores ~ N(μ, 1) and non-member scores ~ N(0, 1) are the output distributions of the Gaussian mechanism
        // with sensitivity 1 and σ = 1/μ, whose exact ε(δ) is Balle & Wang's (GaussianMechanism.GetEpsilon). No test on
        // these scores can have a larger ε, so a valid lower bound stays below it (here with 95% confidence per run;
        // the bound is far from tight, so a failure would mean the bound is not a bound).
        const double Delta = 1e-5;
        foreach (var mu in new[] { 0.5, 1.0, 2.0, 4.0 })
        {
            var truth = GaussianMechanism.GetEpsilon(1 / mu, Delta);
            for (var seed = 0; seed < 25; seed++)
            {
                var rng = new SplitMix64((ulong)(1000 + seed));
                var bound = EmpiricalEpsilon.SplitAndBound(Gaussian(rng, 1000, mu), Gaussian(rng, 1000, 0), Delta, 0.95, seed);
                Assert.True(bound.Epsilon <= truth, $"μ = {mu}, seed {seed}: bound {bound.Epsilon} > true ε {truth}");
            }
        }
    }

    [Fact]
    public void StronglySeparatedScoresGiveAClearlyPositiveBound()
    {
        // 1000 + 1000 perfectly separated scores: each evaluation half has 500 + 500 with no error, so the bound is the
        // closed form for n = 500 (≈ 4.91 at 95%): clearly positive, and as large as 500 examples per side allow.
        var members = Enumerable.Range(0, 1000).Select(i => 10 + (i / 1000.0)).ToArray();
        var nonMembers = Enumerable.Range(0, 1000).Select(i => i / 1000.0).ToArray();
        var bound = EmpiricalEpsilon.SplitAndBound(members, nonMembers, 1e-5, 0.95, seed: 3);
        var u = -SpecialFunctionsTests.ExpM1(Math.Log(0.025) / 500);
        Assert.Equal(Math.Log((1 - 1e-5 - u) / u), bound.Epsilon, 1e-12);
        Assert.True(bound.Epsilon > 4.9);
        Assert.Equal((500, 0, 0, 500), (bound.TruePositives, bound.FalseNegatives, bound.FalsePositives, bound.TrueNegatives));

        // And a Gaussian shift of 4 standard deviations (true ε(1e-5) ≈ 13) gives well above 3.
        var rng = new SplitMix64(77);
        Assert.True(EmpiricalEpsilon.SplitAndBound(Gaussian(rng, 1000, 4), Gaussian(rng, 1000, 0), 1e-5).Epsilon > 3);
    }

    [Fact]
    public void ChoosingTheThresholdOnTheSameDataWouldInflateTheBound()
    {
        // Members and non-members from the same distribution: the true ε is 0, so any positive bound is a false claim.
        // Taking the best of all thresholds' 95% bounds on the same data (the naive rule) makes such claims more often
        // than 5% of the time; choosing on one half and bounding on the other (ours) stays within 5%.
        const int Runs = 200;
        const int N = 1000;
        // Clopper–Pearson upper ends for every count of N, computed once (the naive rule evaluates every threshold).
        var upper = Enumerable.Range(0, N + 1).Select(k => ClopperPearson.Upper(k, N)).ToArray();
        int ours = 0, naive = 0;
        for (var seed = 0; seed < Runs; seed++)
        {
            var rng = new SplitMix64((ulong)seed * 7919);
            var members = Gaussian(rng, N, 0);
            var nonMembers = Gaussian(rng, N, 0);
            if (EmpiricalEpsilon.SplitAndBound(members, nonMembers, 1e-5, 0.95, seed).Epsilon > 0)
            {
                ours++;
            }

            // Naive: positive when any threshold has (1 − δ − FNR⁺)/FPR⁺ > 1 or (1 − δ − FPR⁺)/FNR⁺ > 1.
            var roc = RocCurve.Compute(members, nonMembers);
            if (roc.AllPoints.Skip(1).Any(p =>
                {
                    var fpr = upper[p.FalsePositives];
                    var fnr = upper[N - p.TruePositives];
                    return 1 - 1e-5 - fnr > fpr || 1 - 1e-5 - fpr > fnr;
                }))
            {
                naive++;
            }
        }

        Assert.True(ours <= Runs / 20, $"{ours} of {Runs} null runs claimed ε > 0");
        Assert.True(naive > Runs / 20, $"the naive rule claimed ε > 0 in only {naive} of {Runs} runs");
    }

    [Fact]
    public void SelectionAndEvaluationAreKeptApart()
    {
        // The selection scores separate perfectly between 4.8 and 6, so the threshold is the middle of that gap; the
        // evaluation scores (one member and one non-member above it) alone determine the counts and the bound.
        var bound = EmpiricalEpsilon.SelectAndBound(
            selectionMembers: [.. Enumerable.Range(0, 20).Select(i => 6 + (0.2 * i))],
            selectionNonMembers: [.. Enumerable.Range(0, 20).Select(i => 1 + (0.2 * i))],
            evaluationMembers: [9.5, 1, 1, 1],
            evaluationNonMembers: [9.5, 0, 0, 0, 0],
            delta: 0);
        Assert.Equal(5.4, bound.Threshold, 1e-12);
        Assert.Equal((1, 3, 1, 4), (bound.TruePositives, bound.FalseNegatives, bound.FalsePositives, bound.TrueNegatives));
        Assert.Equal(EmpiricalEpsilon.FromCounts(1, 3, 1, 4, 0), bound.Epsilon);

        var empty = EmpiricalEpsilon.SelectAndBound([1.0], [], [1.0], [0.0], 1e-5);
        Assert.Equal(0, empty.Epsilon);
        Assert.True(double.IsNaN(empty.Threshold));
    }

    [Fact]
    public void SplitIsReproducibleForASeed()
    {
        var rng = new SplitMix64(5);
        var members = Gaussian(rng, 300, 1);
        var nonMembers = Gaussian(rng, 300, 0);
        Assert.Equal(EmpiricalEpsilon.SplitAndBound(members, nonMembers, 1e-5, 0.95, 11), EmpiricalEpsilon.SplitAndBound(members, nonMembers, 1e-5, 0.95, 11));
    }

    [Theory]
    [InlineData(-0.1, 0.95)]
    [InlineData(1.0, 0.95)]
    [InlineData(1e-5, 1.0)]
    [InlineData(1e-5, 0)]
    public void RejectsInvalidDeltaOrConfidence(double delta, double confidence) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => EmpiricalEpsilon.FromCounts(1, 1, 1, 1, delta, confidence));
}
