using DiffPriv.Layers;
using DiffPriv.Tests.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Layers;

/// <summary>DpEmbeddingBag against TorchSharp's nn.EmbeddingBag with the same weight: outputs and weight gradients.</summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class DpEmbeddingBagTests
{
    /// <summary>Bags [5, 4] over 6 ids: repeats within a bag, padding id 3 at the end of bags, one bag of padding only.</summary>
    private static readonly long[,] Ids =
    {
        { 0, 1, 1, 5 },
        { 4, 2, 3, 3 },
        { 3, 3, 3, 3 },
        { 5, 5, 5, 0 },
        { 2, 3, 1, 4 },
    };

    public DpEmbeddingBagTests() => TorchRuntime.EnsureLoaded();

    public static TheoryData<EmbeddingBagMode, long?> Configurations() => new()
    {
        { EmbeddingBagMode.Sum, null },
        { EmbeddingBagMode.Mean, null },
        { EmbeddingBagMode.Sum, 3 },
        { EmbeddingBagMode.Mean, 3 },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void OutputAndWeightGradientEqualNnEmbeddingBag(EmbeddingBagMode mode, long? paddingIndex)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(17);
        var reference = nn.EmbeddingBag(6, 3, mode: mode, padding_index: paddingIndex ?? -1);
        var bag = new DpEmbeddingBag(6, 3, mode, paddingIndex);
        using (torch.no_grad())
        {
            bag.Weight.copy_(reference.weight!);
        }

        var ids = torch.tensor(Ids, dtype: ScalarType.Int64);
        var expected = reference.call(ids);
        var actual = bag.call(ids);
        Assert.Equal([5L, 3L], actual.shape);
        var difference = actual.sub(expected).abs().max().item<float>();
        Assert.True(difference < 1e-6, $"{mode}, padding {paddingIndex}: max output difference {difference:E2}");

        // The same loss through both: the weight gradients (padding row: none) agree too.
        var w = torch.arange(1, 4, dtype: ScalarType.Float32).sin();
        expected.mul(w).sum().backward();
        actual.mul(w).sum().backward();
        var referenceGrad = reference.weight!.grad!;
        var gradDifference = bag.Weight.grad!.sub(referenceGrad).abs().max().item<float>();
        Assert.True(gradDifference < 1e-6, $"{mode}, padding {paddingIndex}: max gradient difference {gradDifference:E2}");
        Assert.True(referenceGrad.abs().sum().item<float>() > 0);
        if (paddingIndex is { } pad)
        {
            Assert.Equal(0f, bag.Weight.grad![pad].abs().sum().item<float>());
            Assert.Equal(0f, actual[2].abs().sum().item<float>()); // the bag of padding only
        }
    }

    /// <summary>
    /// The touched-rows path (every position of a bag shares its output gradient) on more (example, id) pairs than one
    /// block of its clipped sum holds: norms and clipped sum equal the dense per-example gradients' (Materialize), with
    /// ids repeated within bags and a clip that binds for some examples only.
    /// </summary>
    [Theory]
    [InlineData(EmbeddingBagMode.Mean)]
    [InlineData(EmbeddingBagMode.Sum)]
    public void TheTouchedRowsOverSeveralBlocksEqualTheDensePerExampleGradients(EmbeddingBagMode mode)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        const long B = 48, L = 150, V = 3000;
        var ids = torch.randint(0, V, [B, L], generator: generator, dtype: ScalarType.Int64);
        ids.narrow(1, 100, 50).copy_(ids.narrow(1, 0, 50)); // a third of each bag repeats its first ids
        DiffPriv.PerSample.ClippedSumResult Run(DiffPriv.PerSample.GradSampleMethod method, double clip)
        {
            var model = DiffPriv.Tests.Training.TrainingFixtures.Initialise(nn.Sequential(("bag", new DpEmbeddingBag(V, 4, mode)), ("head", nn.Linear(4, 2))), 8);
            using var hooks = new DiffPriv.PerSample.GradSampleHooks(model, DiffPriv.PerSample.GradSamplerRegistry.Default, new DiffPriv.PerSample.GradSampleOptions { Method = method });
            using var step = hooks.BeginStep();
            var loss = nn.functional.cross_entropy(model.call(ids), torch.arange(B, dtype: ScalarType.Int64).remainder(2), reduction: nn.Reduction.None);
            return hooks.ClipAndSum(loss, clip);
        }

        // The clip: the median dense per-example norm, so that it binds for about half of the examples.
        var median = Run(DiffPriv.PerSample.GradSampleMethod.Materialize, double.PositiveInfinity).PerExampleNorms.median().item<double>();
        var (touched, dense) = (Run(DiffPriv.PerSample.GradSampleMethod.Auto, median), Run(DiffPriv.PerSample.GradSampleMethod.Materialize, median));
        var factors = touched.ClipFactors!;
        Assert.True(factors.lt(1).any().item<bool>() && factors.eq(1).any().item<bool>(), "the clip must bind for some examples and not others");
        Assert.True(touched.PerExampleNorms.allclose(dense.PerExampleNorms, rtol: 1e-5, atol: 1e-7));
        var sum = touched.Gradients["bag.weight"];
        Assert.True(sum.allclose(dense.Gradients["bag.weight"], rtol: 1e-4, atol: 1e-6), $"max difference {sum.sub(dense.Gradients["bag.weight"]).abs().max().item<float>():E2}");
        Assert.True(sum.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void NegativePaddingIndexCountsFromTheEndAndItsRowStartsAtZero()
    {
        using var scope = torch.NewDisposeScope();
        var bag = new DpEmbeddingBag(6, 3, EmbeddingBagMode.Sum, paddingIndex: -1);
        Assert.Equal(5L, bag.PaddingIndex);
        Assert.Equal(0f, bag.Weight[5].abs().sum().item<float>());
        Assert.True(bag.Weight[0].abs().sum().item<float>() > 0);
        Assert.Equal(EmbeddingBagMode.Mean, new DpEmbeddingBag(6, 3).Mode);
    }

    [Fact]
    public void MaxModeOneDimensionalInputsAndBadIndicesAreRefused()
    {
        using var scope = torch.NewDisposeScope();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DpEmbeddingBag(6, 3, EmbeddingBagMode.Max));
        Assert.Contains("Max", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpEmbeddingBag(6, 3, paddingIndex: 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpEmbeddingBag(6, 3, paddingIndex: -7));
        var bag = new DpEmbeddingBag(6, 3);
        var flat = Assert.Throws<ArgumentException>(() => bag.call(torch.tensor(new long[] { 0, 1, 2 })));
        Assert.Contains("[B, L]", flat.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => bag.call(torch.ones(2, 3)));
    }
}
