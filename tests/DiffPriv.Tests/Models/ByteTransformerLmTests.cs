using DiffPriv.Models;
using DiffPriv.Tests.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Models;

/// <summary>The byte vocabulary and the causal byte-level transformer language model of <see cref="ModelZoo"/>.</summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class ByteTransformerLmTests
{
    public ByteTransformerLmTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ByteVocabularyIsUtf8WithTwoReservedIds()
    {
        Assert.Equal([72, 105, 0xC3, 0xA9], ByteVocabulary.Encode("Hié"));
        Assert.Equal("Hié", ByteVocabulary.Decode([72, ByteVocabulary.PadId, 105, 0xC3, 0xA9, ByteVocabulary.ClassificationId]));
        Assert.Equal(ByteVocabulary.ByteCount + 2, ByteVocabulary.Size);
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteVocabulary.Decode([ByteVocabulary.Size]));
    }

    [Fact]
    public void CausalMaskIsTrueAboveTheDiagonal()
    {
        using var mask = ModelZoo.CausalMask(3);
        Assert.Equal(ScalarType.Bool, mask.dtype);
        Assert.Equal([false, true, true, false, false, true, false, false, false], mask.data<bool>().ToArray());
    }

    [Fact]
    public void LogitsAtTDependOnBytesUpToTOnly()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var model = ModelZoo.ByteTransformerLm(modelDimension: 16, heads: 2, feedforward: 32, numLayers: 2, maxSequenceLength: 32);
        model.eval();
        var g = new Generator(4);
        var x = torch.randint(0, ByteVocabulary.Size, [3, 32], generator: g, dtype: ScalarType.Int64);
        var logits = model.call(x);
        Assert.Equal([3L, 32, ByteVocabulary.ByteCount], logits.shape);
        foreach (var t in new long[] { 0, 5, 30 })
        {
            // Every byte after t replaced: the logits up to t must not move at all, and those after t must.
            var changed = x.clone();
            changed[.., (int)(t + 1)..] = torch.randint(0, ByteVocabulary.ByteCount, [3, 31 - t], generator: g, dtype: ScalarType.Int64);
            var other = model.call(changed);
            Assert.Equal(0f, other.narrow(1, 0, t + 1).sub(logits.narrow(1, 0, t + 1)).abs().max().item<float>());
            Assert.True(other.narrow(1, t + 1, 31 - t).sub(logits.narrow(1, t + 1, 31 - t)).abs().max().item<float>() > 1e-3, $"the future did not change at t = {t}: the check could not fail");
        }
    }

    [Fact]
    public void RefusesSequencesLongerThanThePositionalEmbedding()
    {
        using var scope = torch.NewDisposeScope();
        var model = ModelZoo.ByteTransformerLm(modelDimension: 8, heads: 2, feedforward: 8, numLayers: 1, maxSequenceLength: 4);
        var error = Assert.Throws<ArgumentException>(() => model.call(torch.zeros([1, 5], ScalarType.Int64)));
        Assert.Contains("T ≤ 4", error.Message, StringComparison.Ordinal);
        Assert.Equal(["embedding", "position", "encoder", "output"], model.named_children().Select(c => c.name));
    }

    [Fact]
    public void LoraAdaptsTheAttentionProjectionsOfEveryLayer()
    {
        // The pretrained weights are meant for private fine-tuning with LoRA as well as fully.
        using var scope = torch.NewDisposeScope();
        var model = ModelZoo.ByteTransformerLm(modelDimension: 8, heads: 2, feedforward: 8, numLayers: 2, maxSequenceLength: 4);
        var result = DiffPriv.Layers.Lora.Apply(model, new DiffPriv.Layers.LoraOptions { Rank = 2, Targets = ["q_proj", "v_proj"] });
        Assert.Equal(
            ["encoder.layers.0.self_attn.q_proj", "encoder.layers.0.self_attn.v_proj", "encoder.layers.1.self_attn.q_proj", "encoder.layers.1.self_attn.v_proj"],
            result.AdaptedPaths);
        Assert.Equal(4 * 2 * (8 + 8), result.TrainableParameters);
    }
}
