using DiffPriv.Auditing.MembershipInference;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DiffPriv.Auditing.Tests.MembershipInference;

/// <summary>
/// The ROC curve against scikit-learn's and TF Privacy's published values and a brute-force oracle. TF Privacy:
/// tensorflow/privacy @ 03035d5d4a271ac795dab80f5bc1cef82fc3d462, tensorflow_privacy/privacy/privacy_tests/. The
/// scikit-learn values are re-computed by reference_values.py in this folder (Debian 12's scikit-learn 1.2.1, where
/// the first threshold is max(score) + 1; from 1.3 on it is +∞, the convention used here).
/// </summary>
public sealed class RocCurveTests
{
    // sklearn convention: y_true/y_score → (member scores, non-member scores).
    private static RocCurve FromLabels(int[] yTrue, double[] yScore, int positive = 1) =>
        RocCurve.Compute(
            [.. yScore.Where((_, i) => yTrue[i] == positive)],
            [.. yScore.Where((_, i) => yTrue[i] != positive)]);

    private static void AssertSequence(double[] expected, IEnumerable<double> actual, double tolerance = 1e-12)
    {
        var a = actual.ToArray();
        Assert.True(expected.Length == a.Length, $"expected [{string.Join(", ", expected)}], got [{string.Join(", ", a)}]");
        for (var i = 0; i < a.Length; i++)
        {
            Assert.True(
                expected[i] == a[i] || Math.Abs(expected[i] - a[i]) <= tolerance,
                $"element {i}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", a)}]");
        }
    }

    [Fact]
    public void ScikitLearnDocstringExample()
    {
        // sklearn.metrics.roc_curve docstring (scikit-learn/scikit-learn @ 294090479a3d756f785fc9512a8457f30ccb0ab8,
        // sklearn/metrics/_ranking.py; thresholds[0] is +∞ since 1.3): y = [1, 1, 2, 2], scores = [0.1, 0.4, 0.35, 0.8],
        // pos_label = 2 → fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1], thresholds [inf, 0.8, 0.4, 0.35, 0.1].
        var roc = FromLabels([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], positive: 2);
        AssertSequence([0, 0, 0.5, 0.5, 1], roc.Points.Select(p => p.FalsePositiveRate));
        AssertSequence([0, 0.5, 0.5, 1, 1], roc.Points.Select(p => p.TruePositiveRate));
        AssertSequence([double.PositiveInfinity, 0.8, 0.4, 0.35, 0.1], roc.Points.Select(p => p.Threshold));
        // sklearn.metrics.roc_auc_score docstring's binary example has the same scores: 0.75.
        Assert.Equal(0.75, roc.Auc, 1e-15);
    }

    [Fact]
    public void ScikitLearnDropIntermediateTests()
    {
        // sklearn/metrics/tests/test_ranking.py::test_roc_curve_drop_intermediate as in scikit-learn ≥ 1.3
        // (thresholds[0] = inf, then the same thresholds as before 1.3).
        var roc = FromLabels([0, 0, 0, 0, 1, 1], [0.0, 0.2, 0.5, 0.6, 0.7, 1.0]);
        AssertSequence([double.PositiveInfinity, 1.0, 0.7, 0.0], roc.Points.Select(p => p.Threshold));

        roc = FromLabels(
            [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
            [0.0, 0.1, 0.6, 0.6, 0.7, 0.8, 0.9, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0]);
        AssertSequence([double.PositiveInfinity, 1.0, 0.9, 0.7, 0.6, 0.0], roc.Points.Select(p => p.Threshold));
    }

    [Fact]
    public void ScikitLearnToyData()
    {
        // sklearn/metrics/tests/test_ranking.py::test_roc_curve_toydata, binary cases (fpr, tpr, roc_auc_score).
        var roc = FromLabels([0, 1], [0, 1]);
        AssertSequence([0, 0, 1], roc.Points.Select(p => p.FalsePositiveRate));
        AssertSequence([0, 1, 1], roc.Points.Select(p => p.TruePositiveRate));
        Assert.Equal(1.0, roc.Auc);

        roc = FromLabels([0, 1], [1, 0]);
        AssertSequence([0, 1, 1], roc.Points.Select(p => p.FalsePositiveRate));
        AssertSequence([0, 0, 1], roc.Points.Select(p => p.TruePositiveRate));
        Assert.Equal(0.0, roc.Auc);

        roc = FromLabels([1, 0], [1, 1]);
        AssertSequence([0, 1], roc.Points.Select(p => p.FalsePositiveRate));
        AssertSequence([0, 1], roc.Points.Select(p => p.TruePositiveRate));
        Assert.Equal(0.5, roc.Auc);

        roc = FromLabels([1, 0], [1, 0]);
        AssertSequence([0, 0, 1], roc.Points.Select(p => p.FalsePositiveRate));
        AssertSequence([0, 1, 1], roc.Points.Select(p => p.TruePositiveRate));
        Assert.Equal(1.0, roc.Auc);

        roc = FromLabels([1, 0], [0.5, 0.5]);
        AssertSequence([0, 1], roc.Points.Select(p => p.FalsePositiveRate));
        AssertSequence([0, 1], roc.Points.Select(p => p.TruePositiveRate));
        Assert.Equal(0.5, roc.Auc);
    }

    [Fact]
    public void TfPrivacyThresholdAttackVector()
    {
        // TF Privacy membership_inference_attack/membership_inference_attack_test.py::
        // test_run_attack_threshold_calculates_correct_auc: the threshold attack scores −loss; AUC 0.83 (decimal 2,
        // stated). Full curve, advantage and PPV computed with that commit's _run_attack(THRESHOLD_ATTACK) and
        // scikit-learn 1.2.1 (reference_values.py): exact AUC 5/6, advantage 2/3, PPV 1.
        double[] lossTrain = [0.1, 0.2, 1.3, 0.4, 0.5, 0.6];
        double[] lossTest = [1.1, 1.2, 1.3, 0.4, 1.5, 1.6];
        var roc = RocCurve.Compute([.. lossTrain.Select(l => -l)], [.. lossTest.Select(l => -l)]);
        Assert.Equal(0.83, roc.Auc, 0.005);
        Assert.Equal(5.0 / 6, roc.Auc, 1e-15);
        AssertSequence([0, 1.0 / 6, 1.0 / 3, 1.0 / 2, 5.0 / 6, 5.0 / 6, 1, 1], roc.Points.Select(p => p.TruePositiveRate));
        AssertSequence([0, 0, 0, 1.0 / 6, 1.0 / 6, 1.0 / 2, 2.0 / 3, 1], roc.Points.Select(p => p.FalsePositiveRate));
        AssertSequence([double.NegativeInfinity, 0.1, 0.2, 0.4, 0.6, 1.2, 1.3, 1.6], roc.Points.Select(p => -p.Threshold));
        Assert.Equal(2.0 / 3, roc.AttackerAdvantage, 1e-15);
        Assert.Equal(1.0, roc.Ppv);

        // TF Privacy's test_calculates_correct_tpr_fpr property (same file): every point's TPR/FPR is the
        // fraction of train/test losses ≤ its threshold.
        foreach (var p in roc.Points.Skip(1))
        {
            Assert.Equal(lossTrain.Count(l => l <= -p.Threshold) / 6.0, p.TruePositiveRate, 1e-15);
            Assert.Equal(lossTest.Count(l => l <= -p.Threshold) / 6.0, p.FalsePositiveRate, 1e-15);
        }
    }

    [Fact]
    public void TfPrivacyRandomClassifierCurve()
    {
        // TF Privacy membership_inference_attack/data_structures_test.py RocCurveTest (stated): the curve tpr = fpr = [0, 0.5, 1] has AUC 0.5, advantage 0 and
        // PPV 0.5 (test_train_ratio 1). Scores realising it: one tie at each of two levels.
        var roc = RocCurve.Compute([1.0, 0.0], [1.0, 0.0]);
        AssertSequence([0, 0.5, 1], roc.Points.Select(p => p.TruePositiveRate));
        AssertSequence([0, 0.5, 1], roc.Points.Select(p => p.FalsePositiveRate));
        Assert.Equal(0.5, roc.Auc);
        Assert.Equal(0.0, roc.AttackerAdvantage);
        Assert.Equal(0.5, roc.Ppv);
    }

    [Fact]
    public void TprAtLowFprUsesEveryThreshold()
    {
        // Members i = 0..9 scored 100 + i; 1000 non-members scored below 10, except three that tie the members at 109,
        // 108 and 107. The curve then takes three equal diagonal steps (1, 1) → (2, 2) → (3, 3), and drop_intermediate
        // drops the middle one; the low-FPR metric must still see it.
        var members = Enumerable.Range(0, 10).Select(i => 100.0 + i).ToList();
        var nonMembers = Enumerable.Range(0, 997).Select(i => i / 100.0).Concat([109, 108, 107]).ToList();
        var roc = RocCurve.Compute(members, nonMembers);
        Assert.DoesNotContain(roc.Points, p => p.FalsePositives == 2);
        Assert.Contains(roc.AllPoints, p => p.FalsePositives == 2 && p.TruePositives == 2);
        Assert.Equal(0.2, roc.TprAtFpr(0.002), 1e-15);   // FP ≤ 2
        Assert.Equal(0.1, roc.TprAtFpr(0.001), 1e-15);   // FP ≤ 1
        Assert.Equal(1.0, roc.TprAtFpr(0.01));           // FP ≤ 10
        Assert.Equal(0.0, roc.TprAtFpr(0));
    }

    [Fact]
    public void RejectsEmptyOrNaN()
    {
        Assert.Throws<ArgumentException>(() => RocCurve.Compute([], [1.0]));
        Assert.Throws<ArgumentException>(() => RocCurve.Compute([1.0], []));
        Assert.Throws<ArgumentException>(() => RocCurve.Compute([double.NaN], [1.0]));
    }

    // ---- brute-force oracle -------------------------------------------------------------------------------------

    private static (int Fp, int Tp, double Threshold)[] BruteForceCounts(double[] members, double[] nonMembers) =>
        [.. members.Concat(nonMembers).Distinct().OrderDescending()
            .Select(t => (nonMembers.Count(s => s >= t), members.Count(s => s >= t), t))];

    private static double MannWhitneyAuc(double[] members, double[] nonMembers)
    {
        var wins = 0.0;
        foreach (var m in members)
        {
            foreach (var n in nonMembers)
            {
                wins += m > n ? 1 : m == n ? 0.5 : 0;
            }
        }

        return wins / (members.Length * (double)nonMembers.Length);
    }

    internal static bool MatchesBruteForce(double[] members, double[] nonMembers)
    {
        var roc = RocCurve.Compute(members, nonMembers);
        var counts = BruteForceCounts(members, nonMembers);

        // Every distinct threshold, after the (+inf, 0, 0) point.
        var all = roc.AllPoints;
        if (all.Count != counts.Length + 1 || all[0].FalsePositives != 0 || all[0].TruePositives != 0 || !double.IsPositiveInfinity(all[0].Threshold))
        {
            return false;
        }

        for (var k = 0; k < counts.Length; k++)
        {
            if (all[k + 1].FalsePositives != counts[k].Fp || all[k + 1].TruePositives != counts[k].Tp || all[k + 1].Threshold != counts[k].Threshold)
            {
                return false;
            }
        }

        // drop_intermediate: keep k when it is an end or a second difference of fp or tp is nonzero.
        var keep = Enumerable.Range(0, counts.Length).Where(k =>
            counts.Length <= 2 || k == 0 || k == counts.Length - 1
            || counts[k + 1].Fp - counts[k].Fp != counts[k].Fp - counts[k - 1].Fp
            || counts[k + 1].Tp - counts[k].Tp != counts[k].Tp - counts[k - 1].Tp).ToArray();
        if (roc.Points.Count != keep.Length + 1 || !keep.Select((k, i) => roc.Points[i + 1].Threshold == counts[k].Threshold).All(x => x))
        {
            return false;
        }

        var m = (double)members.Length;
        var n = (double)nonMembers.Length;
        var advantage = counts.Max(c => Math.Abs((c.Tp / m) - (c.Fp / n)));
        var precisions = counts.Where(c => c.Tp + c.Fp > 0).Select(c => c.Tp / (double)(c.Tp + c.Fp));
        double TprAt(double maxFpr) => counts.Where(c => c.Fp / n <= maxFpr).Select(c => c.Tp / m).DefaultIfEmpty(0).Max();
        return Math.Abs(roc.Auc - MannWhitneyAuc(members, nonMembers)) < 1e-12
            && Math.Abs(roc.AttackerAdvantage - advantage) < 1e-15
            && roc.Ppv == precisions.Max()
            && new[] { 0.0, 0.001, 0.01, 0.1, 0.5 }.All(f => roc.TprAtFpr(f) == TprAt(f));
    }

    [Property(MaxTest = 300)]
    public Property MatchesBruteForceWithHeavyTies()
    {
        // Scores from a handful of values: most thresholds are ties between members and non-members.
        var scores = Gen.Choose(0, 4).Select(v => v / 2.0).NonEmptyListOf().Select(l => l.ToArray());
        return Prop.ForAll(scores.ToArbitrary(), scores.ToArbitrary(), (members, nonMembers) => MatchesBruteForce(members, nonMembers));
    }

    [Property(MaxTest = 200)]
    public Property MatchesBruteForceWithContinuousScores()
    {
        var scores = Gen.Choose(-1000, 1000).Select(v => v / 7.0).NonEmptyListOf().Select(l => l.ToArray());
        return Prop.ForAll(scores.ToArbitrary(), scores.ToArbitrary(), (members, nonMembers) => MatchesBruteForce(members, nonMembers));
    }

    [Fact]
    public void MatchesBruteForceOnLargerSeededSamples()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var rng = new SplitMix64((ulong)seed);
            var members = Enumerable.Range(0, 150 + (seed * 7)).Select(_ => Math.Round(rng.NextGaussian() + 0.3, seed % 3)).ToArray();
            var nonMembers = Enumerable.Range(0, 90 + (seed * 11)).Select(_ => Math.Round(rng.NextGaussian(), seed % 3)).ToArray();
            Assert.True(MatchesBruteForce(members, nonMembers), $"seed {seed}");
        }
    }

    [Fact]
    public void NullStandardErrorMatchesMannWhitneyVariance()
    {
        // Var(U) = m·n·(m + n + 1)/12 under H0 without ties; the AUC is U/(m·n).
        var roc = RocCurve.Compute([.. Enumerable.Range(0, 60).Select(i => (double)i)], [.. Enumerable.Range(0, 40).Select(i => i + 0.5)]);
        Assert.Equal(Math.Sqrt(60.0 * 40 * 101 / 12) / (60.0 * 40), roc.NullAucStandardError, 1e-15);
    }
}
