using DiffPriv.Auditing.OneRun;
using DiffPriv.Queries;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Auditing;

/// <summary><c>train --audit one-run</c>: gradient canaries inserted into an ordinary DP-SGD training run, then audited.</summary>
internal static class TrainCanaries
{
    /// <summary>The canaries per run: 1000, or a quarter of the trainable entries if that is fewer.</summary>
    public const int Count = 1000;

    /// <summary>Wraps the run's DP query so that it inserts and scores canaries.</summary>
    public static (DpSgdOptions Options, GradientCanaries Canaries) Insert(DpSgdOptions options, nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets, long? seed)
    {
        var entries = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        var count = (int)Math.Min(Count, entries / GradientCanaryDesign.PoolFactor);

        // Without --seed the coin flips are secret (a randomly seeded generator); with it, reproducible.
        var rng = seed is { } s ? new Random(unchecked((int)s ^ 0x0a0d17)) : new Random();
        var sample = Math.Min(inputs.shape[0], 2048);
        var canaries = GradientCanaryDesign.Draw(model, count, inputs.narrow(0, 0, sample), targets.narrow(0, 0, sample), rng);
        var inner = options.Query ?? new GaussianSumQuery(options.Clipping, double.IsNaN(options.NoiseMultiplier) ? 1.0 : options.NoiseMultiplier);
        return (options with { Query = new CanaryGradientQuery(inner, canaries) }, canaries);
    }

    /// <summary>The one-run audit of the canaries' scores (default guess grid, 95% confidence).</summary>
    public static OneRunAuditResult Audit(GradientCanaries canaries, double delta) =>
        OneRunAudit.Run(canaries.Scores, canaries.Included, new OneRunAuditOptions { Delta = delta });
}
