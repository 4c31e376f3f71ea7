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
