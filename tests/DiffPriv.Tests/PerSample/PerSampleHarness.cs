using DiffPriv.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.PerSample;

/// <summary>All per-sample tests share one collection: they run one after another (global RNG, 2 cores).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PerSampleTestGroup
{
    public const string Name = "PerSample";
}

/// <summary>A model, a batch and a per-example loss.</summary>
internal sealed class Case(string name, nn.Module model, Tensor input)
{
    public string Name { get; } = name;

    public nn.Module Model { get; } = model;

    /// <summary>Batch input; example i is input.narrow(0, i, 1).</summary>
    public Tensor Input { get; } = input;

    public long BatchSize => Input.shape[0];

    /// <summary>A smooth per-example loss of any output shape: Σ_j w_j·out_j + ½ Σ_j out_j², with fixed w_j = sin(j + 1).</summary>
    public static Tensor PerExampleLoss(Tensor output)
    {
        var flat = output.flatten(1);
        var w = torch.arange(1, flat.shape[1] + 1, dtype: flat.dtype).sin();
        return flat.mul(w).sum(1).add(flat.square().sum(1).mul(0.5));
    }

    public Tensor Forward(Tensor x) => ((nn.Module<Tensor, Tensor>)Model).call(x);

    public Tensor BatchLoss() => PerExampleLoss(Forward(Input));

    public Tensor ExampleLoss(long i) => PerExampleLoss(Forward(Input.narrow(0, i, 1))).sum();
}

internal static class PerSampleHarness
{
    public static ClippedSumResult EngineStep(GradSampleHooks gsm, Case c, ClippingOptions clipping)
    {
        using var step = gsm.BeginStep();
        return gsm.ClipAndSum(c.BatchLoss(), clipping);
    }

    public static ClippedSumResult OracleStep(Case c, ClippingOptions clipping) =>
        new PerExampleLoopClipper(c.Model).ClipAndSum(c.BatchSize, c.ExampleLoss, clipping);

    /// <summary>Ordinary gradient of Σ_i ℓ_i (parameter .grad is saved and restored).</summary>
    public static Dictionary<string, Tensor> BatchGradient(Case c)
    {
        var parameters = c.Model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        foreach (var (_, p) in parameters)
        {
            p.grad = null;
        }

        c.BatchLoss().sum().backward();
        var result = parameters.ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        foreach (var (_, p) in parameters)
        {
            p.grad = null;
        }

        return result;
    }

    /// <summary>‖a − ref‖₂ / ‖ref‖₂ over all parameters (keys must match).</summary>
    public static double RelativeError(IReadOnlyDictionary<string, Tensor> actual, IReadOnlyDictionary<string, Tensor> reference)
    {
        Assert.Equal(reference.Keys.OrderBy(k => k, StringComparer.Ordinal), actual.Keys.OrderBy(k => k, StringComparer.Ordinal));
        double diff = 0, norm = 0;
        foreach (var (name, r) in reference)
        {
            var a = actual[name];
            Assert.Equal(r.shape, a.shape);
            diff += a.to(ScalarType.Float64).sub(r.to(ScalarType.Float64)).square().sum().item<double>();
            norm += r.to(ScalarType.Float64).square().sum().item<double>();
        }

        Assert.True(norm > 0, "reference gradient is zero: the test could not fail");
        return Math.Sqrt(diff / norm);
    }

    public static double MaxRelativeDifference(Tensor actual, Tensor reference) =>
        actual.sub(reference).abs().div(reference.abs().clamp_min(1e-12)).max().item<double>();

    public static double Median(Tensor norms)
    {
        var values = norms.data<double>().ToArray();
        Array.Sort(values);
        return values.Length % 2 == 1 ? values[values.Length / 2] : 0.5 * (values[(values.Length / 2) - 1] + values[values.Length / 2]);
    }

    public static Tensor Randn(Generator g, ScalarType dtype, params long[] shape) => torch.randn(shape, dtype: dtype, generator: g);
}
