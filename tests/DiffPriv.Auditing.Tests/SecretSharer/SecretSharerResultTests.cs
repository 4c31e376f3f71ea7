using DiffPriv.Auditing.SecretSharer;

namespace DiffPriv.Auditing.Tests.SecretSharer;

public sealed class SecretSharerResultTests
{
    [Fact]
    public void ComputesEveryCanaryAndTheMeansPerRepetitionCount()
    {
        var plan = CanaryPlan.Create(
            new CanaryPlanOptions { Format = "pin {d}{d}{d}{d}", Repetitions = [1, 4, 16], CanariesPerRepetition = 3, References = 1000 },
            seed: 12);
        var references = new Lcg(1).SkewNormal(1000, 3, 1.0, 0.4);

        // Canaries memorised more with more repetitions: r = 16 below every reference, r = 1 among them.
        double[] canaryScores = [1.3, 1.5, 1.2, 0.9, 1.0, 0.95, 0.2, 0.1, 0.3];
        var result = SecretSharerResult.Compute(plan, canaryScores, references);

        Assert.Equal(1000, result.ReferenceCount);
        Assert.Equal(Math.Log2(1000), result.MaxExposureByRank, 1e-15);
        Assert.Equal(Math.Log2(1e4), result.FormatSpaceBits, 1e-12);
        Assert.Equal(references.Average(), result.MeanReferenceScore, 1e-12);
        Assert.Equal(9, result.Canaries.Count);
        var fit = SkewNormalDistribution.Fit(references);
        var byRank = Exposure.ByRank(canaryScores, references);
        for (var i = 0; i < 9; i++)
        {
            var c = result.Canaries[i];
            Assert.Equal(plan.Canaries[i].Secret, c.Secret);
            Assert.Equal(plan.Canaries[i].Repetitions, c.Repetitions);
            Assert.Equal(canaryScores[i], c.Score);
            Assert.Equal(1 + references.Count(r => r <= canaryScores[i]), c.Rank);
            Assert.Equal(byRank[i], c.ExposureByRank);
            Assert.Equal(Exposure.ByExtrapolation(canaryScores[i], fit), c.ExposureByExtrapolation, 1e-9);
        }

        Assert.Equal([1, 4, 16], result.ByRepetition.Select(r => r.Repetitions));
        for (var k = 0; k < 3; k++)
        {
            var group = result.Canaries.Skip(3 * k).Take(3).ToArray();
            var r = result.ByRepetition[k];
            Assert.Equal(3, r.Canaries);
            Assert.Equal(group.Average(c => c.ExposureByRank), r.MeanExposureByRank, 1e-15);
            Assert.Equal(group.Average(c => c.ExposureByExtrapolation), r.MeanExposureByExtrapolation, 1e-15);
            Assert.Equal(group.Average(c => c.Score), r.MeanScore, 1e-15);
        }

        // r = 16 canaries beat every reference: the maximum by rank, and more than that by extrapolation.
        Assert.Equal(result.MaxExposureByRank, result.ByRepetition[2].MeanExposureByRank, 1e-15);
        Assert.True(result.ByRepetition[2].MeanExposureByExtrapolation > result.MaxExposureByRank);
        Assert.True(result.ByRepetition[0].MeanExposureByRank < result.ByRepetition[1].MeanExposureByRank);
    }

    [Fact]
    public void ExchangeableCanariesHaveExposureNearChance()
    {
        // A model that did not memorise: canary scores from the references' own distribution. Mean exposure by rank
        // and by extrapolation ≈ log2 e ≈ 1.44 bits (−log2 of a uniform variable); 600 canaries give a standard error
        // of log2(e)/√600 ≈ 0.06.
        var plan = CanaryPlan.Create(
            new CanaryPlanOptions { Format = "{l}{l}{l}{l}{l}", Repetitions = [1], CanariesPerRepetition = 600, References = 4000 },
            seed: 3);
        var rng = new Lcg(99);
        var references = rng.SkewNormal(4000, 2, 1.0, 0.5);
        var canaries = rng.SkewNormal(600, 2, 1.0, 0.5);
        var result = SecretSharerResult.Compute(plan, canaries, references);
        Assert.InRange(result.ByRepetition[0].MeanExposureByRank, 1.44 - 0.25, 1.44 + 0.25);
        Assert.InRange(result.ByRepetition[0].MeanExposureByExtrapolation, 1.44 - 0.25, 1.44 + 0.25);
    }

    [Fact]
    public void RejectsScoreCountsThatDoNotMatchThePlan()
    {
        var plan = CanaryPlan.Create(
            new CanaryPlanOptions { Format = "{d}{d}{d}", Repetitions = [1], CanariesPerRepetition = 2, References = 10 }, seed: 0);
        var references = Enumerable.Range(0, 10).Select(i => (double)i).ToArray();
        Assert.Throws<ArgumentException>(() => SecretSharerResult.Compute(plan, [1.0], references));
        Assert.Throws<ArgumentException>(() => SecretSharerResult.Compute(plan, [1.0, 2.0], references[..9]));
    }
}
