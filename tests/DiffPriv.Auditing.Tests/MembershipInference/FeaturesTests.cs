using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Tests.MembershipInference;

public sealed class FeaturesTests
{
    // TF Privacy (tensorflow/privacy @ 03035d5d4a271ac795dab80f5bc1cef82fc3d462) membership_inference_attack/
    // data_structures_test.py::test_get_xe_loss_from_logits inputs; the entropies computed with that commit's
    // AttackInputData.get_entropy_train/test on these logits (reference_values.py).
    public static TheoryData<double[], int, double, double> EntropyCases => new()
    {
        { [-0.3, 1.5, 0.2], 1, 0.1644519368, 0.8164777102 },
        { [2, 3, 0.5], 0, 1.8338596368, 0.7667845441 },
        { [2, 0.3, 0.2], 0, 0.1128649762, 0.749727603 },
        { [0.3, -0.5, 0.2], 2, 0.86399717, 1.0473146023 },
    };

    [Theory]
    [MemberData(nameof(EntropyCases))]
    public void EntropiesMatchTfPrivacy(double[] logits, int label, double modified, double shannon)
    {
        var p = Features.Softmax(logits);
        Assert.Equal(modified, Features.Entropy(p, label), 1e-8);
        Assert.Equal(shannon, Features.Entropy(p, null), 1e-8);
    }

    [Fact]
    public void EntropyOfOneHotProbabilitiesClipsLogsLikeTfPrivacy()
    {
        // TF Privacy data_structures_test.py::test_get_entropy (same commit): probabilities [[0, 1, 0], [0, 0, 1]] with labels [0, 2]
        // → [2·(−ln 1e-30), 0] = [2·69.07755279, 0]; without labels → [0, 0].
        Assert.Equal(2 * 69.07755279, Features.Entropy([0, 1, 0], 0), 1e-7);
        Assert.Equal(0, Features.Entropy([0, 0, 1], 2));
        Assert.Equal(0, Features.Entropy([0, 1, 0], null));
        Assert.Equal(0, Features.Entropy([1, 0, 0], 0));
    }

    [Fact]
    public void SoftmaxConfidenceArgmaxAndTrainedFeatures()
    {
        // Softmax is stable for huge logits and matches −ln p_y = cross-entropy: TF Privacy data_structures_test.py
        // test_get_xe_loss_from_logits → 0.36313551 for logits [−0.3, 1.5, 0.2], label 1.
        var p = Features.Softmax([-0.3, 1.5, 0.2]);
        Assert.Equal(0.36313551, -Math.Log(p[1]), 1e-8);
        Assert.Equal([1.0, 0.0], Features.Softmax([1000, -1000]));
        Assert.Equal(p[1], Features.Confidence(p, 1));
        Assert.Equal(p.Max(), Features.Confidence(p, null));
        // numpy argmax: the first maximum.
        Assert.Equal(1, Features.Argmax([0.0, 2, 2, 1]));
        // Loss, then the largest probabilities in descending order, at most 10 of them.
        Assert.Equal([0.5, 0.7, 0.2, 0.1], Features.ForTrainedAttack(0.5, [0.1, 0.7, 0.2]));
        Assert.Equal(11, Features.ForTrainedAttack(0.5, [.. Enumerable.Repeat(1 / 20.0, 20)]).Length);
        Assert.Equal([0.5], Features.ForTrainedAttack(0.5, null));
    }
}
