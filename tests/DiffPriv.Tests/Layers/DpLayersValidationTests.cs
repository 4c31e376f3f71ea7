using DiffPriv.Layers;
using DiffPriv.PerSample;
using DiffPriv.Tests.PerSample;
using DiffPriv.Validation;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Layers;

/// <summary>
/// What is refused around the new layers: InstanceNorm with running statistics (checked against what TorchSharp's forward
/// does with them), nn.EmbeddingBag (pointed to DpEmbeddingBag), and inputs without a batch axis.
/// </summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class DpLayersValidationTests
{
    public DpLayersValidationTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void TorchSharpInstanceNormWithRunningStatsPoolsTheBatchAndUsesThePoolInEvaluation()
    {
        // The reason for the refusal, measured: a training forward moves running_mean by the batch mean of the instance
        // means, and an evaluation forward normalises with the buffers (its output is no longer per-instance).
        using var scope = torch.NewDisposeScope();
        var norm = nn.InstanceNorm1d(2, affine: true, track_running_stats: true);
        var x = torch.randn([4, 2, 5], generator: new Generator(3)).add(3);
        var training = norm.call(x);
        var momentum = 0.1;
        var expected = x.mean([2L]).mean([0L]).mul(momentum);
        Assert.True(norm.running_mean!.sub(expected).abs().max().item<float>() < 1e-5);
        norm.eval();
        var evaluation = norm.call(x);
        Assert.True(evaluation.sub(training).abs().max().item<float>() > 0.5);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void InstanceNormWithRunningStatsIsRefused(bool affine)
    {
        using var scope = torch.NewDisposeScope();
        var model = nn.Sequential(("conv", nn.Conv2d(2, 4, 3)), ("norm", nn.InstanceNorm2d(4, affine: affine, track_running_stats: true)));
        var problem = Assert.Single(ModuleValidator.Validate(model));
        Assert.Equal("norm", problem.ModulePath);
        Assert.Contains("running statistics", problem.Problem, StringComparison.Ordinal);
        Assert.Contains("track_running_stats = false", problem.Fix, StringComparison.Ordinal);
        if (affine)
        {
            // Used directly, the hooks refuse the layer too.
            var error = Assert.Throws<UnsupportedLayerException>(() => new GradSampleHooks(model, GradSamplerRegistry.Default));
            Assert.Equal("norm", error.ModulePath);
            Assert.Contains("track_running_stats", error.Message, StringComparison.Ordinal);
        }

        var fine = nn.Sequential(("conv", nn.Conv2d(2, 4, 3)), ("norm", nn.InstanceNorm2d(4, affine: affine)));
        Assert.Empty(ModuleValidator.Validate(fine));
        using var hooks = new GradSampleHooks(fine, GradSamplerRegistry.Default);
        Assert.Equal(affine ? ["conv", "norm"] : ["conv"], hooks.LayerPaths);
    }

    [Fact]
    public void NnEmbeddingBagIsReportedWithDpEmbeddingBagAsTheWayOut()
    {
        using var scope = torch.NewDisposeScope();
        var model = new BagHolder(nn.EmbeddingBag(10, 4, mode: EmbeddingBagMode.Sum));
        var problem = Assert.Single(ModuleValidator.Validate(model));
        Assert.Equal("bag", problem.ModulePath);
        Assert.Contains("offsets", problem.Problem, StringComparison.Ordinal);
        Assert.Contains("DpEmbeddingBag", problem.Fix, StringComparison.Ordinal);
        Assert.Throws<InvalidModuleException>(() => ModuleValidator.ThrowIfInvalid(model));

        // Frozen, it needs no per-example gradient.
        foreach (var p in model.parameters())
        {
            p.requires_grad = false;
        }

        Assert.Empty(ModuleValidator.Validate(model));
        Assert.Empty(ModuleValidator.Validate(nn.Sequential(new DpEmbeddingBag(10, 4), new DpRmsNorm([4]), nn.Conv3d(1, 1, 1))));
    }

    [Fact]
    public void UnbatchedInstanceNormInputIsRefusedAtClipAndSum()
    {
        // InstanceNorm1d reads a 2-d input as one unbatched example [C, L]; the hooks would take C for the batch axis.
        using var scope = torch.NewDisposeScope();
        var norm = nn.InstanceNorm1d(3, affine: true);
        using var hooks = new GradSampleHooks(norm, GradSamplerRegistry.Default);
        using var step = hooks.BeginStep();
        var output = norm.call(torch.randn(3, 5));
        var error = Assert.Throws<ArgumentException>(() => hooks.ClipAndSum(output.square().sum(1), 1.0));
        Assert.Contains("batched 3-d input", error.Message, StringComparison.Ordinal);
    }

    private sealed class BagHolder : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.EmbeddingBag _bag;

        public BagHolder(TorchSharp.Modules.EmbeddingBag bag) : base(nameof(BagHolder))
        {
            _bag = bag;
            register_module("bag", _bag);
        }

        public override Tensor forward(Tensor input) => _bag.call(input);
    }
}
