using DiffPriv.Queries;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Experiments.Auditing;

/// <summary>
/// Draws white-box gradient canaries for a model: m distinct coordinates drawn at random among the model's quiet ones,
/// and a fair coin per canary for inclusion.
/// </summary>
/// <remarks>
/// A canary's score also collects the data's own gradient at its coordinate, summed over the run; where the data push a
/// coordinate hard, that drift swamps the canary (without noise it is the only thing that hides a canary). So the
/// canaries go where the data are quiet: the mean gradient of the training loss at the initial model, on a sample of
/// training examples, is computed once, and the m canaries are drawn uniformly among the 4m coordinates where its
/// magnitude is smallest. The choice uses the initial model and non-canary data only, never the coin flips, so the audit's
/// bound stays valid (Steinke, Nasr &amp; Jagielski 2023 allow any canary design fixed before the coins are read).
/// </remarks>
internal static class GradientCanaryDesign
{
    /// <summary>How many coordinates per canary form the quiet pool.</summary>
    public const int PoolFactor = 4;

    /// <summary>m canaries at distinct quiet coordinates of <paramref name="model"/>'s trainable parameters.</summary>
    /// <param name="model">The model at its initial weights.</param>
    /// <param name="canaries">m.</param>
    /// <param name="sampleInputs">Training examples to measure the initial gradient on (a few thousand suffice).</param>
    /// <param name="sampleTargets">Their labels.</param>
    /// <param name="rng">The audit's seeded generator.</param>
    /// <exception cref="ArgumentException">The model has fewer than 4m trainable entries.</exception>
    public static GradientCanaries Draw(nn.Module<Tensor, Tensor> model, int canaries, Tensor sampleInputs, Tensor sampleTargets, Random rng)
    {
        var parameters = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var total = parameters.Sum(p => p.parameter.numel());
        var pool = (long)PoolFactor * canaries;
        if (total < pool)
        {
            throw new ArgumentException($"--canaries must be at most 1/{PoolFactor} of the model's {total} trainable entries (got {canaries})");
        }

        // |mean gradient| at the initial model, flattened over every parameter in named_parameters order.
        double[] magnitude;
        using (var scope = NewDisposeScope())
        {
            model.zero_grad();
            F.cross_entropy(model.call(sampleInputs), sampleTargets).backward();
            magnitude = cat(parameters.Select(p => p.parameter.grad!.detach().abs().reshape(-1).to(ScalarType.Float64)).ToArray(), 0).data<double>().ToArray();
            model.zero_grad();
        }

        var quiet = Enumerable.Range(0, magnitude.Length).OrderBy(i => magnitude[i]).ThenBy(i => i).Take((int)pool).ToList();
        var chosen = quiet.OrderBy(_ => rng.Next()).Take(canaries).ToList();
        var list = new List<GradientCanary>(canaries);
        foreach (var flat in chosen)
        {
            long offset = flat;
            foreach (var (name, parameter) in parameters)
            {
                var count = parameter.numel();
                if (offset < count)
                {
                    list.Add(new GradientCanary(name, offset));
                    break;
                }

                offset -= count;
            }
        }

        var included = list.Select(_ => rng.Next(2) == 1).ToList();
        return new GradientCanaries(list, included);
    }
}
