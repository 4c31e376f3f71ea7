using DiffPriv.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

/// <summary>
/// A model with two inputs: an image-like tensor [k, 1, 4, 4] through a Conv2d and a Linear, and a side-feature vector
/// [k, 3] through a Linear; the sum goes through a Linear head to 2 classes. Its weights come from a private generator,
/// so two instances built with the same seed are identical whatever other tests do with the global generator.
/// </summary>
internal sealed class TwoInputNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Conv2d _conv;
    private readonly Linear _image;
    private readonly Linear _side;
    private readonly Linear _head;

    public TwoInputNet(long seed) : base(nameof(TwoInputNet))
    {
        _conv = nn.Conv2d(1, 2, 3);
        _image = nn.Linear(8, 6);
        _side = nn.Linear(3, 6);
        _head = nn.Linear(6, 2);
        RegisterComponents();
        using var scope = torch.NewDisposeScope();
        using var gen = new Generator((ulong)seed);
        using (torch.no_grad())
        {
            foreach (var p in parameters())
            {
                p.copy_(torch.randn(p.shape, generator: gen).mul_(0.3));
            }
        }
    }

    public override Tensor forward(Tensor image, Tensor side) =>
        _head.call(_image.call(_conv.call(image).tanh().flatten(1)).add(_side.call(side)).tanh());
}

/// <summary>Dictionary data for <see cref="TwoInputNet"/> and a per-example-loop oracle of the clipped sum.</summary>
internal static class DropInFixtures
{
    public const string Image = "image";
    public const string Side = "side";
    public const string Label = "label";

    /// <summary>N examples: "image" [N, 1, 4, 4], "side" [N, 3], "label" [N] (int64, 2 classes).</summary>
    public static Dictionary<string, Tensor> TwoInputData(long n, long seed)
    {
        using var gen = new Generator((ulong)seed);
        return new Dictionary<string, Tensor>
        {
            [Image] = torch.randn([n, 1, 4, 4], generator: gen),
            [Side] = torch.randn([n, 3], generator: gen),
            [Label] = torch.randint(0, 2, [n], generator: gen, dtype: ScalarType.Int64),
        };
    }

    /// <summary>
    /// A lazy TorchSharp data set over <paramref name="columns"/>: example i is row i of every column; every read index is
    /// appended to <paramref name="reads"/> (when given).
    /// </summary>
    public static utils.data.Dataset LazyDataset(Dictionary<string, Tensor> columns, List<long>? reads = null) =>
        IndexedDataset.Create(columns.Values.First().shape[0], i =>
        {
            reads?.Add(i);
            return columns.ToDictionary(kv => kv.Key, kv => kv.Value[i]);
        });

    /// <summary>ℓ_i = cross-entropy of example i (reduction none) for a dictionary batch.</summary>
    public static Tensor PerExampleLoss(TwoInputNet model, IReadOnlyDictionary<string, Tensor> batch) =>
        nn.functional.cross_entropy(model.call(batch[Image], batch[Side]), batch[Label], reduction: nn.Reduction.None);

    /// <summary>
    /// The oracle: for each index, the ordinary gradient of that one example's loss (one backward per example), its L2
    /// norm over all parameters, the clip factor min(1, C / (‖g‖ + 1e-6)) and the sum of the clipped gradients, in float64,
    /// keyed by parameter name. <paramref name="reference"/> must not be hooked.
    /// </summary>
    public static (Dictionary<string, Tensor> ClippedSum, double[] Norms) ClippedSumOracle(
        TwoInputNet reference, Dictionary<string, Tensor> data, IReadOnlyList<long> indices, double maxGradNorm)
    {
        var parameters = reference.named_parameters().ToList();
        var sums = parameters.ToDictionary(p => p.name, p => torch.zeros(p.parameter.shape, dtype: ScalarType.Float64));
        var norms = new double[indices.Count];
        for (var j = 0; j < indices.Count; j++)
        {
            foreach (var (_, p) in parameters)
            {
                p.grad = null;
            }

            var example = data.ToDictionary(kv => kv.Key, kv => kv.Value.narrow(0, indices[j], 1));
            PerExampleLoss(reference, example).sum().backward();
            var grads = parameters.ToDictionary(p => p.name, p => p.parameter.grad!.detach().to(ScalarType.Float64));
            norms[j] = Math.Sqrt(grads.Values.Sum(g => g.square().sum().item<double>()));
            var factor = Math.Min(1.0, maxGradNorm / (norms[j] + 1e-6));
            foreach (var (name, g) in grads)
            {
                sums[name].add_(g.mul(factor));
            }
        }

        foreach (var (_, p) in parameters)
        {
            p.grad = null;
        }

        return (sums, norms);
    }

    /// <summary>Parameter name → detached float64 copy.</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float64).clone());

    /// <summary>‖a − b‖ / ‖b‖ for one tensor.</summary>
    public static double RelativeError(Tensor actual, Tensor expected) =>
        actual.to(ScalarType.Float64).sub(expected.to(ScalarType.Float64)).norm().item<double>() / expected.to(ScalarType.Float64).norm().item<double>();
}
