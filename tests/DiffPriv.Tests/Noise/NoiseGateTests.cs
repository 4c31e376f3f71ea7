using DiffPriv.Noise;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Noise;

public sealed class NoiseGateTests
{
    public static TheoryData<bool> Modes() => [true, false];

    private static NoiseGate Create(bool secure) => secure ? NoiseGate.CreateSecure() : NoiseGate.CreateSeeded(1234);

    [Theory]
    [MemberData(nameof(Modes))]
    public void GaussianHasTheRequestedMeanAndStandardDeviation(bool secure)
    {
        // n = 200 000 draws of N(0, 2.5²). Standard errors: mean 2.5/√n ≈ 0.0056; std ≈ 2.5/√(2n) ≈ 0.0040.
        // Accept within 4 standard errors (a false alarm has probability ≈ 6e-5 per check).
        using var gate = Create(secure);
        using var scope = torch.NewDisposeScope();
        const int N = 200_000;
        const double Std = 2.5;
        var x = gate.Gaussian([N], Std, ScalarType.Float64);
        Assert.Equal([N], x.shape);
        var mean = x.mean().item<double>();
        var std = x.std().item<double>();
        Assert.InRange(mean, -4 * Std / Math.Sqrt(N), 4 * Std / Math.Sqrt(N));
        Assert.InRange(std, Std - (4 * Std / Math.Sqrt(2.0 * N)), Std + (4 * Std / Math.Sqrt(2.0 * N)));
        // Tails: P(|z| > 3) = 0.0026998; binomial standard error √(p(1−p)/n) ≈ 1.16e-4.
        var tail = (x.abs() > 3 * Std).to(ScalarType.Float64).mean().item<double>();
        Assert.InRange(tail, 0.0026998 - (4 * 1.16e-4), 0.0026998 + (4 * 1.16e-4));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void ResultHasTheRequestedShapeAndType(bool secure)
    {
        using var gate = Create(secure);
        using var scope = torch.NewDisposeScope();
        var x = gate.Gaussian([3, 5, 7], 1.0);
        Assert.Equal([3L, 5, 7], x.shape);
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.Equal(0.0, gate.Gaussian([4], 0.0).abs().sum().item<float>());
        Assert.Equal([0L], gate.Gaussian([0], 1.0).shape);
    }

    [Fact]
    public void SeededGateIsReproducibleAndStateRoundTrips()
    {
        using var a = NoiseGate.CreateSeeded(42);
        using var b = NoiseGate.CreateSeeded(42);
        using var scope = torch.NewDisposeScope();
        Assert.True(a.Gaussian([100], 1.0).equal(b.Gaussian([100], 1.0)).all().item<bool>());
        var state = a.GetState();
        Assert.NotNull(state);
        var next = a.Gaussian([50], 1.0);
        a.SetState(state);
        Assert.True(next.equal(a.Gaussian([50], 1.0)).all().item<bool>());
        Assert.False(a.IsSecure);
        Assert.Equal(42, a.Seed);
    }

    [Fact]
    public void SecureGateIsNotReproducibleAndHasNoState()
    {
        using var a = NoiseGate.CreateSecure();
        using var b = NoiseGate.CreateSecure();
        using var scope = torch.NewDisposeScope();
        Assert.False(a.Gaussian([100], 1.0).equal(b.Gaussian([100], 1.0)).all().item<bool>());
        Assert.True(a.IsSecure);
        Assert.Null(a.GetState());
        Assert.Throws<InvalidOperationException>(() => a.SetState([1, 2, 3]));
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void InvalidStandardDeviationIsRejected(double std)
    {
        using var gate = NoiseGate.CreateSeeded(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => gate.Gaussian([3], std));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void PermutationHoldsEveryIndexOnceAndIsUniformOverPositions(bool secure)
    {
        // 20 000 permutations of 5: each index lands in each position with probability 1/5; binomial standard error
        // √(0.2·0.8/20 000) ≈ 0.0028, accept 4 of them.
        using var gate = Create(secure);
        using var scope = torch.NewDisposeScope();
        const int Draws = 20_000;
        var counts = new int[5, 5];
        for (var i = 0; i < Draws; i++)
        {
            var order = gate.Permutation(5).data<long>().ToArray();
            Assert.Equal([0L, 1, 2, 3, 4], order.Order());
            for (var position = 0; position < 5; position++)
            {
                counts[order[position], position]++;
            }
        }

        foreach (var count in counts)
        {
            Assert.InRange(count / (double)Draws, 0.2 - (4 * 0.0028), 0.2 + (4 * 0.0028));
        }

        Assert.Equal([0L], gate.Permutation(0).shape);
    }

    [Fact]
    public void SeededPermutationsReplay()
    {
        using var a = NoiseGate.CreateSeeded(9);
        using var b = NoiseGate.CreateSeeded(9);
        using var scope = torch.NewDisposeScope();
        using var other = NoiseGate.CreateSeeded(10);
        var first = a.Permutation(1000);
        Assert.True(first.equal(b.Permutation(1000)).all().item<bool>());
        Assert.False(first.equal(other.Permutation(1000)).all().item<bool>());
    }

    [Fact]
    public void SeededAddGaussiansReplaysGaussiansPlusTheValue()
    {
        // Reproducibility of seeded runs: the release is exactly the noise of Gaussians (same stream) plus the value.
        using var a = NoiseGate.CreateSeeded(42);
        using var b = NoiseGate.CreateSeeded(42);
        using var scope = torch.NewDisposeScope();
        var value = torch.linspace(-3, 5, 60).reshape(6, 10);
        var released = a.AddGaussians([(value, [6L, 10], ScalarType.Float32, null), (null, [7L], ScalarType.Float64, null)], 1.3);
        var noise = b.Gaussians([([6L, 10], ScalarType.Float32, null), ([7L], ScalarType.Float64, null)], 1.3);
        Assert.True(released[0].equal(noise[0].add_(value)).all().item<bool>());
        Assert.True(released[1].equal(noise[1]).all().item<bool>());
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.BFloat16)]
    public void SecureAddGaussiansReleasesTheValuePlusNoiseOnTheGrid(ScalarType type)
    {
        // n = 100 000 coordinates of value + N(0, 0.75²) with value = 0.37 + i·1e-5 (not on the grid). The grid is
        // 2^(⌊log2 0.75⌋ − 12) = 2⁻¹³. The residual r = release − value has mean 0 (standard error 0.75/√n ≈ 0.0024) and std
        // 0.75 (standard error 0.75/√(2n) ≈ 0.0017); accept 4 standard errors (bfloat16 rounds to 8 bits: the check
        // there is the type and the grid only).
        using var gate = NoiseGate.CreateSecure();
        using var scope = torch.NewDisposeScope();
        const int N = 100_000;
        const double Std = 0.75;
        var value = torch.arange(N, dtype: ScalarType.Float64).mul_(1e-5).add_(0.37).to(ScalarType.Float32).reshape(100, 1000);
        var release = gate.AddGaussians([(value, [100L, 1000], type, null)], Std)[0];
        Assert.Equal([100L, 1000], release.shape);
        Assert.Equal(type, release.dtype);
        var onGrid = release.to(ScalarType.Float64).mul(8192.0);
        Assert.True(onGrid.equal(onGrid.round()).all().item<bool>(), "release off the 2^-13 grid");
        if (type != ScalarType.BFloat16)
        {
            var residual = release.to(ScalarType.Float64) - value.to(ScalarType.Float64);
            Assert.InRange(residual.mean().item<double>(), -4 * Std / Math.Sqrt(N), 4 * Std / Math.Sqrt(N));
            Assert.InRange(residual.std().item<double>(), Std - (4 * Std / Math.Sqrt(2.0 * N)), Std + (4 * Std / Math.Sqrt(2.0 * N)));
        }
    }

    [Fact]
    public void SecureAddGaussiansWithoutNoiseReturnsTheValueAndPureNoiseIsCentred()
    {
        using var gate = NoiseGate.CreateSecure();
        using var scope = torch.NewDisposeScope();
        var value = torch.tensor(new[] { 0.1f, -2.5f, 3e-7f });
        var results = gate.AddGaussians([(value, [3L], ScalarType.Float32, null), (null, [2L, 2], ScalarType.Float64, null)], 0.0);
        Assert.True(results[0].equal(value).all().item<bool>());
        Assert.False(ReferenceEquals(results[0], value));
        Assert.Equal(0.0, results[1].abs().sum().item<double>());
        var noise = gate.AddGaussians([(null, [20_000L], ScalarType.Float64, null)], 1.0)[0];
        Assert.InRange(noise.mean().item<double>(), -4 / Math.Sqrt(20_000), 4 / Math.Sqrt(20_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => gate.AddGaussians([(value, [3L], ScalarType.Float32, null)], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => gate.AddGaussians([(value, [3L], ScalarType.Float32, null)], 1e-300));
        var tiny = gate.AddGaussians([(value, [3L], ScalarType.Float64, null)], 1e-150)[0];
        Assert.True(tiny.isfinite().all().item<bool>());
    }
}
