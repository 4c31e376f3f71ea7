using DiffPriv.PerSample;
using DiffPriv.Queries;
using TorchSharp;
using static DiffPriv.Tests.PerSample.PerSampleHarness;

namespace DiffPriv.Tests.PerSample;

/// <summary>
/// Automatic clipping (Bu et al. 2023, AUTO-S): every per-example gradient g becomes g·C/(‖g‖ + γ). The engine matches the
/// per-example loop, every normalised gradient stays below C whatever the gradients' size (the guarantee the accounting
/// relies on), and the noise is that of a flat clip at C.
/// </summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class AutomaticClippingTests
{
    public AutomaticClippingTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("conv2d", GradSampleMethod.Ghost, 1)]
    [InlineData("linear-twice", GradSampleMethod.Materialize, 3)]
    [InlineData("embedding", GradSampleMethod.Auto, 4)]
    [InlineData("groupnorm", GradSampleMethod.Auto, 5)]
    public void TheEngineEqualsThePerExampleLoopAndEveryFactorIsCOverNormPlusGamma(string name, GradSampleMethod method, long seed)
    {
        using var scope = torch.NewDisposeScope();
        var c = Cases.Make(name, seed: seed, batch: 10);
        var clipping = ClippingOptions.Automatic(scale: 2.0, stabilityConstant: 0.05);
        using var hooks = new GradSampleHooks(c.Model, GradSamplerRegistry.Default, new GradSampleOptions { Method = method });
        var engine = EngineStep(hooks, c, clipping);
        var oracle = OracleStep(c, clipping);
        var error = RelativeError(engine.Gradients, oracle.Gradients);
        Assert.True(error < 1e-6, $"summed normalised gradients differ by {error:G3}");

        var norms = engine.PerExampleNorms.data<double>().ToArray();
        var factors = engine.ClipFactors!.data<double>().ToArray();
        for (var i = 0; i < norms.Length; i++)
        {
            Assert.Equal(2.0 / (norms[i] + 0.05), factors[i], 12);
        }

        // Unlike a flat clip, small gradients are scaled up too: some factor exceeds 1 or every norm is large.
        Assert.True(factors.Any(f => f > 1) || norms.All(n => n > 2.0));
    }

    [Theory]
    [InlineData(1e-4)]
    [InlineData(1.0)]
    [InlineData(1e6)]
    public void EveryNormalisedGradientHasNormBelowC(double inputScale)
    {
        using var scope = torch.NewDisposeScope();
        var c = Cases.Make("linear-twice", seed: 9, batch: 10);
        var scaled = new Case(c.Name, c.Model, c.Input * inputScale);
        var clipping = ClippingOptions.Automatic(scale: 1.5);
        using var hooks = new GradSampleHooks(scaled.Model, GradSamplerRegistry.Default, new GradSampleOptions());
        var factors = EngineStep(hooks, scaled, clipping).ClipFactors!.data<double>().ToArray();
        var perExample = new PerExampleLoopClipper(scaled.Model).PerExampleGradients(scaled.BatchSize, scaled.ExampleLoss);
        for (var i = 0; i < perExample.Count; i++)
        {
            var norm = Math.Sqrt(perExample[i].Values.Sum(g => g.mul(factors[i]).square().sum().item<double>()));
            Assert.True(norm < 1.5, $"example {i}: normalised norm {norm} ≥ C = 1.5 (inputs × {inputScale})");
        }
    }

    [Fact]
    public void TheSensitivityAndTheAccountingAreThoseOfAFlatClipAtC()
    {
        var automatic = new GaussianSumQuery(ClippingOptions.Automatic(scale: 2.0), noiseMultiplier: 1.1);
        var flat = new GaussianSumQuery(ClippingOptions.Flat(2.0), noiseMultiplier: 1.1);
        Assert.Equal(2.0, automatic.Sensitivity);
        Assert.Equal(flat.Sensitivity, automatic.Sensitivity);

        var options = new DpSgdOptions { MaxGradNorm = 2.0, ExpectedBatchSize = 10, AutomaticClipping = true };
        Assert.Equal(ClippingMode.Automatic, options.Clipping.Mode);
        Assert.Equal(2.0, options.Clipping.MaxGradNorm);
        Assert.Equal(ClippingOptions.DefaultStabilityConstant, options.Clipping.StabilityConstant);
        var perLayer = options with { LayerMaxGradNorms = new Dictionary<string, double> { ["0"] = 1.0 } };
        Assert.Contains("AutomaticClipping", Assert.Throws<ArgumentException>(() => perLayer.Validate(100, requireNoiseMultiplier: false)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ClippingOptions.Automatic(scale: double.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => ClippingOptions.Automatic(stabilityConstant: 0));
    }
}
