using DiffPriv.Experiments.SecretSharer;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Tests;

public sealed class SequenceScorerTests
{
    private const int Vocabulary = 5;
    private const int Width = 3;

    // Fixed weights of the tiny model: embedding [V, E] and linear [V, E] + bias [V].
    private static readonly double[] EmbeddingWeights = [0.3, -0.2, 0.5, -0.7, 0.1, 0.4, 0.2, 0.9, -0.3, -0.5, -0.4, 0.6, 0.8, 0.05, -0.1];
    private static readonly double[] LinearWeights = [0.5, -1.0, 0.25, 1.2, 0.3, -0.6, -0.8, 0.7, 0.9, 0.1, -0.2, -1.1, 0.6, 0.4, 0.35];
    private static readonly double[] LinearBias = [0.1, -0.3, 0.2, 0.0, -0.15];

    private static readonly long[][] Sequences =
    [
        [0, 3, 1, 4, 4, 2],
        [0, 2],
        [0, 1, 1, 1, 3, 2, 4, 1, 0, 3],
        [0, 4, 3],
        [0, 2, 2, 3, 1],
    ];

    public SequenceScorerTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void MatchesAHandComputedLoopForEveryBatchSize()
    {
        using var model = TinyModel(ScalarType.Float64);
        var expected = Sequences.Select(HandLogPerplexity).ToArray();
        foreach (var batchSize in new[] { 1, 2, 3, 100 })
        {
            var scores = SequenceScorer.LogPerplexities(model, Sequences, padId: 0, batchSize: batchSize);
            Assert.Equal(expected.Length, scores.Length);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], scores[i], 1e-12);
            }
        }
    }

    [Fact]
    public void Float32ModelsAgreeToSinglePrecision()
    {
        using var model = TinyModel(ScalarType.Float32);
        var expected = Sequences.Select(HandLogPerplexity).ToArray();
        var scores = SequenceScorer.LogPerplexities(model, Sequences, batchSize: 2);
        for (var i = 0; i < expected.Length; i++)
        {
            // float32 logits: about 1e-7 relative error per logit.
            Assert.Equal(expected[i], scores[i], 1e-5);
        }
    }

    [Fact]
    public void PaddingIdDoesNotChangeScores()
    {
        using var model = TinyModel(ScalarType.Float64);
        var withZero = SequenceScorer.LogPerplexities(model, Sequences, padId: 0, batchSize: 5);
        var withFour = SequenceScorer.LogPerplexities(model, Sequences, padId: 4, batchSize: 5);
        Assert.Equal(withZero, withFour);
    }

    [Fact]
    public void RestoresTheTrainingModeAndLeaksNoTensors()
    {
        using var model = TinyModel(ScalarType.Float64);
        model.train();
        SequenceScorer.LogPerplexities(model, Sequences, batchSize: 2);
        Assert.True(model.training);
        model.eval();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++)
        {
            SequenceScorer.LogPerplexities(model, Sequences, batchSize: 2);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.False(model.training);
    }

    [Fact]
    public void RejectsShortSequencesAndModelsOfTheWrongShape()
    {
        using var model = TinyModel(ScalarType.Float64);
        Assert.Throws<ArgumentException>(() => SequenceScorer.LogPerplexities(model, [[0]]));
        Assert.Throws<ArgumentException>(() => SequenceScorer.LogPerplexities(model, [[0, -1]]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceScorer.LogPerplexities(model, Sequences, batchSize: 0));
        using var flat = new FlattenedModel();
        Assert.Throws<ArgumentException>(() => SequenceScorer.LogPerplexities(flat, Sequences));
        Assert.Empty(SequenceScorer.LogPerplexities(model, []));
    }

    /// <summary>−(1/(L−1)) Σₜ log softmax(W·Σ_{s≤t} E[x_s] + b)[x_{t+1}], in doubles.</summary>
    private static double HandLogPerplexity(long[] x)
    {
        var h = new double[Width];
        var total = 0.0;
        for (var t = 0; t + 1 < x.Length; t++)
        {
            for (var e = 0; e < Width; e++)
            {
                h[e] += EmbeddingWeights[(x[t] * Width) + e];
            }

            var logits = new double[Vocabulary];
            for (var v = 0; v < Vocabulary; v++)
            {
                logits[v] = LinearBias[v];
                for (var e = 0; e < Width; e++)
                {
                    logits[v] += LinearWeights[(v * Width) + e] * h[e];
                }
            }

            var max = logits.Max();
            var logSumExp = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            total += logits[x[t + 1]] - logSumExp;
        }

        return -total / (x.Length - 1);
    }

    private static CumulativeBagModel TinyModel(ScalarType dtype)
    {
        var model = new CumulativeBagModel();
        model.to(dtype);
        model.SetWeights();
        return model;
    }

    /// <summary>A causal toy language model: logits at t = W·(Σ_{s≤t} embedding of token s) + b.</summary>
    private sealed class CumulativeBagModel : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Embedding _embedding = nn.Embedding(Vocabulary, Width);
        private readonly TorchSharp.Modules.Linear _output = nn.Linear(Width, Vocabulary);

        public CumulativeBagModel()
            : base(nameof(CumulativeBagModel)) => RegisterComponents();

        public void SetWeights()
        {
            using var noGrad = torch.no_grad();
            var dtype = _output.weight!.dtype;
            _embedding.weight!.copy_(torch.tensor(EmbeddingWeights, [Vocabulary, Width], dtype: dtype));
            _output.weight!.copy_(torch.tensor(LinearWeights, [Vocabulary, Width], dtype: dtype));
            _output.bias!.copy_(torch.tensor(LinearBias, [Vocabulary], dtype: dtype));
        }

        public override Tensor forward(Tensor input) => _output.call(_embedding.call(input).cumsum(1));

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _embedding.Dispose();
                _output.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Returns [B, V] instead of [B, T, V]: the scorer must refuse it.</summary>
    private sealed class FlattenedModel : nn.Module<Tensor, Tensor>
    {
        public FlattenedModel()
            : base(nameof(FlattenedModel))
        {
        }

        public override Tensor forward(Tensor input) => torch.zeros(input.shape[0], Vocabulary);
    }
}
