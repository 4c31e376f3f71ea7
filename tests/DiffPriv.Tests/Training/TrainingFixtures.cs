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

    public static nn.Module<Tensor, Tensor> SmallMlp(long d, long seed)
    {
        torch.manual_seed(seed);
        return nn.Sequential(("fc1", nn.Linear(d, 16)), ("act", nn.Tanh()), ("fc2", nn.Linear(16, 2)));
    }

    public static Tensor PerExampleCrossEntropy(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y) =>
        nn.functional.cross_entropy(model.call(x), y, reduction: nn.Reduction.None);

    public static double[] Flatten(nn.Module model) =>
        model.parameters().SelectMany(p => p.detach().to(ScalarType.Float64).flatten().data<double>().ToArray()).ToArray();
}
