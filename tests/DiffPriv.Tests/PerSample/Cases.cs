using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.PerSample;

internal static class Cases
{
    public static readonly string[] LayerCaseNames =
    [
        "linear-2d", "linear-3d", "linear-twice", "conv1d", "conv2d", "conv-same-reflect", "embedding", "embedding-padding",
        "embedding-wide", "layernorm", "layernorm-no-bias", "groupnorm", "groupnorm-frozen-bias", "mnist-cnn",
        "conv3d", "conv3d-same-padding-modes", "conv3d-frozen-bias", "instancenorm1d", "instancenorm2d", "instancenorm3d-frozen-bias",
        "rmsnorm", "rmsnorm-2d-eps", "rmsnorm-frozen", "embeddingbag-sum", "embeddingbag-mean-padding", "embeddingbag-wide",
    ];

    /// <summary>
    /// Bags [8, 5] over 7 ids with padding id 2: ids repeat within bags and across the bags of every pair (so of every
    /// microbatch), row 2 has two padding entries and row 6 is all padding (its mean is zero, its gradient too).
    /// </summary>
    private static readonly long[,] BagIds =
    {
        { 0, 1, 2, 3, 4 },
        { 4, 5, 1, 6, 6 },
        { 2, 2, 3, 0, 5 },
        { 6, 0, 3, 1, 1 },
        { 5, 4, 4, 3, 0 },
        { 3, 5, 6, 0, 0 },
        { 2, 2, 2, 2, 2 },
        { 0, 4, 5, 1, 2 },
    };

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
            case "conv3d":
            case "conv3d-frozen-bias":
                // Anisotropic kernel, stride, padding and dilation, groups, a second layer without bias and circular padding.
                var conv3 = nn.Conv3d(4, 6, (3, 2, 3), stride: (2, 1, 2), padding: (1, 0, 1), dilation: (1, 2, 1), groups: 2);
                model = nn.Sequential(
                    conv3,
                    nn.Tanh(),
                    nn.Conv3d(6, 4, 2, padding: 1, padding_mode: PaddingModes.Circular, bias: false),
                    nn.Flatten(),
                    nn.Linear(4 * 4 * 5 * 5, 2));
                if (name == "conv3d-frozen-bias")
                {
                    conv3.bias!.requires_grad = false;
                }

                x = torch.randn([batch, 4, 5, 6, 7], generator: g);
                break;
            case "conv3d-same-padding-modes":
                model = nn.Sequential(
                    nn.Conv3d(2, 3, 2, Padding.Same, padding_mode: PaddingModes.Replicate),
                    nn.Tanh(),
                    nn.Conv3d(3, 2, (1, 3, 3), padding: (0, 1, 1), padding_mode: PaddingModes.Reflect),
                    nn.Flatten());
                x = torch.randn([batch, 2, 3, 4, 5], generator: g);
                break;
            case "instancenorm1d":
                model = nn.Sequential(nn.Conv1d(2, 4, 3), nn.InstanceNorm1d(4, affine: true), nn.Tanh(), nn.Flatten(), nn.Linear(28, 2));
                x = torch.randn([batch, 2, 9], generator: g);
                break;
            case "instancenorm2d":
                model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.InstanceNorm2d(4, affine: true), nn.Tanh(), nn.Flatten(), nn.Linear(48, 2));
                x = torch.randn([batch, 2, 5, 6], generator: g);
                break;
            case "instancenorm3d-frozen-bias":
                var in3 = nn.InstanceNorm3d(3, affine: true);
                in3.bias!.requires_grad = false;
                model = nn.Sequential(nn.Conv3d(2, 3, 2), in3, nn.Tanh(), nn.Flatten(), nn.Linear(3 * 2 * 3 * 3, 2));
                x = torch.randn([batch, 2, 3, 4, 4], generator: g);
                break;
            case "rmsnorm":
            case "rmsnorm-frozen":
                var rms = new DiffPriv.Layers.DpRmsNorm([8]);
                model = nn.Sequential(nn.Linear(6, 8), rms, nn.Linear(8, 2));
                if (name == "rmsnorm-frozen")
                {
                    rms.Weight!.requires_grad = false;
                }

                x = torch.randn([batch, 3, 6], generator: g);
                break;
            case "rmsnorm-2d-eps":
                model = nn.Sequential(
                    nn.Linear(6, 8),
                    nn.Unflatten(2, [2, 4]),
                    new DiffPriv.Layers.DpRmsNorm([2, 4], eps: 1e-3),
                    nn.Flatten(2),
                    nn.Linear(8, 2));
                x = torch.randn([batch, 3, 6], generator: g);
                break;
            case "embeddingbag-sum":
                model = nn.Sequential(new DiffPriv.Layers.DpEmbeddingBag(5, 3, EmbeddingBagMode.Sum), nn.Tanh(), nn.Linear(3, 2));
                x = torch.randint(0, 5, [batch, 6], generator: g, dtype: ScalarType.Int64);
                break;
            case "embeddingbag-mean-padding":
                model = nn.Sequential(new DiffPriv.Layers.DpEmbeddingBag(7, 3, EmbeddingBagMode.Mean, paddingIndex: 2), nn.Tanh(), nn.Linear(3, 2));
                x = torch.tensor(BagIds, dtype: ScalarType.Int64).narrow(0, 0, batch);
                break;
            case "embeddingbag-wide":
                // More rows than positions: Auto takes the touched-rows path.
                model = nn.Sequential(new DiffPriv.Layers.DpEmbeddingBag(40, 3, EmbeddingBagMode.Mean), nn.Tanh(), nn.Linear(3, 2));
                x = torch.randint(0, 40, [batch, 6], generator: g, dtype: ScalarType.Int64);
                x[TensorIndex.Colon, 3] = x[TensorIndex.Colon, 0];
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
