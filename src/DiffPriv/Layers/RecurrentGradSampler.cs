using DiffPriv.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// Exact per-example gradients of one direction of one <see cref="DpLstm"/>/<see cref="DpGru"/> layer from its single
/// record per sequence (see <see cref="RecurrentWeights"/>): A = [x_t, h_{t−1}(, r_t)] and G = ∂ℓ/∂(W_ih x_t + b) at every
/// step t.
/// <list type="bullet">
/// <item>LSTM: every gate pre-activation is W_ih x_t + W_hh h_{t−1} + b_ih + b_hh, so G is also the gradient of the
/// hidden-side product and the two weights act as one weight [W_ih | W_hh] on [x_t, h_{t−1}]: ∂ℓ_i/∂[W_ih | W_hh] =
/// Σ_t G_t [x_t, h_{t−1}]ᵀ, and ∂ℓ_i/∂b_ih = ∂ℓ_i/∂b_hh = Σ_t G_t. One Gram of G serves both weights.</item>
/// <item>GRU: the r and z pre-activations are shared as above; n = tanh(x_n + r ⊙ (W_hn h + b_hn)) gives the hidden
/// side the gradient r_t ⊙ G_n,t, so G_h = [G_r, G_z, r ⊙ G_n] and ∂ℓ_i/∂W_hh = Σ_t G_h,t h_{t−1}ᵀ.</item>
/// </list>
/// Weights use the ghost norm (⟨A Aᵀ, G Gᵀ⟩ per example, clipped sum (G·c)ᵀA as one matrix product) when its T×T Grams
/// are smaller than a per-example gradient (2T² &lt; p), else materialise (bmm); <see cref="GradSampleMethod.Ghost"/> or
/// <see cref="GradSampleMethod.Materialize"/> force one. For these wide weights (p = 4H·(in + H)) materialising writes
/// B·p values with short dot products of length T, which is memory-bound: for the char-LSTM of the benchmark (B = 64,
/// T = 80, in = 64, H = 256) it measured about twice the time of the ghost form.
/// </summary>
internal sealed class RecurrentGradSampler : IGradSampler
{
    public MicrobatchGrouping MicrobatchGrouping => MicrobatchGrouping.ByPositions;

    public ILayerGradSample Compute(GradSampleContext context)
    {
        var weights = (RecurrentWeights)context.Module;
        var b = context.BatchSize;
        var a = torch.cat(context.Records.Select(r => r.Input.reshape(b, -1, r.Input.shape[^1])).ToList(), 1);
        var g = torch.cat(context.Records.Select(r => r.OutputGradient.reshape(b, -1, r.OutputGradient.shape[^1])).ToList(), 1);
        var input = weights.InputSize;
        var hidden = weights.HiddenSize;
        var trainable = context.TrainableParameters;
        var sample = new CompositeLayerGradSample();
        if (weights.Cell == RecurrentCell.Lstm)
        {
            // Columns of A: [0, in) for weight_ih, [in, in + H) for weight_hh; both share G.
            var blocks = new List<(string Name, long Start, long Width)>();
            if (trainable.ContainsKey("weight_ih"))
            {
                blocks.Add(("weight_ih", 0, input));
            }

            if (trainable.ContainsKey("weight_hh"))
            {
                blocks.Add(("weight_hh", input, hidden));
            }

            AddWeights(sample, context, a, g, blocks);
            AddBias(sample, trainable, g, "bias_ih", "bias_hh");
        }
        else
        {
            var gHidden = torch.cat([g.narrow(2, 0, 2 * hidden), a.narrow(2, input + hidden, hidden).mul(g.narrow(2, 2 * hidden, hidden))], 2);
            if (trainable.ContainsKey("weight_ih"))
            {
                AddWeights(sample, context, a, g, [("weight_ih", 0, input)]);
            }

            if (trainable.ContainsKey("weight_hh"))
            {
                AddWeights(sample, context, a, gHidden, [("weight_hh", input, hidden)]);
            }

            AddBias(sample, trainable, g, "bias_ih");
            AddBias(sample, trainable, gHidden, "bias_hh");
        }

        return sample;
    }

    /// <summary>
    /// The weights whose per-example gradient is Σ_t G_t A_t[columns]ᵀ for adjacent column blocks of A (one weight made of
    /// the blocks side by side): one norm and one clipped sum for all of them, split afterwards.
    /// </summary>
    private static void AddWeights(CompositeLayerGradSample sample, GradSampleContext context, Tensor a, Tensor g, List<(string Name, long Start, long Width)> blocks)
    {
        if (blocks.Count == 0)
        {
            return;
        }

        var start = blocks[0].Start;
        var width = blocks.Sum(block => block.Width);
        var a4 = a.narrow(2, start, width).unsqueeze(1); // [B, 1, T, width]
        var g4 = g.unsqueeze(1); // [B, 1, T, O]
        var positions = a.shape[1];
        var outputs = g.shape[2];
        var method = context.Method == GradSampleMethod.Auto
            ? (2 * positions * positions < outputs * width ? GradSampleMethod.Ghost : GradSampleMethod.Materialize)
            : context.Method;

        if (method == GradSampleMethod.Ghost)
        {
            sample.Add(PerSampleMath.GhostSquaredNorms(a4, g4), Split(c => PerSampleMath.GhostClippedSum(a4, g4, c).reshape(outputs, width)));
        }
        else
        {
            var perExample = PerSampleMath.Materialize(a4, g4); // [B, O·width]
            sample.Add(PerSampleMath.RowSquaredNorms(perExample), Split(c => PerSampleMath.WeightedSum(perExample, c).reshape(outputs, width)));
        }

        Func<Tensor, IEnumerable<(string, Tensor)>> Split(Func<Tensor, Tensor> combined) => c =>
        {
            var whole = combined(c);
            return blocks.Select(block => (block.Name, whole.narrow(1, block.Start - start, block.Width).contiguous()));
        };
    }

    /// <summary>Biases whose per-example gradient is Σ_t G_t (each of <paramref name="names"/> has that same gradient).</summary>
    private static void AddBias(CompositeLayerGradSample sample, IReadOnlyDictionary<string, Tensor> trainable, Tensor g, params string[] names)
    {
        var present = names.Where(trainable.ContainsKey).ToList();
        if (present.Count == 0)
        {
            return;
        }

        var perExample = g.sum(1); // [B, O]
        sample.Add(
            PerSampleMath.RowSquaredNorms(perExample).mul(present.Count),
            c =>
            {
                var sum = PerSampleMath.WeightedSum(perExample, c);
                return present.Select((name, i) => (name, i == 0 ? sum : sum.clone())); // separate tensors: callers may add noise in place
            });
    }
}
