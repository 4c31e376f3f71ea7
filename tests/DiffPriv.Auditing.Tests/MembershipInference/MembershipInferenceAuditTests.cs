using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Tests.MembershipInference;

public sealed class MembershipInferenceAuditTests
{
    private static readonly AttackKind[] ThresholdAttacks = [AttackKind.LossThreshold, AttackKind.ConfidenceThreshold, AttackKind.EntropyThreshold];

    // Cross-entropy of softmax(logits) at the label.
    private static double CrossEntropy(double[] logits, int label)
    {
        var max = logits.Max();
        return max + Math.Log(logits.Sum(z => Math.Exp(z - max))) - logits[label];
    }

    // n examples with `classes` classes, labels i % classes, logits N(0, 1) plus `boost` on the label.
    private static (double[] Losses, double[][] Logits, int[] Labels) Examples(SplitMix64 rng, int n, int classes, double boost)
    {
        var labels = Enumerable.Range(0, n).Select(i => i % classes).ToArray();
        var logits = labels.Select(y => Enumerable.Range(0, classes).Select(k => rng.NextGaussian() + (k == y ? boost : 0)).ToArray()).ToArray();
        var losses = logits.Select((z, i) => CrossEntropy(z, labels[i])).ToArray();
        return (losses, logits, labels);
    }

    private static AttackInput Input(SplitMix64 rng, int members, int nonMembers, int classes, double memberBoost, double nonMemberBoost)
    {
        var m = Examples(rng, members, classes, memberBoost);
        var n = Examples(rng, nonMembers, classes, nonMemberBoost);
        return new AttackInput
        {
            MemberLosses = m.Losses,
            NonMemberLosses = n.Losses,
            MemberLogits = m.Logits,
            NonMemberLogits = n.Logits,
            MemberLabels = m.Labels,
            NonMemberLabels = n.Labels,
        };
    }

    [Fact]
    public void TfPrivacyThresholdAttackThroughTheAudit()
    {
        // TF Privacy (tensorflow/privacy @ 03035d5d4a271ac795dab80f5bc1cef82fc3d462) membership_inference_attack_test.py::
        // test_run_attack_threshold_calculates_correct_auc: AUC 0.83 (stated; exactly 5/6, and advantage 2/3 and PPV 1,
        // computed with that commit's code: see RocCurveTests).
        var input = new AttackInput { MemberLosses = [0.1, 0.2, 1.3, 0.4, 0.5, 0.6], NonMemberLosses = [1.1, 1.2, 1.3, 0.4, 1.5, 1.6] };
        var result = MembershipInferenceAudit.Run(input);
        var loss = result.Find(AttackKind.LossThreshold, SliceSpec.All)!;
        Assert.Equal(5.0 / 6, loss.Auc, 1e-15);
        Assert.Equal(2.0 / 3, loss.AttackerAdvantage, 1e-15);
        Assert.Equal(1.0, loss.Ppv);
        Assert.Equal([-0.1, -0.2, -1.3, -0.4, -0.5, -0.6], loss.MemberScores);

        // Only losses: no confidence/entropy attacks, no slices; the trained attacks run on the loss alone.
        Assert.Equal([AttackKind.LossThreshold, AttackKind.LogisticRegression, AttackKind.Mlp], result.Results.Select(r => r.Attack));
        Assert.All(result.Results, r => Assert.Equal(SliceSpec.All, r.Slice));
        Assert.Contains(result.Notes, n => n.Contains("no logits or probabilities", StringComparison.Ordinal));
        Assert.Contains(result.Notes, n => n.Contains("no labels", StringComparison.Ordinal));
    }

    [Fact]
    public void SlicesByClassAndCorrectness()
    {
        // TF Privacy membership_inference_attack_test.py::test_run_attack_data_size (same commit): 100 train / 80 test examples with
        // labels i % 5 give the class-2 slice 20 train and 16 test examples; by_class yields 1 + 5 slices.
        var input = Input(new SplitMix64(4), 100, 80, 5, memberBoost: 0.2, nonMemberBoost: 0.2);
        var result = MembershipInferenceAudit.Run(input, new AuditOptions { Attacks = ThresholdAttacks });
        Assert.Equal(["all", "class=0", "class=1", "class=2", "class=3", "class=4", "correct", "incorrect"], result.Results.Select(r => r.Slice.Name).Distinct());
        var class2 = result.Find(AttackKind.LossThreshold, SliceSpec.Class(2))!;
        Assert.Equal((20, 16), (class2.MemberCount, class2.NonMemberCount));
        Assert.All(class2.MemberIndices, i => Assert.Equal(2, input.MemberLabels![i]));

        // Correct and incorrect partition the examples, by argmax of the logits against the label.
        var correct = result.Find(AttackKind.LossThreshold, SliceSpec.CorrectlyClassified)!;
        var incorrect = result.Find(AttackKind.LossThreshold, SliceSpec.Misclassified)!;
        Assert.Equal(Enumerable.Range(0, 100), correct.MemberIndices.Concat(incorrect.MemberIndices).Order());
        Assert.Equal(Enumerable.Range(0, 80), correct.NonMemberIndices.Concat(incorrect.NonMemberIndices).Order());
        Assert.All(correct.MemberIndices, i => Assert.Equal(input.MemberLabels![i], Features.Argmax(input.MemberLogits![i])));
        Assert.All(incorrect.NonMemberIndices, i => Assert.NotEqual(input.NonMemberLabels![i], Features.Argmax(input.NonMemberLogits![i])));

        // With cross-entropy losses, confidence in the label is e^(−loss): the same ranking, so the same curve, and the
        // threshold attacks of a slice share the ε split, so the same bound too.
        var byLoss = result.Find(AttackKind.LossThreshold, SliceSpec.All)!;
        var byConfidence = result.Find(AttackKind.ConfidenceThreshold, SliceSpec.All)!;
        Assert.Equal(byLoss.Roc.Points.Select(p => (p.FalsePositives, p.TruePositives)), byConfidence.Roc.Points.Select(p => (p.FalsePositives, p.TruePositives)));
        Assert.Equal(byLoss.EpsilonLowerBound.Epsilon, byConfidence.EpsilonLowerBound.Epsilon);

        // A threshold attack's scores do not depend on the slice.
        var all = result.Find(AttackKind.ConfidenceThreshold, SliceSpec.All)!;
        var slice = result.Find(AttackKind.ConfidenceThreshold, SliceSpec.Class(3))!;
        Assert.All(slice.MemberIndices.Select((row, j) => (row, j)), t => Assert.Equal(all.MemberScores[t.row], slice.MemberScores[t.j]));
    }

    [Fact]
    public void SmallSlicesAreSkippedWithANote()
    {
        var input = Input(new SplitMix64(9), 40, 40, 5, 0, 0);
        var result = MembershipInferenceAudit.Run(input, new AuditOptions { Attacks = [AttackKind.LossThreshold], SliceByCorrectness = false });
        // 8 per class < 10: only "all" runs.
        Assert.Equal(["all"], result.Results.Select(r => r.Slice.Name));
        Assert.Contains(result.Notes, n => n.Contains("slice class=3 skipped: 8 members and 8 non-members", StringComparison.Ordinal));
    }

    [Fact]
    public void PerfectlySeparatedSetsAreFoundByEveryAttack()
    {
        // Members: logit 10 on the label (loss ≈ 1e-4); non-members: logit −10 on the label (loss ≈ 10).
        var input = Input(new SplitMix64(1), 200, 200, 4, memberBoost: 10, nonMemberBoost: -10);
        var result = MembershipInferenceAudit.Run(input, new AuditOptions { SliceByClass = false, SliceByCorrectness = false });
        Assert.Equal(AttackKinds.All, result.Results.Select(r => r.Attack));
        Assert.All(result.Results, r =>
        {
            Assert.Equal(1.0, r.Auc);
            Assert.Equal(1.0, r.AttackerAdvantage);
            Assert.Equal(1.0, r.TprAtTenthPercentFpr);
            // ≥ 100 members and 100 non-members in each evaluation set with no error: ε ≥ ln((1 − δ − u)/u) ≈ 3.28.
            Assert.True(r.EpsilonLowerBound.Epsilon > 3.2, $"{r.Attack.Name()}: ε ≥ {r.EpsilonLowerBound.Epsilon}");
        });
    }

    [Fact]
    public void NoSignalGivesChanceAucAndNoLargeEpsilon()
    {
        // Members and non-members from the same distribution: every attack's AUC is within 4 null standard errors of 0.5
        // and no valid bound can be large (the true ε is 0).
        var input = Input(new SplitMix64(2), 1000, 1000, 10, memberBoost: 1, nonMemberBoost: 1);
        var result = MembershipInferenceAudit.Run(input, new AuditOptions { SliceByClass = false, SliceByCorrectness = false });
        Assert.Equal(5, result.Results.Count);
        Assert.All(result.Results, r =>
        {
            Assert.InRange(r.Auc, 0.5 - (4 * r.Roc.NullAucStandardError), 0.5 + (4 * r.Roc.NullAucStandardError));
            Assert.True(r.EpsilonLowerBound.Epsilon < 0.5, $"{r.Attack.Name()}: ε ≥ {r.EpsilonLowerBound.Epsilon} on null data");
        });
        Assert.Equal(1 - (5 * 0.05), result.FamilyConfidence, 1e-12);
    }

    [Fact]
    public void TheMlpLearnsWhatLogisticRegressionCannot()
    {
        // Members' losses lie in a band [0.8, 1.2]; non-members' on both sides of it. No monotone function of the loss
        // separates them (threshold and logistic regression stay near chance); one hidden layer does.
        var rng = new SplitMix64(3);
        double[] members = [.. Enumerable.Range(0, 400).Select(_ => 0.8 + (0.4 * rng.NextDouble()))];
        double[] nonMembers = [.. Enumerable.Range(0, 400).Select(i => i % 2 == 0 ? 0.6 * rng.NextDouble() : 1.4 + (0.6 * rng.NextDouble()))];
        var result = MembershipInferenceAudit.Run(new AttackInput { MemberLosses = members, NonMemberLosses = nonMembers });
        Assert.InRange(result.Find(AttackKind.LossThreshold, SliceSpec.All)!.Auc, 0.4, 0.6);
        Assert.InRange(result.Find(AttackKind.LogisticRegression, SliceSpec.All)!.Auc, 0.4, 0.6);
        var mlp = result.Find(AttackKind.Mlp, SliceSpec.All)!;
        Assert.True(mlp.Auc > 0.95, $"MLP AUC {mlp.Auc}");
        Assert.True(mlp.EpsilonLowerBound.Epsilon > 1, $"MLP ε ≥ {mlp.EpsilonLowerBound.Epsilon}");
        Assert.Same(mlp, result.StrongestByAuc);
    }

    [Fact]
    public void TrainedAttackOnConstantLogitsScoresEveryExampleOutOfFold()
    {
        // TF Privacy membership_inference_attack_test.py::test_run_attack_trained_sets_membership_scores (same commit): 100 train
        // examples with logits [500, −500] and 50 test examples with logits [0, 0]; the logistic-regression attack scores
        // all 150, the train scores all equal (rtol 1e-3 there) and on the member side of the test scores.
        double[][] trainLogits = [.. Enumerable.Repeat(new double[] { 500, -500 }, 100)];
        double[][] testLogits = [.. Enumerable.Repeat(new double[] { 0, 0 }, 50)];
        var input = new AttackInput
        {
            MemberLosses = [.. trainLogits.Select(z => CrossEntropy(z, 0))],
            NonMemberLosses = [.. testLogits.Select(z => CrossEntropy(z, 0))],
            MemberLogits = trainLogits,
            NonMemberLogits = testLogits,
        };
        var lr = MembershipInferenceAudit.Run(input, new AuditOptions { Attacks = [AttackKind.LogisticRegression] }).Results.Single();
        Assert.Equal((100, 50), (lr.MemberScores.Count, lr.NonMemberScores.Count));
        Assert.All(lr.MemberScores, s => Assert.Equal(lr.MemberScores[0], s, 1e-9 * Math.Abs(lr.MemberScores[0])));
        Assert.All(lr.NonMemberScores, s => Assert.Equal(lr.NonMemberScores[0], s, 1e-9 * Math.Abs(lr.NonMemberScores[0])));
        Assert.True(lr.MemberScores[0] > lr.NonMemberScores[0]);
        Assert.Equal(1.0, lr.Auc);
    }

    [Fact]
    public void LogisticRegressionReachesTheRegularisedOptimum()
    {
        // Newton's method must end where the gradient of Σ log-loss + ½‖w‖² vanishes, also on separable data.
        var rng = new SplitMix64(8);
        var x = Enumerable.Range(0, 300).Select(_ => new[] { rng.NextGaussian(), rng.NextGaussian(), 3 * rng.NextGaussian() }).ToArray();
        foreach (var separable in new[] { false, true })
        {
            var y = x.Select(r => separable ? r[0] + r[1] > 0 : r[0] + r[1] + rng.NextGaussian() > 0).ToArray();
            var model = new LogisticRegressionModel();
            model.Fit(x, y);
            Assert.True(model.FinalGradient.Max(Math.Abs) < 1e-7, $"gradient {string.Join(", ", model.FinalGradient)}");
            Assert.True(model.Coefficients[0] > 0 && model.Coefficients[1] > 0);
        }
    }

    [Fact]
    public void SameSeedSameResultOtherSeedOtherSplits()
    {
        var input = Input(new SplitMix64(6), 120, 90, 3, memberBoost: 2, nonMemberBoost: 1);
        var options = new AuditOptions { SliceByClass = false, SliceByCorrectness = false, Seed = 5 };
        var a = MembershipInferenceAudit.Run(input, options);
        var b = MembershipInferenceAudit.Run(input, options);
        var c = MembershipInferenceAudit.Run(input, options with { Seed = 6 });
        for (var i = 0; i < a.Results.Count; i++)
        {
            Assert.Equal(a.Results[i].MemberScores, b.Results[i].MemberScores);
            Assert.Equal(a.Results[i].EpsilonLowerBound, b.Results[i].EpsilonLowerBound);
        }

        Assert.NotEqual(a.Find(AttackKind.Mlp, SliceSpec.All)!.MemberScores, c.Find(AttackKind.Mlp, SliceSpec.All)!.MemberScores);
        // Threshold-attack scores are the same whatever the seed; only the ε split changes.
        Assert.Equal(a.Find(AttackKind.EntropyThreshold, SliceSpec.All)!.MemberScores, c.Find(AttackKind.EntropyThreshold, SliceSpec.All)!.MemberScores);
    }

    [Fact]
    public void InvalidOptionsAndUnsupportedAttacksAreRejected()
    {
        var lossOnly = new AttackInput { MemberLosses = [1, 2], NonMemberLosses = [3, 4] };
        var error = Assert.Throws<ArgumentException>(() => MembershipInferenceAudit.Run(lossOnly, new AuditOptions { Attacks = [AttackKind.EntropyThreshold] }));
        Assert.Contains("entropy-threshold attack needs logits or probabilities", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MembershipInferenceAudit.Run(lossOnly, new AuditOptions { Delta = 1 }));
        Assert.Throws<ArgumentException>(() => MembershipInferenceAudit.Run(lossOnly, new AuditOptions { Confidence = 1 }));
        Assert.Throws<ArgumentException>(() => MembershipInferenceAudit.Run(lossOnly, new AuditOptions { Attacks = [] }));
        Assert.Throws<ArgumentException>(() => MembershipInferenceAudit.Run(lossOnly, new AuditOptions { Attacks = [AttackKind.Mlp, AttackKind.Mlp] }));
        Assert.Throws<ArgumentException>(() => MembershipInferenceAudit.Run(lossOnly, new AuditOptions { MinSliceExamples = 0 }));

        // One member per side: the threshold attack still runs; 2-fold cross-validation cannot, and says so.
        var tiny = MembershipInferenceAudit.Run(new AttackInput { MemberLosses = [1], NonMemberLosses = [2] });
        Assert.Equal([AttackKind.LossThreshold], tiny.Results.Select(r => r.Attack));
        Assert.Equal(0, tiny.Results[0].EpsilonLowerBound.Epsilon);
        Assert.Contains(tiny.Notes, n => n.Contains("logistic-regression on slice all skipped", StringComparison.Ordinal));
    }
}
