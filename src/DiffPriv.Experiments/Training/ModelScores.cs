using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Experiments.Training;

/// <summary>Per-example loss, logits and label of a classifier on a set of examples (the raw input of membership inference).</summary>
/// <param name="Losses">Cross-entropy loss per example (natural log).</param>
/// <param name="Logits">Logits per example, [count][classes].</param>
/// <param name="Labels">True class per example.</param>
internal sealed record ModelScores(double[] Losses, double[][] Logits, int[] Labels)
{
    private const int Batch = 1000;

    /// <summary>Scores the examples of <paramref name="inputs"/> chosen by <paramref name="indices"/> (all when null).</summary>
    public static ModelScores Compute(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets, long[]? indices = null)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var idx = indices is null ? torch.arange(inputs.shape[0]) : torch.tensor(indices);
            var n = idx.shape[0];
            var losses = new double[n];
            var logits = new double[n][];
            var labels = new int[n];
            for (long start = 0; start < n; start += Batch)
            {
                using var scope = torch.NewDisposeScope();
                var length = Math.Min(Batch, n - start);
                var part = idx.narrow(0, start, length);
                var x = inputs.index_select(0, part);
                var y = targets.index_select(0, part);
                var z = model.call(x).to_type(ScalarType.Float64);
                var l = F.cross_entropy(z, y, reduction: nn.Reduction.None).data<double>().ToArray();
                var zs = z.data<double>().ToArray();
                var ys = y.data<long>().ToArray();
                var k = (int)z.shape[1];
                for (var i = 0; i < length; i++)
                {
                    losses[start + i] = l[i];
                    logits[start + i] = zs.AsSpan(i * k, k).ToArray();
                    labels[start + i] = (int)ys[i];
                }
            }

            return new ModelScores(losses, logits, labels);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Whether the largest logit of example <paramref name="i"/> is its label (first maximum on ties).</summary>
    public bool IsCorrect(int i) => Array.IndexOf(Logits[i], Logits[i].Max()) == Labels[i];

    /// <summary>The fraction of examples whose largest logit is the label.</summary>
    public double Accuracy => Labels.Length == 0 ? 0 : Enumerable.Range(0, Labels.Length).Count(IsCorrect) / (double)Labels.Length;

    /// <summary>
    /// <paramref name="count"/> of the indices 0 … <paramref name="total"/> − 1 drawn uniformly without replacement by a
    /// generator seeded with <paramref name="seed"/> (which examples are audited is a public choice, independent of their
    /// values): sorted, or in drawn order with <paramref name="shuffle"/>.
    /// </summary>
    public static long[] SampleIndices(long total, long count, int seed, bool shuffle = false)
    {
        var all = Enumerable.Range(0, checked((int)total)).Select(i => (long)i).ToArray();
#pragma warning disable CA5394 // Auditing: which examples are scored is not a secret and needs no cryptographic generator.
        new Random(seed).Shuffle(all);
#pragma warning restore CA5394
        var chosen = all.AsSpan(0, (int)Math.Min(count, total)).ToArray();
        if (!shuffle)
        {
            Array.Sort(chosen);
        }

        return chosen;
    }
}
