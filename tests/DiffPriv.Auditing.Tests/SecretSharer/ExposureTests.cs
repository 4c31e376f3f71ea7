using DiffPriv.Auditing.SecretSharer;

namespace DiffPriv.Auditing.Tests.SecretSharer;

public sealed class ExposureTests
{
    private static readonly double[] References1To16 = [.. Enumerable.Range(1, 16).Select(x => (double)x)];

    [Fact]
    public void ByRankReproducesTfPrivacyInterpolationTest()
    {
        // tensorflow/privacy @ 03035d5d4a271ac795dab80f5bc1cef82fc3d462,
        // tensorflow_privacy/privacy/privacy_tests/secret_sharer/exposures_test.py, test_exposure_interpolation (stated;
        // that commit's exposures.compute_exposure_interpolation re-run by skewnormal_goldens.py gives the same):
        // references 1.0 … 16.0; '1': [0, 0.1] → log2 16 = 4 (both best); '2': [20.0] → log2 16 − log2 17;
        // '5' and '8': [3.5] → rank 4 → log2 16 − log2 4 = 2 (decimal 7).
        // Their keys never interact (each secret is ranked against the references only), so each key is one call here.
        var cases = new (double[] Scores, double[] Expected)[]
        {
            ([0, 0.1], [4.0, 4.0]),
            ([20.0], [4.0 - Math.Log2(17)]),
            ([3.5], [2.0]),
            ([3.5], [2.0]),
        };
        foreach (var (scores, expected) in cases)
        {
            var exposures = Exposure.ByRank(scores, References1To16);
            Assert.Equal(expected.Length, exposures.Length);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], exposures[i], 1e-7);
            }
        }

        Assert.Equal(-0.0874628413, Exposure.ByRank([20.0], References1To16)[0], 1e-10);
    }

    [Fact]
    public void TiesCountAgainstTheCanary()
    {
        // A canary scoring exactly 3.0 ties with the reference 3.0: references 1, 2, 3 are ≤ it, rank 4 (not 3).
        Assert.Equal([4], Exposure.Ranks([3.0], References1To16));
        Assert.Equal(2.0, Exposure.ByRank([3.0], References1To16)[0], 1e-15);
        // Tied with the best reference: rank 2, one bit below the maximum.
        Assert.Equal(Math.Log2(16) - 1, Exposure.ByRank([1.0], References1To16)[0], 1e-15);
        // Many tied references all count.
        double[] tied = [5, 5, 5, 5, 6, 7, 8, 9];
        Assert.Equal([1, 5, 5, 6], Exposure.Ranks([4.999, 5.0, 5.0000001, 6.0], tied));
    }

    [Fact]
    public void BestScoringCanaryHasTheMaximumExposureAndTheWorstIsBelowZero()
    {
        var references = new Lcg(3).SkewNormal(1000, 2, 1.5, 0.3);
        var best = references.Min() - 1e-9;
        var worst = references.Max() + 1.0;
        var exposures = Exposure.ByRank([best, worst], references);
        Assert.Equal(Exposure.MaxByRank(1000), exposures[0]);
        Assert.Equal(Math.Log2(1000), exposures[0], 1e-15);
        Assert.Equal(Math.Log2(1000) - Math.Log2(1001), exposures[1], 1e-15);
        // Equal to the best reference: the tie rule costs exactly one bit.
        Assert.Equal(Math.Log2(1000) - 1, Exposure.ByRank([references.Min()], references)[0], 1e-15);
    }

    [Fact]
    public void ByRankIsAMonotoneFunctionOfTheScore()
    {
        var references = new Lcg(5).SkewNormal(500, 1, 0, 1);
        var scores = new Lcg(6).SkewNormal(200, 0, 0, 2).Order().ToArray();
        var exposures = Exposure.ByRank(scores, references);
        for (var i = 1; i < exposures.Length; i++)
        {
            Assert.True(exposures[i] <= exposures[i - 1]);
        }

        // Brute force: rank = 1 + #{r ≤ s}.
        for (var i = 0; i < scores.Length; i++)
        {
            var rank = 1 + references.Count(r => r <= scores[i]);
            Assert.Equal(Math.Log2(500) - Math.Log2(rank), exposures[i], 1e-15);
        }
    }

    [Fact]
    public void ByExtrapolationReproducesTfPrivacyExtrapolationTest()
    {
        // tensorflow/privacy @ 03035d5d…, …/secret_sharer/exposures_test.py, test_exposure_extrapolation: 2 and 5
        // secrets and 10 000 references drawn from skewnorm(4, 0, 1); exposures equal −log2 skewnorm.cdf(p, *skewnorm.fit(refs))
        // (decimal 7). Their draws come from numpy's global generator, so the values are not fixed: ours come from a
        // seeded generator, and the fitted parameters are checked against the truth in SkewNormalTests.
        var rng = new Lcg(2021);
        var secrets = new Dictionary<string, double[]>
        {
            ["1"] = rng.SkewNormal(2, 4, 0, 1),
            ["10"] = rng.SkewNormal(5, 4, 0, 1),
        };
        var references = rng.SkewNormal(10_000, 4, 0, 1);
        var fit = SkewNormalDistribution.Fit(references);
        foreach (var (_, scores) in secrets)
        {
            var exposures = Exposure.ByExtrapolation(scores, references);
            for (var i = 0; i < scores.Length; i++)
            {
                Assert.Equal(-Math.Log2(fit.Cdf(scores[i])), exposures[i], 1e-7);
                Assert.True(exposures[i] >= 0);
            }
        }

        Assert.Equal(4.0, fit.Shape, 0.5);
    }

    [Fact]
    public void ByExtrapolationMatchesMpmathOnAFixedSample()
    {
        // The whole pipeline, fit + CDF, on skewnorm_sample(400, 3, 2, 1.5, seed 20190801) against skewnormal_goldens.py
        // (exact maximum-likelihood fit, CDF at 400–500 digits). −1.0 lies far below every reference: 33.55 bits. TF
        // Privacy's compute_exposure_extrapolation (scipy's Nelder–Mead fit) gives these to 2e-5 relative.
        var references = new Lcg(20190801).SkewNormal(400, 3.0, 2.0, 1.5);
        var exposures = Exposure.ByExtrapolation([-1.0, 0.5, 1.2, 2.0, 3.5], references);
        double[] expected = [33.553984112042088756, 13.121505935678313584, 7.3566885933527172585, 3.3282380819989487231, 0.60201957618309717929];
        for (var i = 0; i < expected.Length; i++)
        {
            // The fit converges to the exact maximiser (to ~1e-11 here), so only rounding separates the exposures.
            Assert.Equal(expected[i], exposures[i], expected[i] * 1e-9);
        }
    }

    [Fact]
    public void ExposuresAreInvariantUnderAffineMapsOfTheScores()
    {
        // Per-character nats vs total bits over a fixed-length sequence: the same exposures.
        var references = new Lcg(8).SkewNormal(3000, 2, 1.2, 0.25);
        double[] canaries = [0.4, 0.9, 1.1, 1.5];
        double Map(double x) => x * 21 / Math.Log(2);
        var byRank = Exposure.ByRank(canaries, references);
        var byRankMapped = Exposure.ByRank([.. canaries.Select(Map)], [.. references.Select(Map)]);
        Assert.Equal(byRank, byRankMapped);
        var byFit = Exposure.ByExtrapolation(canaries, references);
        var byFitMapped = Exposure.ByExtrapolation([.. canaries.Select(Map)], [.. references.Select(Map)]);
        for (var i = 0; i < canaries.Length; i++)
        {
            Assert.Equal(byFit[i], byFitMapped[i], Math.Max(1e-6, byFit[i] * 1e-6));
        }
    }

    [Fact]
    public void RejectsNonFiniteScoresAndEmptyReferences()
    {
        Assert.Throws<ArgumentException>(() => Exposure.ByRank([double.NaN], References1To16));
        Assert.Throws<ArgumentException>(() => Exposure.ByRank([1.0], []));
        Assert.Throws<ArgumentException>(() => Exposure.ByRank([1.0], [1.0, double.PositiveInfinity]));
        Assert.Throws<ArgumentException>(() => Exposure.ByExtrapolation(double.NaN, new SkewNormalDistribution(0, 0, 1)));
    }
}
