using DiffPriv.Layers;
using DiffPriv.Tests.PerSample;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Layers;

/// <summary>DpRmsNorm against independent oracles: TorchSharp's LayerNorm on zero-mean inputs, and PyTorch's default eps.</summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class DpRmsNormTests
{
    public DpRmsNormTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(ScalarType.Float32, 1e-6)]
    [InlineData(ScalarType.Float64, 1e-12)]
    public void OnZeroMeanInputsItIsLayerNormWithTheSameWeight(ScalarType dtype, double tolerance)
    {
        // mean(x²) is the variance when the mean is zero, so RMSNorm and LayerNorm (no bias) must agree, over 1 and 2 axes.
        using var scope = torch.NewDisposeScope();
        var g = new Generator(5);
        foreach (var shape in new[] { new long[] { 8 }, [2, 4] })
        {
            var x = torch.randn([3, 5, .. shape], generator: g).to(dtype);
            var dims = Enumerable.Range(1, shape.Length).Select(i => (long)-i).ToArray();
            x = x.sub(x.mean(dims, keepdim: true));
            var rms = new DpRmsNorm(shape, eps: 1e-3, dtype: dtype);
            var layerNorm = nn.LayerNorm(shape, eps: 1e-3, bias: false, dtype: dtype);
            using (torch.no_grad())
            {
                rms.Weight!.copy_(torch.randn(shape, generator: g).to(dtype));
                layerNorm.weight!.copy_(rms.Weight);
            }

            var difference = rms.call(x).sub(layerNorm.call(x)).abs().max().to(ScalarType.Float64).item<double>();
            Assert.True(difference < tolerance, $"[{string.Join(", ", shape)}] {dtype}: max difference {difference:E2}");
            Assert.Equal(x.shape, rms.call(x).shape);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1e-4, 1.1920928955078125e-07)]
    [InlineData(ScalarType.Float64, 1e-9, 2.220446049250313e-16)]
    public void DefaultEpsIsTheMachineEpsilonOfTheType(ScalarType dtype, double value, double machineEpsilon)
    {
        // mean(x²) = value² is of the order of eps, so the output shows which eps was added (1e-6 would give ≈ 0.1 or 1e-3).
        using var scope = torch.NewDisposeScope();
        var x = torch.full([2, 4], value, dtype: dtype);
        var y = new DpRmsNorm([4], dtype: dtype).call(x);
        var expected = value / Math.Sqrt((value * value) + machineEpsilon);
        var actual = y[0, 0].to(ScalarType.Float64).item<double>();
        var relative = Math.Abs(actual - expected) / expected;
        Assert.True(relative < 1e-5, $"{dtype}: y = {actual}, expected {expected}");
        Assert.Null(new DpRmsNorm([4]).Eps);
    }

    [Fact]
    public void WithoutAffineThereIsNoParameterAndTheOutputHasUnitRms()
    {
        using var scope = torch.NewDisposeScope();
        var norm = new DpRmsNorm([6], eps: 0, elementwiseAffine: false, dtype: ScalarType.Float64);
        Assert.Empty(norm.parameters());
        Assert.Null(norm.Weight);
        var y = norm.call(torch.randn([4, 6], dtype: ScalarType.Float64).mul(7));
        var rms = y.square().mean([-1L]).sqrt();
        Assert.True(rms.sub(1).abs().max().item<double>() < 1e-12);
    }

    [Fact]
    public void WeightIsNamedAsInPyTorchAndStartsAtOne()
    {
        using var scope = torch.NewDisposeScope();
        var norm = new DpRmsNorm([2, 3]);
        var (name, weight) = Assert.Single(norm.named_parameters());
        Assert.Equal("weight", name);
        Assert.Equal([2L, 3L], weight.shape);
        Assert.True(weight.eq(1).all().item<bool>());
    }

    [Fact]
    public void WrongShapesAndOptionsAreRefused()
    {
        using var scope = torch.NewDisposeScope();
        var norm = new DpRmsNorm([4]);
        var error = Assert.Throws<ArgumentException>(() => norm.call(torch.ones(2, 5)));
        Assert.Contains("[4]", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new DpRmsNorm([]));
        Assert.Throws<ArgumentException>(() => new DpRmsNorm([0]));
        Assert.Throws<ArgumentException>(() => new DpRmsNorm([4], eps: -1));
        Assert.Throws<ArgumentException>(() => new DpRmsNorm([4], eps: double.NaN));
    }
}
