using DiffPriv.Accounting;
using DiffPriv.Layers;
using DiffPriv.Tests.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Layers;

/// <summary>Each new layer in a small model trains one DP step through PrivacyEngine.MakePrivate and the three-line loop.</summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class DpLayersTrainingTests
{
    public DpLayersTrainingTests() => TorchRuntime.EnsureLoaded();

    public static TheoryData<string> Models() => ["conv3d", "instancenorm", "rmsnorm", "embeddingbag"];

    [Theory]
    [MemberData(nameof(Models))]
    public void OneDpStepUpdatesTheLayerAndIsRecorded(string name)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(23);
        var g = new Generator(23);
        const long n = 32;
        var (model, layer, x) = name switch
        {
            "conv3d" => Model(nn.Conv3d(1, 2, 2, stride: 2), torch.randn([n, 1, 4, 4, 4], generator: g), 16),
            "instancenorm" => Model(nn.InstanceNorm2d(1, affine: true), torch.randn([n, 1, 3, 3], generator: g), 9),
            "rmsnorm" => Model(new DpRmsNorm([6]), torch.randn([n, 6], generator: g), 6),
            _ => Model(new DpEmbeddingBag(9, 4, EmbeddingBagMode.Mean, paddingIndex: 0), torch.randint(0, 9, [n, 5], generator: g, dtype: ScalarType.Int64), 4),
        };
        var y = torch.randint(0, 2, [n], generator: g, dtype: ScalarType.Int64);
        var before = layer.parameters().Select(p => p.detach().clone()).ToList();
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.5), x, y,
            new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 1.0, ExpectedBatchSize = 16, Seed = 3 });
        var (optimizer, loader) = (training.Optimizer, training.Loader);
        var batch = loader.NextBatch();

        optimizer.zero_grad();
        optimizer.Backward(nn.functional.cross_entropy(model.call(batch["data"]), batch["label"], reduction: nn.Reduction.None));
        optimizer.step();

        Assert.Equal(1, engine.Ledger.TotalCount);
        var after = layer.parameters().ToList();
        Assert.NotEmpty(after);
        for (var i = 0; i < after.Count; i++)
        {
            Assert.True(after[i].detach().sub(before[i]).abs().max().item<float>() > 0, $"{name}: parameter {i} did not move");
        }
    }

    /// <summary>layer → flatten → Linear(width, 2).</summary>
    private static (nn.Module<Tensor, Tensor> Model, nn.Module Layer, Tensor X) Model(nn.Module<Tensor, Tensor> layer, Tensor x, long width) =>
        (nn.Sequential(("layer", layer), ("flat", nn.Flatten()), ("head", nn.Linear(width, 2))), layer, x);
}
