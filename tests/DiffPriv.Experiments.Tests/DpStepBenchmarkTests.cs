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
    [InlineData("transformer", DpStepBenchmark.TransformerSequenceLength)]
    [InlineData("transformer-lora", DpStepBenchmark.TransformerSequenceLength)]
    public void ThePlainAndDpCopiesComputeTheSameFunctionWithTheSameTrainableParameters(string model, long length)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var setup = new BenchSetup(model, BatchSize: 2, VocabularySize: 12);
        var (plain, dp) = DpStepBenchmark.BuildPair(setup);
        var vocabulary = model == "char-lstm" ? setup.VocabularySize : DpStepBenchmark.TransformerVocabulary;
        var x = torch.randint(0, vocabulary, [2, length], dtype: ScalarType.Int64);
        var difference = plain.call(x).sub(dp.call(x)).abs().max().item<float>();
        Assert.True(difference <= 1e-5, $"the copies differ by {difference:G3}");
        Assert.Equal(TrainableCount(plain), TrainableCount(dp)); // names differ where Fix split a fused layer's packed weights

        var modules = dp.modules().ToList();
        Assert.DoesNotContain(modules, m => m is LSTM or TransformerEncoder or MultiheadAttention);
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
            Assert.Contains(plain.modules(), m => m is LSTM or TransformerEncoder);
        }
    }

    private static long TrainableCount(nn.Module model) => model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    private static List<string> Trainable(nn.Module model) =>
        model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).Order(StringComparer.Ordinal).ToList();
}
