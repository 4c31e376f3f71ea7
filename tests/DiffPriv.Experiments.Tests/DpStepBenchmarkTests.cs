using DiffPriv.Experiments.Benchmarks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Tests;

/// <summary>
/// The benchmark's two copies of a model: the plain and the DP step must train the same function from the same weights,
/// or the ratio compares two different models.
/// </summary>
public sealed class DpStepBenchmarkTests
{
    public DpStepBenchmarkTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("char-lstm", 80)]
    [InlineData("embedding-bag", DpStepBenchmark.EmbeddingBagSequenceLength)]
    [InlineData("transformer", DpStepBenchmark.TransformerSequenceLength)]
    [InlineData("transformer-lora", DpStepBenchmark.TransformerSequenceLength)]
    public void ThePlainAndDpCopiesComputeTheSameFunctionWithTheSameTrainableParameters(string model, long length)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var setup = new BenchSetup(model, BatchSize: 2, VocabularySize: 12);
        var (plain, dp) = DpStepBenchmark.BuildPair(setup);
        var vocabulary = model switch
        {
            "char-lstm" => setup.VocabularySize,
            "embedding-bag" => 10_000,
            _ => DpStepBenchmark.TransformerVocabulary,
        };
        var x = torch.randint(0, vocabulary, [2, length], dtype: ScalarType.Int64);
        var difference = plain.call(x).sub(dp.call(x)).abs().max().item<float>();
        Assert.True(difference <= 1e-5, $"the copies differ by {difference:G3}");
        Assert.Equal(TrainableCount(plain), TrainableCount(dp)); // names differ where Fix split a fused layer's packed weights

        var modules = dp.modules().ToList();
        Assert.DoesNotContain(modules, m => m is LSTM or TransformerEncoder or MultiheadAttention or EmbeddingBag);
        if (model == "transformer-lora")
        {
            // Both copies train exactly the adapters of q_proj and v_proj, with the same (random) A.
            Assert.Equal(Trainable(plain), Trainable(dp));
            Assert.Equal(8, Trainable(dp).Count);
            Assert.All(Trainable(dp), name => Assert.Matches(@"^encoder\.layers\.[01]\.self_attn\.[qv]_proj\.lora_[AB]\.weight$", name));
            var plainState = plain.state_dict();
            Assert.All(dp.state_dict(), kv => Assert.True(kv.Value.allclose(plainState[kv.Key], rtol: 0, atol: 0), kv.Key));
        }
        else
        {
            // The plain copy keeps TorchSharp's fused layer (the baseline is what a non-private model would use); all trained.
            Assert.Equal(plain.parameters().Sum(p => p.numel()), TrainableCount(plain));
            Assert.Contains(plain.modules(), m => m is LSTM or TransformerEncoder or EmbeddingBag);
        }
    }

    /// <summary>
    /// The width reaches each model: parameter counts by hand from the layer shapes. mnist-cnn m = 2: 8192m² + 17 456m + 362;
    /// embedding-bag E = 16: 10 000·16 + 16·2 + 2; char-lstm V = 12, H = 32: 12·64 + 4·32·(64 + 32) + 2·4·32 + 32·12 + 12;
    /// transformer d = 32 (feed-forward 128): 256·32 + 2·(3·32·32 + 3·32 + 32·32 + 32 + 32·128 + 128 + 128·32 + 32 + 4·32) + 32·2 + 2.
    /// The defaults (width null) keep today's models: 26 010, 640 130, 350 272 (V = 64) and 429 570 parameters.
    /// </summary>
    [Theory]
    [InlineData("mnist-cnn", null, 26_010)]
    [InlineData("mnist-cnn", 2, 68_042)]
    [InlineData("embedding-bag", null, 640_130)]
    [InlineData("embedding-bag", 16, 160_034)]
    [InlineData("char-lstm", null, 350_272)]
    [InlineData("char-lstm", 32, 13_708)]
    [InlineData("transformer", null, 429_570)]
    [InlineData("transformer", 32, 33_666)]
    public void TheWidthSetsTheParameterCountOfBothCopies(string model, int? width, long expected)
    {
        using var scope = torch.NewDisposeScope();
        var setup = new BenchSetup(model, BatchSize: 2, VocabularySize: model == "char-lstm" && width is not null ? 12 : 64) { Width = width };
        var (plain, dp) = DpStepBenchmark.BuildPair(setup);
        Assert.Equal(expected, TrainableCount(plain));
        Assert.Equal(expected, TrainableCount(dp));
    }

    [Theory]
    [InlineData("char-lstm", null, 80)]
    [InlineData("char-lstm", 7, 7)]
    [InlineData("transformer", null, 128)]
    [InlineData("transformer", 9, 9)]
    [InlineData("embedding-bag", null, 128)]
    [InlineData("embedding-bag", 5, 5)]
    public void TheSequenceLengthSetsTheTokensPerExample(string model, int? length, long expected)
    {
        using var scope = torch.NewDisposeScope();
        var setup = new BenchSetup(model, BatchSize: 3) { SequenceLength = length };
        Assert.Equal((int)expected, setup.EffectiveSequenceLength);
        var (x, y) = DpStepBenchmark.SyntheticBatch(setup);
        Assert.Equal([3, expected], x.shape);
        Assert.Equal(model == "char-lstm" ? [3, expected] : [3L], y.shape);
    }

    [Fact]
    public void MnistCnnHasNoSequenceLengthAndItsImagesKeepTheirShape()
    {
        using var scope = torch.NewDisposeScope();
        var setup = new BenchSetup("mnist-cnn", BatchSize: 3) { SequenceLength = 50, Width = 2 };
        Assert.Null(setup.EffectiveSequenceLength);
        Assert.Equal([3L, 1, 28, 28], DpStepBenchmark.SyntheticBatch(setup).X.shape);
    }

    [Theory]
    [InlineData("transformer", 30)]
    [InlineData("transformer-lora", 2)]
    [InlineData("char-lstm", 0)]
    public void WidthsTheModelsCannotTakeAreRefused(string model, int width) =>
        Assert.Throws<ArgumentException>(() => DpStepBenchmark.CheckWidth(model, width));

    private static long TrainableCount(nn.Module model) => model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    private static List<string> Trainable(nn.Module model) =>
        model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).Order(StringComparer.Ordinal).ToList();
}
