using DiffPriv.Datasets.Text;
using DiffPriv.Experiments.SecretSharer;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Tests;

public sealed class CharLmDataTests
{
    /// <summary>Logits identically zero: every prediction is uniform over the V ids.</summary>
    private sealed class UniformModel(long vocabulary) : nn.Module<Tensor, Tensor>("uniform")
    {
        public override Tensor forward(Tensor input) => torch.zeros(input.shape[0], input.shape[1], vocabulary, dtype: ScalarType.Float64);
    }

    [Fact]
    public void TensorsShiftTargetsByOneAndPadBoth()
    {
        var vocabulary = CharVocabulary.Default;
        var a = vocabulary.Encode("ab", appendEnd: true); // start a b end
        var (x, y) = CharLmData.ToTensors([a], 5, CharVocabulary.PadId);
        Assert.Equal([a[0], a[1], a[2], 0, 0], x.data<long>().ToArray());
        Assert.Equal([a[1], a[2], a[3], 0, 0], y.data<long>().ToArray());
        Assert.Throws<ArgumentException>(() => CharLmData.ToTensors([a], 2, CharVocabulary.PadId));
    }

    [Fact]
    public void PerExampleLossIsTheMeanOverTheExamplesOwnTargetsOnly()
    {
        // Example 0 has 3 targets, example 1 has 1; the logits favour id 5 everywhere.
        var logits = torch.zeros(2, 4, 8, dtype: ScalarType.Float64);
        logits[TensorIndex.Colon, TensorIndex.Colon, 5] = torch.tensor(2.0, dtype: ScalarType.Float64);
        var targets = torch.tensor(new long[] { 5, 6, 5, 0, 6, 0, 0, 0 }, [2, 4]);
        var loss = CharLmData.PerExampleLoss(logits, targets, 0).data<double>().ToArray();
        var z = Math.Log(Math.Exp(2) + 7);
        Assert.Equal(((z - 2) + z + (z - 2)) / 3, loss[0], 12);
        Assert.Equal(z, loss[1], 12); // padding adds nothing, however long

        // An example's loss does not depend on another example's data.
        var other = targets.clone();
        other[1, 0] = torch.tensor(5L);
        Assert.Equal(loss[0], CharLmData.PerExampleLoss(logits, other, 0).data<double>()[0], 15);
    }

    [Fact]
    public void PooledPerplexityOfAUniformModelIsTheVocabularySize()
    {
        // A uniform model's perplexity is exactly V per predicted token, whatever the text and its length.
        var vocabulary = CharVocabulary.Default;
        var sequences = new[] { "a", "the quick brown fox", "net 114,108,000 vs 140,389,000" }.Select(t => vocabulary.Encode(t, appendEnd: true)).ToList();
        using var model = new UniformModel(vocabulary.Size);
        var scores = SequenceScorer.LogPerplexities(model, sequences, CharVocabulary.PadId);
        var nats = SecretSharerRunner.PooledNatsPerChar(scores, sequences);
        Assert.Equal(vocabulary.Size, Math.Exp(nats), 9);
        Assert.Equal(Math.Log2(vocabulary.Size), nats / Math.Log(2), 12);
    }
}
