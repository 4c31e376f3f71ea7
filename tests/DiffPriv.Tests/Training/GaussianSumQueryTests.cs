using DiffPriv.Accounting.Events;
using DiffPriv.PerSample;
using DiffPriv.Queries;

namespace DiffPriv.Tests.Training;

public sealed class GaussianSumQueryTests
{
    [Fact]
    public void FlatClippingSensitivityIsC()
    {
        var query = new GaussianSumQuery(ClippingOptions.Flat(2.0), 1.5);
        Assert.Equal(2.0, query.Sensitivity);
        Assert.Equal(3.0, query.NoiseStandardDeviation);
    }

    [Fact]
    public void PerLayerSensitivityIsTheNormOfTheThresholds()
    {
        var query = new GaussianSumQuery(ClippingOptions.PerLayer(new Dictionary<string, double> { ["a"] = 3.0, ["b"] = 4.0 }), 2.0);
        Assert.Equal(5.0, query.Sensitivity, 12);
        Assert.Equal(10.0, query.NoiseStandardDeviation, 12);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void NoiseMultiplierMustBePositiveAndFinite(double sigma)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianSumQuery(ClippingOptions.Flat(1.0), sigma));
    }

    [Fact]
    public void UnboundedClippingIsRefused()
    {
        // C = ∞ means unbounded sensitivity: no amount of noise makes that private.
        Assert.Throws<ArgumentException>(() => new GaussianSumQuery(ClippingOptions.Flat(double.PositiveInfinity), 1.0));
    }

    [Fact]
    public void ReleaseEmitsTheGaussianEvent()
    {
        TorchRuntime.EnsureLoaded();
        using var gate = DiffPriv.Noise.NoiseGate.CreateSeeded(1);
        var query = new GaussianSumQuery(ClippingOptions.Flat(1.0), 0.8);
        var parameters = query.DeriveSampleParameters(query.InitialGlobalState(), new DpStepInfo(0, 0.01, 10));
        Assert.Equal(ClippingOptions.Flat(1.0), parameters.RecordClipping);
        using var state = query.InitialSampleState(parameters);
        var shapes = new Dictionary<string, (long[] Shape, TorchSharp.torch.ScalarType Type, TorchSharp.torch.Device Device)>
        {
            ["w"] = ([3, 2], TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU),
        };
        var result = query.GetNoisedResult(state, null, new DpStepInfo(0, 0.01, 10), gate, shapes);
        Assert.Equal(new PoissonSampledDpEvent(0.01, new GaussianDpEvent(0.8)), result.Event);
        Assert.Null(result.GlobalState);
        Assert.Equal(0, state.RecordCount);
        // No records: the release is pure noise, of the requested shape.
        Assert.Equal([3L, 2], result.NoisedSum["w"].shape);
    }

    [Fact]
    public void SecureReleasesLieOnTheSnappingGrid()
    {
        // The DP-SGD release goes through NoiseGate.AddGaussians: with a secure gate, Σ + noise is snapped to the power-of-two
        // grid of the noise std σ·C = 0.8 × 1.5 = 1.2, i.e. 2^(0 − 12), whatever Σ is (here off the grid).
        TorchRuntime.EnsureLoaded();
        using var gate = DiffPriv.Noise.NoiseGate.CreateSecure();
        using var scope = TorchSharp.torch.NewDisposeScope();
        var query = new GaussianSumQuery(ClippingOptions.Flat(1.5), 0.8);
        var parameters = query.DeriveSampleParameters(query.InitialGlobalState(), new DpStepInfo(0, 0.01, 10));
        using var state = query.InitialSampleState(parameters);
        var sum = TorchSharp.torch.linspace(0.1, 0.7, 1000).reshape(100, 10);
        state.Add(new Dictionary<string, TorchSharp.torch.Tensor> { ["w"] = sum }, 3);
        var shapes = new Dictionary<string, (long[] Shape, TorchSharp.torch.ScalarType Type, TorchSharp.torch.Device Device)>
        {
            ["w"] = ([100, 10], TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU),
        };
        var released = query.GetNoisedResult(state, null, new DpStepInfo(0, 0.01, 10), gate, shapes).NoisedSum["w"];
        var units = released.to(TorchSharp.torch.ScalarType.Float64).mul(4096.0);
        Assert.True(units.equal(units.round()).all().item<bool>(), "release off the 2^-12 grid");
        Assert.False(sum.to(TorchSharp.torch.ScalarType.Float64).mul(4096.0).equal(sum.to(TorchSharp.torch.ScalarType.Float64).mul(4096.0).round()).all().item<bool>());
        // And it is Σ plus noise of std 1.2: the residual's std over 1 000 coordinates within 4 standard errors (1.2/√2000).
        var residualStd = (released - sum).std().item<float>();
        Assert.InRange(residualStd, 1.2 - (4 * 1.2 / Math.Sqrt(2000)), 1.2 + (4 * 1.2 / Math.Sqrt(2000)));
    }
}
