using DiffPriv.Auditing.OneRun;

namespace DiffPriv.Auditing.Tests.OneRun;

/// <summary>The guessing of the one-run audit, and the bound's validity and power on randomized response.</summary>
public sealed class OneRunAuditTests
{
    [Fact]
    public void TwoSidedGuessesTopHalfInAndBottomHalfOut()
    {
        // Order by score: c3 (0.9), c0 (0.8), c5 (0.5), c1 (0.1), c4 (0.0), c2 (−1).
        double[] scores = [0.8, 0.1, -1, 0.9, 0.0, 0.5];
        bool[] included = [true, false, false, false, true, true];
        var result = OneRunAudit.Run(scores, included, new OneRunAuditOptions { GuessCounts = [2, 4, 6] });

        // k = 2: c3 guessed in (wrong), c2 guessed out (right) → 1. k = 4: + c0 in (right), c4 out (wrong) → 2.
        // k = 6: + c5 in (right), c1 out (right) → 4.
        Assert.Equal([1, 2, 4], result.Candidates.Select(c => c.CorrectGuesses));
        Assert.Equal(1 - (0.05 / 3), result.CorrectedConfidence, 1e-15);

        var included1 = OneRunAudit.Run(scores, included, new OneRunAuditOptions { GuessCounts = [1, 3], Guessing = OneRunGuessing.IncludedOnly });
        Assert.Equal([0, 2], included1.Candidates.Select(c => c.CorrectGuesses));
    }

    [Fact]
    public void TiesAreBrokenByIndexNotByInclusion()
    {
        double[] scores = [1, 1, 1, 1];
        var a = OneRunAudit.Run(scores, [true, false, true, false], new OneRunAuditOptions { GuessCounts = [2], Guessing = OneRunGuessing.IncludedOnly });
        var b = OneRunAudit.Run(scores, [false, true, true, false], new OneRunAuditOptions { GuessCounts = [2], Guessing = OneRunGuessing.IncludedOnly });
        Assert.Equal(1, a.CorrectGuesses); // canaries 0 and 1 are guessed in both cases
        Assert.Equal(1, b.CorrectGuesses);
    }

    [Fact]
    public void PerfectSeparationReachesTheCertifiableMaximum()
    {
        // Exactly 500 included, so the two-sided guess of all 1000 can be right everywhere.
        var rng = new Random(7);
        var included = Enumerable.Range(0, 1000).Select(i => i % 2 == 0).OrderBy(_ => rng.Next()).ToArray();
        var scores = included.Select(i => i ? 10 + rng.NextDouble() : rng.NextDouble()).ToArray();
        var result = OneRunAudit.Run(scores, included);
        Assert.Equal(1000, result.Guesses);
        Assert.Equal(1000, result.CorrectGuesses);
        Assert.Equal(result.MaxCertifiable, result.EpsilonLowerBound, 1e-12);

        // The default grid is corrected for its 7 guess counts, so the maximum is below the single-k maximum of 5.78.
        Assert.Equal(OneRunEpsilon.LowerBound(1000, 1000, 1000, 1e-5, 1 - (0.05 / 7)), result.MaxCertifiable, 1e-12);
        Assert.True(result.MaxCertifiable < OneRunEpsilon.MaxCertifiable(1000, 1e-5, 0.95));
    }

    [Fact]
    public void DefaultGuessCountsSpanFewToAll()
    {
        Assert.Equal([10, 20, 50, 100, 200, 500, 1000], OneRunAuditOptions.DefaultGuessCounts(1000));
        Assert.Equal([1, 2, 4, 10, 20], OneRunAuditOptions.DefaultGuessCounts(20));
        Assert.Equal([1], OneRunAuditOptions.DefaultGuessCounts(1));
    }

    // Randomized response with ε is exactly ε-DP per canary: each canary's score reports its inclusion truthfully with
    // probability e^ε/(1 + e^ε). Seeded: 100 audits of 1000 canaries each.
    [Theory]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void RandomizedResponseBoundIsValidAndNearTheTruth(double epsilon)
    {
        var rng = new Random(20231);
        var truth = Math.Exp(epsilon) / (1 + Math.Exp(epsilon));
        var bounds = new List<double>();
        for (var trial = 0; trial < 100; trial++)
        {
            var included = Enumerable.Range(0, 1000).Select(_ => rng.Next(2) == 1).ToArray();
            var scores = included.Select(i => ((rng.NextDouble() < truth) == i ? 1.0 : 0.0) + (0.001 * rng.NextDouble())).ToArray();
            bounds.Add(OneRunAudit.Run(scores, included, new OneRunAuditOptions { Delta = 0 }).EpsilonLowerBound);
        }

        // Validity: a 95% bound may exceed the true ε in at most 5% of runs (expected 5 of 100; 12 or more has
        // probability < 0.5% under Binomial(100, 0.05)).
        Assert.True(bounds.Count(b => b > epsilon) < 12, $"{bounds.Count(b => b > epsilon)} of 100 bounds exceed ε = {epsilon}");

        // Power: with every canary guessed the audit is nearly tight for randomized response (accuracy exactly q).
        var mean = bounds.Average();
        Assert.InRange(mean, epsilon - (epsilon < 2 ? 0.35 : 0.8), epsilon);
    }

    [Fact]
    public void RejectsBadInput()
    {
        Assert.Throws<ArgumentException>(() => OneRunAudit.Run([1.0, 2.0], [true]));
        Assert.Throws<ArgumentException>(() => OneRunAudit.Run([], []));
        Assert.Throws<ArgumentException>(() => OneRunAudit.Run([double.NaN], [true]));
        Assert.Throws<ArgumentException>(() => OneRunAudit.Run([1.0, 2.0], [true, false], new OneRunAuditOptions { GuessCounts = [3] }));
        Assert.Throws<ArgumentException>(() => OneRunAudit.Run([1.0, 2.0], [true, false], new OneRunAuditOptions { GuessCounts = [1, 1] }));
        Assert.Throws<ArgumentException>(() => OneRunAudit.Run([1.0, 2.0], [true, false], new OneRunAuditOptions { Confidence = 1 }));
    }
}
