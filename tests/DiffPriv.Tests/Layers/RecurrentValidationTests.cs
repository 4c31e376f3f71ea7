using DiffPriv.Layers;
using DiffPriv.Models;
using DiffPriv.PerSample;
using DiffPriv.Tests.PerSample;
using DiffPriv.Validation;
using TorchSharp;
using TorchSharp.Modules;
using static DiffPriv.Tests.PerSample.PerSampleHarness;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Layers;

/// <summary>ModuleValidator on fused recurrent layers: refused with the fix named; Fix swaps in the DP layers with the same function.</summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class RecurrentValidationTests
{
    public RecurrentValidationTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void FusedRecurrentLayersAreReportedWithTheirFix()
    {
        using var scope = torch.NewDisposeScope();
        var lstm = Assert.Single(ModuleValidator.Validate(ModelZoo.CharLstmFused(10, 4, 6)));
        Assert.Equal("lstm", lstm.ModulePath);
        Assert.Contains("DpLstm", lstm.Fix);
        Assert.Contains("ModuleValidator.Fix", lstm.Fix);

        var gru = Assert.Single(ModuleValidator.Validate(new GruHolder(nn.GRU(3, 4, batchFirst: true))));
        Assert.Equal("gru", gru.ModulePath);
        Assert.Contains("DpGru", gru.Fix);

        var rnn = Assert.Single(ModuleValidator.Validate(new RnnHolder(nn.RNN(3, 4, batchFirst: true))));
        Assert.Equal("rnn", rnn.ModulePath);
        Assert.Contains("DpGru or DpLstm", rnn.Fix);

        // A frozen fused layer is fine: no parameter of it needs a per-example gradient.
        var frozen = ModelZoo.CharLstmFused(10, 4, 6);
        foreach (var (name, p) in frozen.named_parameters())
        {
            p.requires_grad = !name.StartsWith("lstm.", StringComparison.Ordinal);
        }

        Assert.Empty(ModuleValidator.Validate(frozen));
        Assert.Empty(ModuleValidator.Validate(ModelZoo.CharLstm(10, 4, 6)));
    }

    [Fact]
    public void FixReplacesTheFusedLstmOfTheCharModelWithTheSameFunctionAndMakesItPrivatelyTrainable()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(31);
        var model = ModelZoo.CharLstmFused(9, 4, 6, numLayers: 2).to(ScalarType.Float64);
        var x = torch.randint(0, 9, [6, 7], dtype: ScalarType.Int64);
        var before = model.call(x);
        Assert.Throws<UnsupportedLayerException>(() => new GradSampleHooks(model, GradSamplerRegistry.Default));

        Assert.Same(model, ModuleValidator.Fix(model));
        var replaced = model.named_children().Single(c => c.name == "lstm").module;
        Assert.IsType<DpLstmDropIn>(replaced);
        Assert.True(((DpLstmDropIn)replaced).BatchFirst);
        Assert.Empty(ModuleValidator.Validate(model));
        var after = model.call(x);
        Assert.True(before.sub(after).abs().max().item<double>() <= 1e-6);
        Assert.Contains("lstm.l1.weight_hh", model.named_parameters().Select(p => p.name));

        // The fixed model trains privately: the engine's clipped sum equals the batch-of-one loop.
        var c = new Case("fixed-char-lstm", model, x);
        using var gsm = new GradSampleHooks(model, GradSamplerRegistry.Default);
        var norms = OracleStep(c, ClippingOptions.Flat(double.PositiveInfinity)).PerExampleNorms;
        var clipping = ClippingOptions.Flat(Median(norms));
        var error = RelativeError(EngineStep(gsm, c, clipping).Gradients, OracleStep(c, clipping).Gradients);
        Assert.True(error < 1e-10, $"relative error {error:E2}");
    }

    [Fact]
    public void CharLstmAndItsFusedTwinHaveTheSameParametersUnderTheSameNames()
    {
        using var scope = torch.NewDisposeScope();
        var dp = ModelZoo.CharLstm(64);
        var fused = ModelZoo.CharLstmFused(64);
        Assert.Equal(350_272, dp.parameters().Sum(p => p.numel())); // the count in ModelZoo.CharLstm's documentation
        Assert.Equal(350_272, fused.parameters().Sum(p => p.numel()));

        // Fused → DP by Fix; the fixed model's names are the DP model's, so its weights load into ModelZoo.CharLstm.
        ModuleValidator.Fix(fused);
        var expected = dp.state_dict().Keys.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, fused.state_dict().Keys.Order(StringComparer.Ordinal).ToList());
        Assert.Contains("lstm.l0.weight_hh", expected);
        dp.load_state_dict(fused.state_dict());
        var x = torch.randint(0, 64, [2, 9], dtype: ScalarType.Int64);
        Assert.True(dp.call(x).sub(fused.call(x)).abs().max().item<float>() == 0);
    }

    [Fact]
    public void FixReplacesGruAndKeepsStatesAndFrozenFlags()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(32);
        var gru = nn.GRU(3, 4, 2, batchFirst: false, dtype: ScalarType.Float64);
        gru.named_parameters().Single(p => p.name == "bias_hh_l1").parameter.requires_grad = false;
        var holder = new GruHolder(gru);
        var x = torch.randn([5, 2, 3], dtype: ScalarType.Float64); // [T, B, in]
        var h0 = torch.randn([2, 2, 4], dtype: ScalarType.Float64);
        var (expected, expectedH) = holder.Gru.call(x, h0);

        ModuleValidator.Fix(holder);
        var dropIn = Assert.IsType<DpGruDropIn>(holder.Gru);
        Assert.False(dropIn.BatchFirst);
        var (output, h) = holder.Gru.call(x, h0);
        Assert.True(expected.sub(output).abs().max().item<double>() <= 1e-6);
        Assert.True(expectedH.sub(h).abs().max().item<double>() <= 1e-6);
        var flags = holder.named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad);
        Assert.False(flags["gru.l1.bias_hh"]);
        Assert.True(flags["gru.l1.bias_ih"]);
        Assert.True(flags["gru.l0.bias_hh"]);
    }

    [Fact]
    public void FixExplainsAFieldDeclaredWithTheFusedType()
    {
        using var scope = torch.NewDisposeScope();
        var error = Assert.Throws<NotSupportedException>(() => ModuleValidator.Fix(new TypedLstmHolder()));
        Assert.Contains("Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)>", error.Message);
        Assert.Contains("DpLstm", error.Message);
    }

    [Fact]
    public void FixReplacesInsideCustomModulesAndKeepsTheOrderOfChildren()
    {
        using var scope = torch.NewDisposeScope();
        var model = new Mixed();
        var before = model.named_children().Select(c => c.name).ToList();
        ModuleValidator.Fix(model);
        Assert.Equal(before, model.named_children().Select(c => c.name).ToList());
        Assert.IsType<GroupNorm>(model.named_children().Single(c => c.name == "norm").module);
        Assert.IsType<DpLstmDropIn>(model.named_children().Single(c => c.name == "lstm").module);
        Assert.Empty(ModuleValidator.Validate(model));
        Assert.Equal(new long[] { 2, 5, 4 }, model.call(torch.randn(2, 3, 5)).shape);
    }

    /// <summary>BatchNorm1d over 3 channels → LSTM over time → Linear: [B, 3, T] → [B, T, 4].</summary>
    private sealed class Mixed : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _norm = nn.BatchNorm1d(3);
        private readonly nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)> _lstm = nn.LSTM(3, 6, batchFirst: true);
        private readonly nn.Module<Tensor, Tensor> _head = nn.Linear(6, 4);

        public Mixed() : base(nameof(Mixed))
        {
            register_module("norm", _norm);
            register_module("lstm", _lstm);
            register_module("head", _head);
        }

        public override Tensor forward(Tensor input) => _head.call(_lstm.call(_norm.call(input).transpose(1, 2), null).Item1);
    }

    private sealed class GruHolder : nn.Module<Tensor, Tensor>
    {
        public GruHolder(GRU gru) : base(nameof(GruHolder))
        {
            Gru = gru;
            register_module("gru", Gru);
        }

        public nn.Module<Tensor, Tensor?, (Tensor, Tensor)> Gru { get; private set; }

        public override Tensor forward(Tensor input) => Gru.call(input, null).Item1;
    }

    private sealed class RnnHolder : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor?, (Tensor, Tensor)> _rnn;

        public RnnHolder(RNN rnn) : base(nameof(RnnHolder))
        {
            _rnn = rnn;
            register_module("rnn", _rnn);
        }

        public override Tensor forward(Tensor input) => _rnn.call(input, null).Item1;
    }

    private sealed class TypedLstmHolder : nn.Module<Tensor, Tensor>
    {
        private readonly LSTM _lstm = nn.LSTM(3, 4, batchFirst: true);

        public TypedLstmHolder() : base(nameof(TypedLstmHolder)) => register_module("lstm", _lstm);

        public override Tensor forward(Tensor input) => _lstm.call(input, null).Item1;
    }
}
