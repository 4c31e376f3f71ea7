using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Experiments.SecretSharer;

/// <summary>
/// Training tensors of a character language model: inputs [N, T] = tokens 0..T−1 and targets [N, T] = tokens 1..T of
/// each encoded sequence (start token first), padded with the vocabulary's padding id; padded targets carry no loss.
/// </summary>
internal static class CharLmData
{
    /// <summary>Builds [N, T] inputs and targets from encoded sequences of at most T + 1 tokens.</summary>
    public static (Tensor Inputs, Tensor Targets) ToTensors(IReadOnlyList<long[]> sequences, int length, long padId)
    {
        var n = sequences.Count;
        var x = new long[n * length];
        var y = new long[n * length];
        Array.Fill(x, padId);
        Array.Fill(y, padId);
        for (var i = 0; i < n; i++)
        {
            var s = sequences[i];
            if (s.Length > length + 1)
            {
                throw new ArgumentException($"Sequence {i} has {s.Length} tokens; at most {length + 1} (start token included) fit T = {length}.", nameof(sequences));
            }

            for (var t = 0; t + 1 < s.Length; t++)
            {
                x[(i * length) + t] = s[t];
                y[(i * length) + t] = s[t + 1];
            }
        }

        return (torch.tensor(x, [n, length]), torch.tensor(y, [n, length]));
    }

    /// <summary>
    /// Per-example loss: the mean cross-entropy (natural log) over the example's non-padded target positions, shape [B].
    /// An example's loss depends on that example only.
    /// </summary>
    /// <param name="logits">[B, T, V].</param>
    /// <param name="targets">[B, T] token ids, <paramref name="padId"/> where there is no target.</param>
    /// <param name="padId">The padding id.</param>
    public static Tensor PerExampleLoss(Tensor logits, Tensor targets, long padId)
    {
        var b = logits.shape[0];
        var t = logits.shape[1];
        var v = logits.shape[2];
        var tokenLoss = F.cross_entropy(logits.reshape(b * t, v), targets.reshape(b * t), ignore_index: padId, reduction: nn.Reduction.None).reshape(b, t);
        var counts = targets.ne(padId).sum(dim: 1L).to_type(tokenLoss.dtype).clamp_min(1.0);
        return tokenLoss.sum(dim: 1L).div(counts);
    }
}
