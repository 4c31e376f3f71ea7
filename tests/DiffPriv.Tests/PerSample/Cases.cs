using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.PerSample;

internal static class Cases
{
    public static readonly string[] LayerCaseNames =
    [
        "linear-2d", "linear-3d", "linear-twice", "conv1d", "conv2d", "conv-same-reflect", "embedding", "embedding-padding",
        "embedding-wide", "layernorm", "layernorm-no-bias", "groupnorm", "groupnorm-frozen-bias", "mnist-cnn",
    ];

    public static Case Make(string name, ScalarType dtype = ScalarType.Float64, long seed = 7, long batch = 8)
    {
        torch.manual_seed(seed);
        var g = new Generator((ulong)seed);
        nn.Module model;
        Tensor x;
        switch (name)
        {
            case "linear-2d":
                model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3));
                x = torch.randn([batch, 6], generator: g);
                break;
            case "linear-3d":
                model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3));
                x = torch.randn([batch, 4, 6], generator: g);
                break;
            case "linear-twice":
                model = new TwiceLinear(5, 2);
                x = torch.randn([batch, 3, 5], generator: g);
                break;
            case "conv1d":
                model = nn.Sequential(
                    nn.Conv1d(3, 4, 3, stride: 2, padding: 1, dilation: 2),
                    nn.Tanh(),
                    nn.Conv1d(4, 6, 2, groups: 2, bias: false),
                    nn.Flatten(),
                    nn.Linear(30, 2));
                x = torch.randn([batch, 3, 13], generator: g);
                break;
            case "conv2d":
                model = nn.Sequential(
                    nn.Conv2d(4, 6, 3, stride: 2, padding: 1, groups: 2),
                    nn.Tanh(),
                    nn.Conv2d(6, 4, 2, dilation: 2, bias: false),
                    nn.Flatten(),
                    nn.Linear(36, 2));
                x = torch.randn([batch, 4, 9, 9], generator: g);
                break;
            case "conv-same-reflect":
                model = nn.Sequential(
                    nn.Conv2d(2, 3, 4, Padding.Same),
                    nn.Tanh(),
                    nn.Conv2d(3, 2, 3, padding: 1, padding_mode: PaddingModes.Reflect),
                    nn.Tanh(),
                    nn.Flatten(2),
                    nn.Conv1d(2, 2, 3, padding: 2, padding_mode: PaddingModes.Circular),
                    nn.Flatten());
                x = torch.randn([batch, 2, 5, 6], generator: g);
                break;
            case "conv-chunked":
                // Large enough that the materialising conv sampler unfolds the batch in several chunks (float64 columns:
                // 64·64·3·9·8 B = 885 KB per example for the first layer, 4 MiB per chunk, so 4 examples per chunk).
                model = nn.Sequential(
                    nn.Conv2d(3, 6, 3, padding: 1, groups: 3),
                    nn.Tanh(),
                    nn.Conv2d(6, 2, 3, stride: 2),
                    nn.Flatten(),
                    nn.Linear(2 * 31 * 31, 2));
                x = torch.randn([batch, 3, 64, 64], generator: g);
                break;
            case "embedding":
            case "embedding-padding":
                model = nn.Sequential(
                    nn.Embedding(5, 3, padding_idx: name == "embedding-padding" ? 2 : null),
                    nn.Tanh(),
                    nn.Linear(3, 2));
                x = torch.randint(0, 5, [batch, 6], generator: g, dtype: ScalarType.Int64);
                break;
            case "embedding-wide":
                // More rows than positions (Auto takes the touched-rows path); position 3 repeats position 0's id.
                model = nn.Sequential(nn.Embedding(40, 3), nn.Tanh(), nn.Linear(3, 2));
                x = torch.randint(0, 40, [batch, 6], generator: g, dtype: ScalarType.Int64);
                x[TensorIndex.Colon, 3] = x[TensorIndex.Colon, 0];
                break;
            case "layernorm":
            case "layernorm-no-bias":
                model = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8, bias: name == "layernorm"), nn.Linear(8, 2));
                x = torch.randn([batch, 3, 6], generator: g);
                break;
            case "groupnorm":
            case "groupnorm-frozen-bias":
                var gn = nn.GroupNorm(3, 6);
                using (torch.no_grad())
                {
                    // TorchSharp 0.107 leaves GroupNorm's affine parameters uninitialised (garbage, sometimes NaN).
                    gn.weight!.fill_(1.0);
                    gn.bias!.zero_();
                }

                model = nn.Sequential(nn.Conv2d(2, 6, 3), gn, nn.Tanh(), nn.Flatten(), nn.Linear(54, 2));
                if (name == "groupnorm-frozen-bias")
                {
                    gn.bias!.requires_grad = false;
                }

                x = torch.randn([batch, 2, 5, 5], generator: g);
                break;
            case "mnist-cnn":
                model = DiffPriv.Models.ModelZoo.MnistCnn(DiffPriv.Models.Activation.Tanh); // the shipped tutorial CNN
                x = torch.randn([batch, 1, 28, 28], generator: g);
                break;
            default:
                throw new ArgumentException(name, nameof(name));
        }

        model.to(dtype);
        if (x.is_floating_point())
        {
            x = x.to(dtype);
        }

        // LayerNorm/GroupNorm start at weight 1, bias 0: perturb so that their gradients are generic.
        using (torch.no_grad())
        {
            foreach (var (_, p) in model.named_parameters())
            {
                p.add_(torch.randn(p.shape, generator: g).to(p.dtype).mul(0.1));
            }
        }

        return new Case(name, model, x.DetachFromDisposeScope());
    }
}
