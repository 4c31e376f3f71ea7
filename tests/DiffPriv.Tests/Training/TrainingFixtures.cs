using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

/// <summary>Small models and data for training tests.</summary>
internal static class TrainingFixtures
{
    /// <summary>A linearly separable 2-class problem: N examples with D features.</summary>
    public static (Tensor X, Tensor Y) Blobs(long n, long d, long seed)
    {
        using var gen = new Generator((ulong)seed);
        var y = torch.randint(0, 2, [n], generator: gen, dtype: ScalarType.Int64);
        var centers = (y.to(ScalarType.Float32).unsqueeze(1) * 2 - 1) * 1.5f;
        var x = torch.randn([n, d], generator: gen) + centers;
        return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }

    public static nn.Module<Tensor, Tensor> SmallMlp(long d, long seed) =>
        Initialise(nn.Sequential(("fc1", nn.Linear(d, 16)), ("act", nn.Tanh()), ("fc2", nn.Linear(16, 2))), seed);

    /// <summary>
    /// Redraws every parameter of <paramref name="module"/> uniformly in ±1/√fan-in from a generator of its own. Two
    /// modules initialised with one seed are equal even while tests of other collections draw from torch's global
    /// generator in parallel (a <c>manual_seed</c> followed by construction is not: another thread's draw can fall between).
    /// </summary>
    public static T Initialise<T>(T module, long seed)
        where T : nn.Module
    {
        using var generator = new Generator((ulong)seed, torch.CPU);
        using var noGrad = torch.no_grad();
        foreach (var (_, parameter) in module.named_parameters())
        {
            var fanIn = parameter.dim() > 1 ? parameter.numel() / parameter.shape[0] : parameter.shape[0];
            var bound = 1.0 / Math.Sqrt(fanIn);
            using var draw = torch.rand(parameter.shape, dtype: parameter.dtype, generator: generator);
            using var scaled = draw.mul(2 * bound).sub_(bound);
            parameter.copy_(scaled);
        }

        return module;
    }

    public static Tensor PerExampleCrossEntropy(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y) =>
        nn.functional.cross_entropy(model.call(x), y, reduction: nn.Reduction.None);

    public static double[] Flatten(nn.Module model) =>
        model.parameters().SelectMany(p => p.detach().to(ScalarType.Float64).flatten().data<double>().ToArray()).ToArray();
}
