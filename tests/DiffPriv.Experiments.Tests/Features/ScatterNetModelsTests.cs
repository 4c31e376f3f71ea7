using DiffPriv.Experiments.Features;
using DiffPriv.Experiments.Training;
using DiffPriv.Validation;
using TorchSharp;

namespace DiffPriv.Experiments.Tests.Features;

public sealed class ScatterNetModelsTests
{
    [Theory]
    [InlineData(ImageModel.ScatterNetLinear, (81 * 7 * 7 * 10) + 10)]
    [InlineData(ImageModel.ScatterNetCnn, (81 * 9 * 16) + 16 + (16 * 9 * 32) + 32 + (512 * 32) + 32 + (32 * 10) + 10)]
    public void BuildsTheModelsOnMnistFeaturesWithTheirParameterCounts(ImageModel kind, long parameters)
    {
        torch.manual_seed(1);
        using var model = ScatterNetModels.Create(kind, 81, 7, 7);
        Assert.Equal(parameters, model.parameters().Sum(p => p.numel()));
        using var features = torch.randn(5, 81, 7, 7);
        using var logits = model.call(features);
        Assert.Equal([5, 10], logits.shape);
        // Every layer has per-example gradients (the GroupNorm has no parameters and needs none).
        Assert.Empty(ModuleValidator.Validate(model));
    }

    [Theory]
    [InlineData(ImageModel.ScatterNetLinear)]
    [InlineData(ImageModel.ScatterNetCnn)]
    public void EachExampleIsNormalisedByItsOwnStatistics(ImageModel kind)
    {
        // GroupNorm reads no statistic across examples: an example's logits do not depend on the rest of the batch, and a
        // feature map scaled by 10 gives the same logits (each group is standardised).
        torch.manual_seed(2);
        using var model = ScatterNetModels.Create(kind, 81, 7, 7);
        model.eval();
        using var batch = torch.randn(4, 81, 7, 7);
        using var alone = model.call(batch.narrow(0, 0, 1));
        using var together = model.call(batch);
        Assert.True(alone.allclose(together.narrow(0, 0, 1), rtol: 1e-5, atol: 1e-6));
        using var scaled = model.call(batch.narrow(0, 0, 1) * 10);
        Assert.True(alone.allclose(scaled, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void RefusesTheEndToEndCnn() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ScatterNetModels.Create(ImageModel.Cnn, 81, 7, 7));
}
