using DiffPriv.Accounting;
using DiffPriv.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

public sealed class DpOptimizerCoverageTests
{
    public static TheoryData<string> Optimizers() => ["sgd", "adam", "adamw", "adagrad", "rmsprop"];

    private static optim.Optimizer Create(string name, nn.Module model) => name switch
    {
        "sgd" => optim.SGD(model.parameters(), 0.1, momentum: 0.9),
        "adam" => optim.Adam(model.parameters(), 0.01),
        "adamw" => optim.AdamW(model.parameters(), 0.01),
        "adagrad" => optim.Adagrad(model.parameters(), 0.1),
        _ => optim.RMSProp(model.parameters(), 0.01),
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void EveryTorchSharpOptimizerTrainsPrivately(string name)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(400, 4, 12);
        var model = TrainingFixtures.SmallMlp(4, 12);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivate(model, Create(name, model), x, y,
            new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 0.5, ExpectedBatchSize = 50, Seed = 4 });
        double Loss() => TrainingFixtures.PerExampleCrossEntropy(model, x, y).mean().item<float>();
        var before = Loss();
        for (var epoch = 0; epoch < 5; epoch++)
        {
            foreach (var batch in training.Loader.Epoch())
            {
                using var stepScope = torch.NewDisposeScope();
                training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            }
        }

        // The blobs are separable: private training still lowers the loss clearly.
        Assert.True(Loss() < 0.8 * before, $"{name}: loss {before} → {Loss()}");
        Assert.Equal(40, engine.Ledger.TotalCount);
    }

    [Fact]
    public void NaNPerExampleGradientIsReportedAndNothingIsApplied()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 13);
        x[3, 1] = torch.tensor(float.NaN);
        var model = TrainingFixtures.SmallMlp(4, 13);
        var engine = new PrivacyEngine();
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 1.0, ExpectedBatchSize = 100, Seed = 2 });
        var before = TrainingFixtures.Flatten(model);
        // q = 1: every example, the NaN one included, is in the batch.
        var error = Assert.Throws<NonFiniteGradientException>(() =>
            training.Optimizer.Step(training.Loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb)));
        Assert.Contains(3L, error.ExampleIndices);
        Assert.Equal(before, TrainingFixtures.Flatten(model));
        Assert.Equal(0, engine.Ledger.TotalCount);
    }

    [Fact]
    public void PerLayerClippingTrains()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(200, 4, 14);
        var model = TrainingFixtures.SmallMlp(4, 14);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.5), x, y, new DpSgdOptions
        {
            MaxGradNorm = double.NaN,
            LayerMaxGradNorms = new Dictionary<string, double> { ["fc1"] = 0.6, ["fc2"] = 0.8 },
            NoiseMultiplier = 0.5,
            ExpectedBatchSize = 40,
            Seed = 5,
        });
        double Loss() => TrainingFixtures.PerExampleCrossEntropy(model, x, y).mean().item<float>();
        var before = Loss();
        for (var i = 0; i < 30; i++)
        {
            using var stepScope = torch.NewDisposeScope();
            training.Optimizer.Step(training.Loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
        }

        Assert.True(Loss() < before);
    }
}
