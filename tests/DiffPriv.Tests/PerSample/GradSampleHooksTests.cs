using DiffPriv.PerSample;
using TorchSharp;
using Xunit.Abstractions;
using static DiffPriv.Tests.PerSample.PerSampleHarness;
using static TorchSharp.torch;

namespace DiffPriv.Tests.PerSample;

/// <summary>The engine against its oracles: the batch-of-one loop (clipped sums, norms) and the ordinary batch gradient (C = ∞).</summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class GradSampleModuleTests
{
    private readonly ITestOutputHelper _output;

    public GradSampleModuleTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    public static TheoryData<string, GradSampleMethod> LayerCases()
    {
        var data = new TheoryData<string, GradSampleMethod>();
        foreach (var name in Cases.LayerCaseNames)
        {
            data.Add(name, GradSampleMethod.Ghost);
            data.Add(name, GradSampleMethod.Materialize);
        }

        // Materialised only: its Gram matrices (64·64 positions squared per example) would take a gigabyte.
        data.Add("conv-chunked", GradSampleMethod.Materialize);
        data.Add("linear-3d", GradSampleMethod.Auto);
        data.Add("embedding-wide", GradSampleMethod.Auto);
        data.Add("mnist-cnn", GradSampleMethod.Auto);
        data.Add("conv3d", GradSampleMethod.Auto);
        data.Add("embeddingbag-wide", GradSampleMethod.Auto);
        data.Add("embeddingbag-sum", GradSampleMethod.Auto);
        return data;
    }

    [Theory]
    [MemberData(nameof(LayerCases))]
    public void ClippedSumEqualsPerExampleLoopAndUnclippedEqualsBatchGradient(string name, GradSampleMethod method)
    {
        var (clipped, unclipped) = CompareWithOracles(name, method, ScalarType.Float64);
        // float64: exact methods agree far below the 1e-5 target; a wrong formula gives O(1).
        Assert.True(clipped < 1e-10, $"{name}/{method}: clipped sum relative error {clipped:E2}");
        Assert.True(unclipped < 1e-10, $"{name}/{method}: C=∞ vs batch gradient relative error {unclipped:E2}");
    }

    [Fact]
    public void ConvChunkedCaseSpansSeveralChunks()
    {
        // The "conv-chunked" case must really split its batch, or it would not test the chunked path: its first
        // layer's float64 columns are 64·64 positions × 3·3·3 × 8 bytes per example.
        var c = Cases.Make("conv-chunked");
        var columnBytesPerExample = 64L * 64 * 27 * sizeof(double);
        var chunk = DiffPriv.PerSample.ConvGradSampler.ColumnBudgetBytes / columnBytesPerExample;
        Assert.Equal(64, c.Input.shape[^1]);
        Assert.InRange(chunk, 1, c.Input.shape[0] - 1);
    }

    [Theory]
    [InlineData(GradSampleMethod.Auto)]
    [InlineData(GradSampleMethod.Ghost)]
    public void Float32MnistCnnMatchesLoop(GradSampleMethod method)
    {
        var (clipped, unclipped) = CompareWithOracles("mnist-cnn", method, ScalarType.Float32);
        Assert.True(clipped < 1e-5, $"float32 clipped sum relative error {clipped:E2}");
        Assert.True(unclipped < 1e-5, $"float32 C=∞ relative error {unclipped:E2}");
    }

    [Theory]
    [InlineData("conv3d")]
    [InlineData("instancenorm2d")]
    [InlineData("rmsnorm")]
    [InlineData("embeddingbag-mean-padding")]
    public void Float32NewLayersMatchLoop(string name)
    {
        var (clipped, unclipped) = CompareWithOracles(name, GradSampleMethod.Auto, ScalarType.Float32);
        Assert.True(clipped < 1e-5, $"{name} float32 clipped sum relative error {clipped:E2}");
        Assert.True(unclipped < 1e-5, $"{name} float32 C=∞ relative error {unclipped:E2}");
    }

    [Theory]
    [InlineData("conv2d", GradSampleMethod.Ghost)]
    [InlineData("conv2d", GradSampleMethod.Materialize)]
    [InlineData("conv3d", GradSampleMethod.Ghost)]
    [InlineData("instancenorm1d", GradSampleMethod.Materialize)]
    [InlineData("rmsnorm-2d-eps", GradSampleMethod.Materialize)]
    [InlineData("embeddingbag-mean-padding", GradSampleMethod.Ghost)]
    [InlineData("embedding", GradSampleMethod.Ghost)]
    [InlineData("layernorm", GradSampleMethod.Materialize)]
    public void PerLayerClippingEqualsPerExampleLoop(string name, GradSampleMethod method)
    {
        using var scope = torch.NewDisposeScope();
        var c = Cases.Make(name);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default, new GradSampleOptions { Method = method });
        var unclipped = EngineStep(gsm, c, ClippingOptions.Flat(double.PositiveInfinity));
        var thresholds = gsm.LayerPaths.ToDictionary(p => p, p => Median(unclipped.LayerNorms[p]));
        var clipping = ClippingOptions.PerLayer(thresholds);
        var engine = EngineStep(gsm, c, clipping);
        var oracle = OracleStep(c, clipping);
        Assert.Null(engine.ClipFactors);
        foreach (var path in gsm.LayerPaths)
        {
            Assert.True(MaxRelativeDifference(engine.LayerNorms[path], oracle.LayerNorms[path]) < 1e-10);
            var clippedCount = engine.LayerClipFactors[path].lt(1.0).sum().item<long>();
            Assert.InRange(clippedCount, 1, c.BatchSize - 1);
        }

        var error = RelativeError(engine.Gradients, oracle.Gradients);
        _output.WriteLine($"per-layer {name}/{method}: relative error {error:E2}");
        Assert.True(error < 1e-10, $"relative error {error:E2}");
    }

    [Fact]
    public void UserRegisteredSamplerIsUsed()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var model = nn.Sequential(("lin", nn.Linear(4, 3)), ("scale", new Scale(3)), ("out", nn.Linear(3, 2))).to(ScalarType.Float64);
        var x = torch.randn([6, 2, 4], dtype: ScalarType.Float64);
        Assert.Throws<UnsupportedLayerException>(() => new GradSampleHooks(model, GradSamplerRegistry.Default));
        Assert.Throws<InvalidOperationException>(() => GradSamplerRegistry.Default.Register<Scale>(new ScaleGradSampler()));

        var registry = GradSamplerRegistry.CreateDefault().Register<Scale>(new ScaleGradSampler());
        using var gsm = new GradSampleHooks(model, registry);
        var c = new Case("scale", model, x);
        var norms = EngineStep(gsm, c, ClippingOptions.Flat(double.PositiveInfinity)).PerExampleNorms;
        var clipping = ClippingOptions.Flat(Median(norms));
        var error = RelativeError(EngineStep(gsm, c, clipping).Gradients, OracleStep(c, clipping).Gradients);
        Assert.True(error < 1e-10, $"relative error {error:E2}");
    }

    [Theory]
    [InlineData("mnist-cnn")]
    [InlineData("linear-twice")]
    [InlineData("embedding")]
    [InlineData("conv3d")]
    public void AutoOverBudgetUsesGramAndStaysExact(string name)
    {
        // Budget 0: every layer with T > 1 takes the Gram (ghost) form where 2T² < p (MNIST conv2, L = 25), else materialises (conv1, L = 196).
        var (clipped, unclipped) = CompareWithOracles(name, GradSampleMethod.Auto, ScalarType.Float64, budgetBytes: 0);
        Assert.True(clipped < 1e-10, $"clipped sum relative error {clipped:E2}");
        Assert.True(unclipped < 1e-10, $"C=∞ relative error {unclipped:E2}");
    }

    private (double Clipped, double Unclipped) CompareWithOracles(string name, GradSampleMethod method, ScalarType dtype, long budgetBytes = 256L << 20)
    {
        using var scope = torch.NewDisposeScope();
        var c = Cases.Make(name, dtype);
        var options = new GradSampleOptions { Method = method, MaterializeBudgetBytes = budgetBytes };
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default, options);

        // C = ∞: the plain batch gradient of Σ ℓ_i.
        var unclipped = EngineStep(gsm, c, ClippingOptions.Flat(double.PositiveInfinity));
        Assert.True(unclipped.ClipFactors!.eq(1.0).all().item<bool>());
        var unclippedError = RelativeError(unclipped.Gradients, BatchGradient(c));

        // C = median norm: about half of the examples are clipped.
        var loopUnclipped = OracleStep(c, ClippingOptions.Flat(double.PositiveInfinity));
        var normError = MaxRelativeDifference(unclipped.PerExampleNorms, loopUnclipped.PerExampleNorms);
        Assert.True(normError < (dtype == ScalarType.Float64 ? 1e-10 : 1e-5), $"per-example norms differ by {normError:E2}");
        var clipping = ClippingOptions.Flat(Median(loopUnclipped.PerExampleNorms));
        var engine = EngineStep(gsm, c, clipping);
        var loop = OracleStep(c, clipping);
        var clippedCount = engine.ClipFactors!.lt(1.0).sum().item<long>();
        Assert.InRange(clippedCount, 1, c.BatchSize - 1);
        var clippedError = RelativeError(engine.Gradients, loop.Gradients);
        _output.WriteLine($"{name} {method} {dtype}: clipped {clippedError:E2}, C=∞ vs batch {unclippedError:E2}, norms {normError:E2}, clipped {clippedCount}/{c.BatchSize}");
        return (clippedError, unclippedError);
    }
}
