using DiffPriv.Auditing.Lira;
using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Tests.Lira;

/// <summary>LiRA's maths: the confidence φ, the two scores by hand, leave-one-out fits, and its power and null on
/// synthetic confidences with a known answer.</summary>
public sealed class LiraAttackTests
{
    [Fact]
    public void LogitConfidenceIsTheLogOddsOfTheTrueClass()
    {
        // Logits (2, 0, 0), label 0: p = e²/(e² + 2), so log(p/(1 − p)) = 2 − ln 2.
        Assert.Equal(2 - Math.Log(2), LiraAttack.LogitConfidence([2, 0, 0], 0), 1e-14);

        // Label 1: p = 1/(e² + 2), 1 − p = (e² + 1)/(e² + 2), so φ = −ln(e² + 1).
        Assert.Equal(-Math.Log(Math.Exp(2) + 1), LiraAttack.LogitConfidence([2, 0, 0], 1), 1e-14);

        // Where p rounds to 1 in double, the naive log(p/(1 − p)) is +∞; the log-odds are exactly 1000 − 0.
        Assert.Equal(1000, LiraAttack.LogitConfidence([1000, 0], 0), 1e-12);
        Assert.Equal(-1000, LiraAttack.LogitConfidence([1000, 0], 1), 1e-12);
    }

    [Theory]
    [InlineData(new double[] { 1 }, 0)]
    [InlineData(new double[] { 1, 2 }, 2)]
    [InlineData(new double[] { 1, double.NaN }, 0)]
    public void LogitConfidenceRejectsBadInput(double[] logits, int label) =>
        Assert.Throws<ArgumentException>(() => LiraAttack.LogitConfidence(logits, label));

    [Fact]
    public void OnlineScoreIsTheGaussianLogLikelihoodRatio()
    {
        // φ = 1, in N(1, 1), out N(0, 2²): log N(1; 1, 1) − log N(1; 0, 4) = (−0 − ln 1) − (−1/8 − ln 2) = ln 2 + 1/8.
        Assert.Equal(Math.Log(2) + 0.125, LiraAttack.OnlineScore(1, 1, 1, 0, 2), 1e-14);

        // Equal Gaussians: ratio 1, score 0, whatever φ.
        Assert.Equal(0, LiraAttack.OnlineScore(7.5, 2, 3, 2, 3), 1e-14);

        // A zero spread is floored, not divided by: the score stays finite and says "in" at the in mean.
        Assert.True(LiraAttack.OnlineScore(1, 1, 0, 0, 1) is > 0 and < double.PositiveInfinity);
    }

    [Fact]
    public void OfflineScoreIsTheOutZScore()
    {
        Assert.Equal(1, LiraAttack.OfflineScore(3, 1, 2), 1e-15);
        Assert.Equal(-0.5, LiraAttack.OfflineScore(0, 1, 2), 1e-15);
    }

    [Fact]
    public void LeaveOneOutScoresMatchAHandComputation()
    {
        // Example 0 is in models 0 and 1, example 1 in models 2 and 3. With model 0 as the target:
        //  example 0 (member): in = {φ₁ = 2} (mean 2, no spread), out = {0, 2} (mean 1, sum of squares 2);
        //  example 1 (non-member): in = {4, 2} (mean 3, sum of squares 2), out = {φ₁ = 2} (mean 2).
        //  Pooled: σ_in² = (0 + 2)/(0 + 1) = 2, σ_out² = (2 + 0)/(1 + 0) = 2 (model 0's own φ never enters).
        //  Example 0, φ = 3: online ½((3 − 1)²/2 − (3 − 2)²/2) = 0.75, offline (3 − 1)/√2 = √2.
        //  Example 1, φ = 0: online ½((0 − 2)²/2 − (0 − 3)²/2) = −1.25, offline (0 − 2)/√2 = −√2.
        var input = new LiraInput
        {
            Confidences = [[3, 0], [2, 2], [0, 4], [2, 2]],
            Included = [[true, false], [true, false], [false, true], [false, true]],
        };
        var result = LiraAttack.Run(input);
        Assert.Equal(4, result.Models);
        Assert.Equal(2, result.Examples);

        // Target 0 is scored first: its one member and one non-member head their lists.
        Assert.Equal(0.75, result.Online.MemberScores[0], 1e-14);
        Assert.Equal(-1.25, result.Online.NonMemberScores[0], 1e-14);
        Assert.Equal(Math.Sqrt(2), result.Offline.MemberScores[0], 1e-14);
        Assert.Equal(-Math.Sqrt(2), result.Offline.NonMemberScores[0], 1e-14);

        // Per-example spreads: example 0's in side has one value, so it falls back to the global √2; its out side is
        // {0, 2}, standard deviation √2 as well; so here both variants agree.
        Assert.Equal(0.75, result.Get(LiraMode.Online, LiraVariance.PerExample).MemberScores[0], 1e-14);
        Assert.Equal(4, result.Online.MemberScores.Count); // K·N / 2 pairs on each side
        Assert.Equal(4, result.Online.NonMemberScores.Count);
    }

    [Fact]
    public void WellSeparatedConfidencesGiveAnAucNearOneAndIdenticalOnesNearHalf()
    {
        // In and out Gaussians of spread 1, means 3 apart: the best possible test has AUC Φ(3/√2) = 0.983 and TPR 0.75
        // at 1% FPR (Φ(3 − 2.326)); LiRA estimates means and spreads from 7–8 shadow models per side, so it gets close.
        var separated = LiraAttack.Run(Synthetic(models: 16, examples: 400, inShift: 3, inSpread: 1, seed: 1));
        foreach (var attack in separated.Attacks)
        {
            Assert.InRange(attack.Auc, 0.95, 0.988);
        }

        Assert.InRange(separated.Online.TprAtOnePercentFpr, 0.6, 0.78);

        // With this few shadow models, per-example spreads are noisy and the global one finds more at low FPR (the
        // paper's reason for the fixed variance below 64 shadow models).
        Assert.True(
            separated.Online.TprAtOnePercentFpr > separated.Get(LiraMode.Online, LiraVariance.PerExample).TprAtOnePercentFpr + 0.1,
            "the global variance should beat per-example variances with 16 models");

        // No membership signal: 3200 against 3200 pairs, null AUC standard error ≈ 0.007 (pairs share models and
        // examples, so allow more than 3 of them).
        var identical = LiraAttack.Run(Synthetic(models: 16, examples: 400, inShift: 0, inSpread: 1, seed: 2));
        foreach (var attack in identical.Attacks)
        {
            Assert.InRange(attack.Auc, 0.47, 0.53);
            Assert.True(attack.TprAtTenthPercentFpr < 0.01, $"{attack.Name}: TPR at 0.1% {attack.TprAtTenthPercentFpr}");
        }
    }

    [Fact]
    public void OnlyTheOnlineTestSeesAnInDistributionThatDiffersInSpreadAlone()
    {
        // Training on an example pins its confidence (spread 0.2 instead of 1) without moving its mean: the
        // likelihood ratio sees it, the one-sided offline test cannot (it only asks whether φ is high).
        var result = LiraAttack.Run(Synthetic(models: 16, examples: 400, inShift: 0, inSpread: 0.2, seed: 3));
        Assert.True(result.Online.Auc > 0.7, $"online AUC {result.Online.Auc}");
        Assert.InRange(result.Offline.Auc, 0.46, 0.54);
    }

    [Fact]
    public void TheIntervalIsClopperPearsonOfTheTruePositivesAtTheTenthPercentPoint()
    {
        var result = LiraAttack.Run(Synthetic(models: 8, examples: 500, inShift: 1.5, inSpread: 1, seed: 4));
        var online = result.Online;
        Assert.Equal(online.TprAtTenthPercentFpr, online.TruePositivesAtTenthPercentFpr / (double)online.MemberScores.Count, 1e-15);
        var (lower, upper) = ClopperPearson.Interval(online.TruePositivesAtTenthPercentFpr, online.MemberScores.Count);
        Assert.Equal(lower, online.TprAtTenthPercentFprInterval.Lower);
        Assert.Equal(upper, online.TprAtTenthPercentFprInterval.Upper);
        Assert.InRange(online.TprAtTenthPercentFpr, lower, upper);
    }

    [Fact]
    public void BalancedInclusionPutsEveryExampleInHalfTheModels()
    {
        var included = LiraAttack.BalancedInclusion(16, 1000, seed: 7);
        Assert.Equal(16, included.Length);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(8, included.Count(model => model[i]));
        }

        // Each model gets about half the pool (Binomial-like spread ≈ 16 around 500).
        Assert.All(included, model => Assert.InRange(model.Count(x => x), 420, 580));

        // Seeded: the same seed gives the same design, another seed another.
        Assert.Equal(included, LiraAttack.BalancedInclusion(16, 1000, seed: 7));
        Assert.NotEqual(included, LiraAttack.BalancedInclusion(16, 1000, seed: 8));
    }

    [Fact]
    public void InputWithTooFewModelsOnASideIsRejected()
    {
        var input = new LiraInput
        {
            Confidences = [[0.0], [1.0], [2.0], [3.0]],
            Included = [[true], [false], [false], [false]], // in one model only
        };
        Assert.Contains("in at least 2 models", Assert.Throws<ArgumentException>(() => LiraAttack.Run(input)).Message, StringComparison.Ordinal);
        var ragged = new LiraInput { Confidences = [[0.0, 1], [1.0]], Included = [[true], [false]] };
        Assert.Throws<ArgumentException>(() => LiraAttack.Run(ragged));
    }

    // K models, N examples balanced in half of them; φ = the example's own level (spread 2 across examples) + the
    // model's noise (spread 1 out, inSpread in) + inShift when the model trained on it.
    private static LiraInput Synthetic(int models, int examples, double inShift, double inSpread, int seed)
    {
        var rng = new Random(seed);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var included = LiraAttack.BalancedInclusion(models, examples, (ulong)seed);
        var level = Enumerable.Range(0, examples).Select(_ => 2 * Gaussian()).ToArray();
        var confidences = new double[models][];
        for (var k = 0; k < models; k++)
        {
            confidences[k] = new double[examples];
            for (var i = 0; i < examples; i++)
            {
                confidences[k][i] = level[i] + (included[k][i] ? inShift + (inSpread * Gaussian()) : Gaussian());
            }
        }

        return new LiraInput { Confidences = confidences, Included = included };
    }
}
