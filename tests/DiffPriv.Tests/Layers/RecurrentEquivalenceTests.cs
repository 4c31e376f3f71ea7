using DiffPriv.Layers;
using DiffPriv.Tests.PerSample;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Layers;

/// <summary>
/// DpLstm/DpGru against TorchSharp's fused nn.LSTM/nn.GRU (libtorch's own implementation of PyTorch's equations) with
/// copied weights: outputs, final states and gradients agree to 1e-6.
/// </summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class RecurrentEquivalenceTests
{
    private const long Batch = 3;
    private const long Steps = 5;
    private const long Input = 4;
    private const long Hidden = 6;

    public RecurrentEquivalenceTests() => TorchRuntime.EnsureLoaded();

    public static TheoryData<ScalarType, long, bool> Configurations()
    {
        var data = new TheoryData<ScalarType, long, bool>();
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            foreach (var layers in new long[] { 1, 2 })
            {
                data.Add(dtype, layers, true);
                data.Add(dtype, layers, false);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void DpLstmMatchesFusedLstm(ScalarType dtype, long layers, bool bias)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        var fused = nn.LSTM(Input, Hidden, layers, bias, batchFirst: true, dtype: dtype);
        var dp = DpLstm.FromTorch(fused);
        Assert.Equal(dtype, dp.parameters().First().dtype);
        var x = torch.randn([Batch, Steps, Input], dtype: dtype);

        var (expected, expectedH, expectedC) = fused.call(x, null);
        var (output, h, c) = dp.ForwardWithState(x);
        Assert.Equal(new[] { Batch, Steps, Hidden }, output.shape);
        Assert.Equal(new[] { layers, Batch, Hidden }, h.shape);
        AssertClose(expected, output);
        AssertClose(expectedH, h);
        AssertClose(expectedC, c);
        AssertClose(expected, dp.call(x));

        // With given initial states.
        var h0 = torch.randn([layers, Batch, Hidden], dtype: dtype);
        var c0 = torch.randn([layers, Batch, Hidden], dtype: dtype);
        var (expected2, expectedH2, expectedC2) = fused.call(x, (h0, c0));
        var (output2, h2, c2) = dp.ForwardWithState(x, (h0, c0));
        AssertClose(expected2, output2);
        AssertClose(expectedH2, h2);
        AssertClose(expectedC2, c2);
        Assert.True(expected2.sub(expected).abs().max().to(ScalarType.Float64).item<double>() > 1e-3, "the initial state made no difference: the test could not fail");
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void DpGruMatchesFusedGru(ScalarType dtype, long layers, bool bias)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(12);
        var fused = nn.GRU(Input, Hidden, layers, bias, batchFirst: true, dtype: dtype);
        var dp = DpGru.FromTorch(fused);
        var x = torch.randn([Batch, Steps, Input], dtype: dtype);

        var (expected, expectedH) = fused.call(x, null);
        var (output, h) = dp.ForwardWithState(x);
        Assert.Equal(new[] { Batch, Steps, Hidden }, output.shape);
        AssertClose(expected, output);
        AssertClose(expectedH, h);
        AssertClose(expected, dp.call(x));

        var h0 = torch.randn([layers, Batch, Hidden], dtype: dtype);
        var (expected2, expectedH2) = fused.call(x, h0);
        var (output2, h2) = dp.ForwardWithState(x, h0);
        AssertClose(expected2, output2);
        AssertClose(expectedH2, h2);
    }

    [Fact]
    public void GruResetGateMultipliesTheHiddenBias()
    {
        // Only the hidden-side bias of the n gate: with W = 0 and zero input, PyTorch's n = tanh(b_in + r ⊙ b_hn) with
        // r = σ(b_ir + b_hr) = 1/2; a GRU that adds b_hn outside r (n = tanh(b_in + b_hn + r ⊙ W_hn h)) gives tanh(b_hn).
        using var scope = torch.NewDisposeScope();
        var fused = nn.GRU(1, 1, batchFirst: true, dtype: ScalarType.Float64);
        using (torch.no_grad())
        {
            foreach (var p in fused.parameters())
            {
                p.zero_();
            }

            fused.named_parameters().Single(p => p.name == "bias_hh_l0").parameter[2].fill_(2.0);
        }

        var dp = DpGru.FromTorch(fused);
        var x = torch.zeros([1, 1, 1], dtype: ScalarType.Float64);
        var h = dp.call(x).item<double>();
        // h_1 = (1 − z) n + z h_0 with z = 1/2, h_0 = 0, n = tanh(0.5 · 2).
        Assert.Equal(0.5 * Math.Tanh(1.0), h, 12);
        AssertClose(fused.call(x, null).Item1, dp.call(x));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BidirectionalAndSequenceFirstLayoutsMatch(bool gru)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(13);
        var x = torch.randn([Steps, Batch, Input], dtype: ScalarType.Float64); // [T, B, in]: batchFirst = false
        if (gru)
        {
            var fused = nn.GRU(Input, Hidden, 2, batchFirst: false, bidirectional: true, dtype: ScalarType.Float64);
            var dp = DpGru.FromTorch(fused);
            Assert.False(dp.BatchFirst);
            Assert.True(dp.Bidirectional);
            var (expected, expectedH) = fused.call(x, null);
            var (output, h) = dp.ForwardWithState(x);
            Assert.Equal(new[] { Steps, Batch, 2 * Hidden }, output.shape);
            AssertClose(expected, output);
            AssertClose(expectedH, h);
        }
        else
        {
            var fused = nn.LSTM(Input, Hidden, 2, batchFirst: false, bidirectional: true, dtype: ScalarType.Float64);
            var dp = DpLstm.FromTorch(fused);
            var (expected, expectedH, expectedC) = fused.call(x, null);
            var (output, h, c) = dp.ForwardWithState(x);
            Assert.Equal(new[] { 4L, Batch, Hidden }, h.shape);
            AssertClose(expected, output);
            AssertClose(expectedH, h);
            AssertClose(expectedC, c);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GradientsMatchFusedModule(bool gru)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(14);
        nn.Module fused = gru
            ? nn.GRU(Input, Hidden, 2, batchFirst: true, dtype: ScalarType.Float64)
            : nn.LSTM(Input, Hidden, 2, batchFirst: true, dtype: ScalarType.Float64);
        nn.Module<Tensor, Tensor> dp = gru ? DpGru.FromTorch((GRU)fused) : DpLstm.FromTorch((LSTM)fused);
        var x = torch.randn([Batch, Steps, Input], dtype: ScalarType.Float64);
        var xFused = x.clone().requires_grad_();
        var xDp = x.clone().requires_grad_();
        var weights = torch.randn([Batch, Steps, Hidden], dtype: ScalarType.Float64);
        var fusedOut = gru ? ((GRU)fused).call(xFused, null).Item1 : ((LSTM)fused).call(xFused, null).Item1;
        fusedOut.mul(weights).sum().backward();
        dp.call(xDp).mul(weights).sum().backward();

        AssertClose(xFused.grad!, xDp.grad!);
        var fusedGrads = fused.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
        var dpGrads = dp.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
        Assert.Equal(fusedGrads.Count, dpGrads.Count);
        foreach (var (name, grad) in fusedGrads)
        {
            // weight_ih_l1 → l1.weight_ih, bias_hh_l0 → l0.bias_hh
            var parts = name.Split('_', 3);
            AssertClose(grad, dpGrads[$"{parts[2]}.{parts[0]}_{parts[1]}"]);
        }
    }

    [Fact]
    public void CopyToMovesWeightsIntoTheFusedModule()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(15);
        var dp = new DpLstm(Input, Hidden, 2, dtype: ScalarType.Float64);
        var fused = nn.LSTM(Input, Hidden, 2, batchFirst: true, dtype: ScalarType.Float64);
        var x = torch.randn([Batch, Steps, Input], dtype: ScalarType.Float64);
        Assert.True(fused.call(x, null).Item1.sub(dp.call(x)).abs().max().item<double>() > 1e-3, "independent initialisations agree: the test could not fail");
        dp.CopyTo(fused);
        AssertClose(fused.call(x, null).Item1, dp.call(x));

        var gru = new DpGru(Input, Hidden, dtype: ScalarType.Float64);
        var fusedGru = nn.GRU(Input, Hidden, batchFirst: true, dtype: ScalarType.Float64);
        gru.CopyTo(fusedGru);
        AssertClose(fusedGru.call(x, null).Item1, gru.call(x));
    }

    [Fact]
    public void InitialisationIsUniformInPlusMinusOneOverSqrtH()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(16);
        var dp = new DpLstm(8, 16, 2);
        var bound = 1 / Math.Sqrt(16);
        var all = torch.cat(dp.parameters().Select(p => p.detach().flatten()).ToList(), 0);
        Assert.True(all.abs().max().item<float>() <= bound);
        Assert.True(all.abs().max().item<float>() > 0.95 * bound);
        // Uniform(−a, a) has standard deviation a/√3: the mean of n draws lies within 5 standard errors of 0.
        Assert.InRange(all.mean().item<float>(), -5 * bound / Math.Sqrt(3 * all.shape[0]), 5 * bound / Math.Sqrt(3 * all.shape[0]));
    }

    [Fact]
    public void BadInputsAndSizeMismatchesAreRefusedWithClearMessages()
    {
        using var scope = torch.NewDisposeScope();
        var dp = new DpLstm(Input, Hidden);
        var wrongWidth = Assert.Throws<ArgumentException>(() => dp.call(torch.zeros(Batch, Steps, Input + 1)));
        Assert.Contains("[B, T, input]", wrongWidth.Message);
        Assert.Throws<ArgumentException>(() => dp.call(torch.zeros(Batch, Input)));
        Assert.Throws<ArgumentException>(() => dp.call(torch.zeros(Batch, 0, Input)));
        Assert.Throws<ArgumentException>(() => dp.ForwardWithState(torch.zeros(Batch, Steps, Input), (torch.zeros(1, Batch + 1, Hidden), torch.zeros(1, Batch + 1, Hidden))));
        var mismatch = Assert.Throws<ArgumentException>(() => dp.CopyFrom(nn.LSTM(Input, Hidden + 1, batchFirst: true)));
        Assert.Contains("hidden", mismatch.Message);
        Assert.Throws<ArgumentException>(() => dp.CopyFrom(nn.LSTM(Input, Hidden, 2, batchFirst: true)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpGru(Input, Hidden, dropout: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpGru(Input, 0));
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = expected.to(ScalarType.Float64).sub(actual.to(ScalarType.Float64)).abs().max().item<double>();
        Assert.True(diff <= 1e-6, $"max |difference| {diff:E2} > 1e-6");
    }
}
