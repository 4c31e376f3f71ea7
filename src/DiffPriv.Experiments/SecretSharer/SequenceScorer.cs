using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.SecretSharer;

/// <summary>
/// Scores token sequences with a trained autoregressive language model: the per-sequence log-perplexity
/// −(1/(L−1)) Σₜ₌₀^{L−2} log p(x_{t+1} | x_0 … x_t), in nats per predicted token (natural log; bits per character =
/// value / ln 2, perplexity per character = e^value). This is the score of the Secret Sharer (Carlini et al. 2019,
/// Definition 1, up to the constant factor L − 1, which no exposure depends on) and what TF Privacy's secret sharer
/// notebook computes (the mean sparse categorical cross-entropy of a sequence).
/// </summary>
public static class SequenceScorer
{
    /// <summary>
    /// The log-perplexity of each sequence under <paramref name="model"/>, in batches. Contract of the model: int64
    /// token ids [B, T] → logits [B, T, V], where the logits at position t predict token t + 1 and depend on tokens
    /// 0 … t only (a causal language model, such as embedding → LSTM → linear). The model is put in eval mode under
    /// <c>torch.no_grad()</c> and its mode restored afterwards; every batch runs in its own dispose scope.
    /// </summary>
    /// <param name="model">The language model, already on <paramref name="device"/>.</param>
    /// <param name="sequences">
    /// Token id sequences, each of length L ≥ 2 and already starting with the caller's start-of-sequence id (the first
    /// token is conditioned on, never predicted). Sequences may differ in length: inside a batch the shorter ones are
    /// padded at the end with <paramref name="padId"/>, and padded positions are neither predicted nor counted.
    /// </param>
    /// <param name="padId">The padding id fed to the model after a sequence's end; a valid input id of the model (0 ≤ id &lt; V).</param>
    /// <param name="batchSize">Sequences per forward pass, ≥ 1 (memory: B·T·V float64 log-probabilities).</param>
    /// <param name="device">Where inputs are placed; null: the device of the model's first parameter (CPU if it has none).</param>
    /// <returns>Log-perplexity per sequence, in the order of <paramref name="sequences"/>.</returns>
    /// <exception cref="ArgumentException">A sequence shorter than 2 tokens, a negative id, a bad batch size, or logits of the wrong shape.</exception>
    public static double[] LogPerplexities(
        nn.Module<Tensor, Tensor> model, IReadOnlyList<long[]> sequences, long padId = 0, int batchSize = 256, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padId);
        for (var i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i] ?? throw new ArgumentException($"Sequence {i} is null.", nameof(sequences));
            if (s.Length < 2)
            {
                throw new ArgumentException($"Sequence {i} has {s.Length} token(s); a log-perplexity needs a start token and at least one predicted token.", nameof(sequences));
            }

            if (s.Any(id => id < 0))
            {
                throw new ArgumentException($"Sequence {i} has a negative token id.", nameof(sequences));
            }
        }

        device ??= FirstParameterDevice(model);

        // Longest first, so each batch pads little; results go back to the caller's order.
        var order = Enumerable.Range(0, sequences.Count).OrderByDescending(i => sequences[i].Length).ToArray();
        var scores = new double[sequences.Count];
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            for (var start = 0; start < order.Length; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var batch = order.AsSpan(start, Math.Min(batchSize, order.Length - start)).ToArray();
                var batchScores = ScoreBatch(model, sequences, batch, padId, device);
                for (var k = 0; k < batch.Length; k++)
                {
                    scores[batch[k]] = batchScores[k];
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }

        return scores;
    }

    private static double[] ScoreBatch(nn.Module<Tensor, Tensor> model, IReadOnlyList<long[]> sequences, int[] batch, long padId, Device device)
    {
        var b = batch.Length;
        var width = batch.Max(i => sequences[i].Length);

        // inputs[k, t] = x_t for t ≤ L−2 (the last token is only a target), targets[k, t] = x_{t+1}; padding after the end.
        var inputs = new long[b * (width - 1)];
        var targets = new long[b * (width - 1)];
        var predicted = new double[b];
        Array.Fill(inputs, padId);
        Array.Fill(targets, padId);
        for (var k = 0; k < b; k++)
        {
            var s = sequences[batch[k]];
            for (var t = 0; t + 1 < s.Length; t++)
            {
                inputs[(k * (width - 1)) + t] = s[t];
                targets[(k * (width - 1)) + t] = s[t + 1];
            }

            predicted[k] = s.Length - 1;
        }

        var x = torch.tensor(inputs, [b, width - 1], device: device);
        var y = torch.tensor(targets, [b, width - 1], device: device);
        var logits = model.call(x);
        if (logits.dim() != 3 || logits.shape[0] != b || logits.shape[1] != width - 1)
        {
            throw new ArgumentException(
                $"The model must map token ids [B, T] = [{b}, {width - 1}] to logits [B, T, V]; it returned [{string.Join(", ", logits.shape)}].",
                nameof(model));
        }

        var logProbabilities = logits.to_type(ScalarType.Float64).log_softmax(-1);
        var tokenLogProbability = logProbabilities.gather(2, y.unsqueeze(2)).squeeze(2);
        var lengths = torch.tensor(predicted, dtype: ScalarType.Float64, device: device);
        var positions = torch.arange(width - 1, dtype: ScalarType.Float64, device: device).unsqueeze(0);
        var mask = positions.lt(lengths.unsqueeze(1));
        var total = tokenLogProbability.masked_fill(mask.logical_not(), 0.0).sum(dim: 1L);
        return total.neg().div(lengths).cpu().data<double>().ToArray();
    }

    private static Device FirstParameterDevice(nn.Module<Tensor, Tensor> model)
    {
        foreach (var p in model.parameters())
        {
            return p.device;
        }

        return torch.CPU;
    }
}
