using DiffPriv.Accounting;
using DiffPriv.Accounting.Events;
using DiffPriv.Noise;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

public sealed class MicrobatchTrainingTests
{
    [Fact]
    public void MicrobatchStepEqualsClippedSlotGradientsPlusTheSameNoise()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        const long N = 60, M = 4, Seed = 17;
        const double C = 0.5, Sigma = 0.7, Lr = 0.3, B = 20;
        var (x, y) = TrainingFixtures.Blobs(N, 4, 8);
        var model = TrainingFixtures.SmallMlp(4, 8);
        var reference = TrainingFixtures.SmallMlp(4, 8); // same seed: same initial weights
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), Lr), x, y,
            new DpSgdOptions { MaxGradNorm = C, NoiseMultiplier = Sigma, ExpectedBatchSize = B, Microbatches = M, MaxPhysicalBatchSize = 7, Seed = Seed });
        var batch = training.Loader.NextBatch();
        training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));

        // Oracle: the same draws from an identically seeded gate, slot gradients by ordinary backward.
        using var gate = NoiseGate.CreateSeeded(Seed);
        var indices = gate.PoissonSample(N, B / N).data<long>().ToArray();
        Assert.Equal(batch.Indices.ToArray(), indices);
        var parameters = reference.named_parameters().ToList();
        var sums = parameters.Select(p => torch.zeros_like(p.parameter)).ToArray();
        foreach (var group in indices.GroupBy(i => i % M))
        {
            reference.zero_grad();
            var idx = torch.tensor(group.ToArray());
            TrainingFixtures.PerExampleCrossEntropy(reference, x.index_select(0, idx), y.index_select(0, idx)).mean().backward();
            var norm = Math.Sqrt(parameters.Sum(p => p.parameter.grad!.square().sum().item<float>()));
            var factor = Math.Min(1.0, C / (norm + 1e-6));
            for (var i = 0; i < sums.Length; i++)
            {
                sums[i].add_(parameters[i].parameter.grad! * factor);
            }
        }

        var trained = model.named_parameters().ToList();
        for (var i = 0; i < sums.Length; i++)
        {
            var noise = gate.Gaussian(parameters[i].parameter.shape, Sigma * C);
            var expected = parameters[i].parameter.detach() - ((sums[i] + noise) * (Lr / M));
            var error = (trained[i].parameter.detach() - expected).norm().item<float>() / expected.norm().item<float>();
            Assert.True(error < 1e-5, $"{parameters[i].name}: relative error {error}");
        }

        // One example changes one slot's record by up to 2C: accounted at σ/2.
        Assert.Equal(new PoissonSampledDpEvent(B / N, new GaussianDpEvent(Sigma / 2)), Assert.Single(engine.Ledger.Entries).Event);
    }

    [Fact]
    public void MicrobatchesMustNotExceedTheBatchSize()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(50, 4, 1);
        var model = TrainingFixtures.SmallMlp(4, 1);
        var error = Assert.Throws<ArgumentException>(() => new PrivacyEngine().MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1, ExpectedBatchSize = 5, Microbatches = 6, Seed = 1 }));
        Assert.Contains("Microbatches", error.Message);
    }
}
