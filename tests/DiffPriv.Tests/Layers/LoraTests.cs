using DiffPriv.Accounting;
using DiffPriv.Layers;
using DiffPriv.PerSample;
using DiffPriv.Tests.PerSample;
using DiffPriv.Tests.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static DiffPriv.Tests.PerSample.PerSampleHarness;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Layers;

/// <summary>
/// LoRA: the adapted model starts as the base model, merges into plain Linear layers with the same function, has exact
/// per-example gradients (batch-of-one loop oracle), and under DP-SGD only its adapters are noised and updated.
/// </summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class LoraTests
{
    private readonly ITestOutputHelper _output;

    public LoraTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    [Fact]
    public void InitialOutputEqualsTheBaseModelAndOnlyTheAdaptersAreTrainable()
    {
        using var scope = torch.NewDisposeScope();
        var model = Model(1, ScalarType.Float32);
        var x = torch.randn([5, 3, 6], generator: new Generator(2));
        var before = Output(model, x);
        var total = model.parameters().Sum(p => p.numel());

        var result = Lora.Apply(model, new LoraOptions { Rank = 2, Dropout = 0.25 });

        Assert.Equal(["embed", "head", "block.q_proj", "block.v_proj", "block.out_proj"], result.AdaptedPaths); // named_modules() order
        // Every adapter has r·(in + out) elements: 2·(6+8), three times 2·(8+8), 2·(8+3).
        var adapters = (2 * (6 + 8)) + (3 * 2 * (8 + 8)) + (2 * (8 + 3));
        Assert.Equal(adapters, result.TrainableParameters);
        Assert.Equal(total + adapters, result.TotalParameters);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.Equal(
            result.AdaptedPaths.SelectMany(path => new[] { $"{path}.lora_A.weight", $"{path}.lora_B.weight" }).Order(StringComparer.Ordinal),
            trainable.Order(StringComparer.Ordinal));
        Assert.Contains(model.named_parameters(), p => p.name == "block.norm.weight" && !p.parameter.requires_grad);
        Assert.Equal(adapters, model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));

        // B = 0, so even in training mode (dropout on the adapter input) the output is exactly the base's.
        Assert.True(model.training);
        Assert.Equal(0.0, Output(model, x).sub(before).abs().max().item<float>());
        _output.WriteLine(result.ToString());
    }

    [Fact]
    public void AttentionProjectionsAreAdaptedByPathSuffix()
    {
        using var scope = torch.NewDisposeScope();
        var model = Model(3, ScalarType.Float32);

        var result = Lora.Apply(model, new LoraOptions { Rank = 4, Alpha = 8, Targets = ["q_proj", "v_proj"] });

        Assert.Equal(["block.q_proj", "block.v_proj"], result.AdaptedPaths);
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        var q = Assert.IsType<LoraLinear>(modules["block.q_proj"]);
        Assert.Equal(2.0, q.Scale);
        Assert.IsType<Linear>(modules["block.out_proj"]);
        Assert.False(((Linear)modules["block.out_proj"]).weight!.requires_grad);
        Assert.Equal(4 * (8 + 8) * 2, result.TrainableParameters);
    }

    [Fact]
    public void MergedModelComputesWhatTheTrainedAdaptedModelComputes()
    {
        using var scope = torch.NewDisposeScope();
        var model = Model(4, ScalarType.Float32);
        var x = torch.randn([7, 6], generator: new Generator(5));
        var names = model.named_parameters().Select(p => p.name).ToList();
        var lora = Lora.Apply(model, new LoraOptions { Rank = 3, Alpha = 6, Dropout = 0.1, Targets = ["q_proj", "v_proj", "head"] });

        // Some ordinary (non-private) training of the adapters, so that B·A is far from zero.
        var optimizer = optim.SGD(model.parameters().Where(p => p.requires_grad), 0.5);
        for (var i = 0; i < 20; i++)
        {
            using var stepScope = torch.NewDisposeScope();
            optimizer.zero_grad();
            Output(model, x, grad: true).square().mean().backward();
            optimizer.step();
        }

        var adapter = model.modules().OfType<LoraLinear>().First();
        Assert.True(adapter.LoraB.weight!.abs().max().item<float>() > 1e-3, "the adapters did not train: the test could not fail");

        model.eval(); // dropout off: the function the merged layers reproduce
        var adapted = Output(model, x);
        var merged = Lora.Merge(model);
        var after = Output(model, x);

        Assert.Equal(lora.AdaptedPaths, merged);
        Assert.Empty(model.modules().OfType<LoraLinear>());
        Assert.Equal(names, model.named_parameters().Select(p => p.name).ToList());
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
        var difference = after.sub(adapted).abs().max().item<float>();
        var change = adapted.sub(BaseOutput(4, x)).abs().max().item<float>();
        _output.WriteLine($"merged vs adapted: {difference:E2}; adapted vs base: {change:E2}");
        Assert.True(change > 1e-2, "the adapters change nothing: the test could not fail");
        Assert.True(difference <= 1e-6, $"merged output differs by {difference:E2}");
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-10)]
    [InlineData(ScalarType.Float32, 1e-5)]
    public void PerExampleAdapterGradientsEqualTheBatchOfOneLoop(ScalarType dtype, double tolerance)
    {
        using var scope = torch.NewDisposeScope();
        var model = Model(6, dtype);
        Lora.Apply(model, new LoraOptions { Rank = 2, Alpha = 3 });
        using (torch.no_grad())
        {
            // B = 0 at creation would make every gradient of A zero: give B values so that A's sampler is checked too.
            foreach (var lora in model.modules().OfType<LoraLinear>())
            {
                lora.LoraB.weight!.normal_(0, 0.5, generator: new Generator(7));
            }
        }

        var x = torch.randn([6, 3, 6], generator: new Generator(8), dtype: dtype);
        var (oracleNorms, oracleSum) = LoopOracle(model, x, double.PositiveInfinity);
        var maxGradNorm = Median(oracleNorms);
        (oracleNorms, oracleSum) = LoopOracle(model, x, maxGradNorm);

        using var hooks = new GradSampleHooks(model, GradSamplerRegistry.Default);
        Assert.Equal(
            ["embed.lora_A", "embed.lora_B", "block.q_proj.lora_A", "block.q_proj.lora_B", "block.v_proj.lora_A", "block.v_proj.lora_B",
             "block.out_proj.lora_A", "block.out_proj.lora_B", "head.lora_A", "head.lora_B"],
            hooks.LayerPaths);
        ClippedSumResult engine;
        using (hooks.BeginStep())
        {
            engine = hooks.ClipAndSum(Case.PerExampleLoss(((nn.Module<Tensor, Tensor>)model).call(x)), maxGradNorm);
        }

        var clipped = engine.ClipFactors!.lt(1.0).sum().item<long>();
        Assert.InRange(clipped, 1, x.shape[0] - 1);
        var normError = MaxRelativeDifference(engine.PerExampleNorms, oracleNorms);
        var sumError = RelativeError(engine.Gradients, oracleSum);
        _output.WriteLine($"{dtype}: norms {normError:E2}, clipped sum {sumError:E2}");
        Assert.True(normError < tolerance, $"per-example norms differ by {normError:E2}");
        Assert.True(sumError < tolerance, $"clipped sum relative error {sumError:E2}");
    }

    [Fact]
    public void DpStepsUpdateAndNoiseOnlyTheAdapters()
    {
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(64, 6, 9);
        var model = Model(10, ScalarType.Float32);
        var lora = Lora.Apply(model, new LoraOptions { Rank = 2, Targets = ["q_proj", "v_proj", "head"] });
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var options = new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 1.0, ExpectedBatchSize = 16, Seed = 11 };

        // The optimizer must cover exactly the trainable parameters: all of model.parameters() is refused, naming the frozen ones.
        var refused = Assert.Throws<ArgumentException>(() =>
            new PrivacyEngine(AccountantKind.Rdp).MakePrivate(model, optim.SGD(model.parameters(), 0.5), x, y, options));
        Assert.Contains("requires_grad", refused.Message);
        Assert.Contains("block.q_proj.base_layer.weight", refused.Message);

        var engine = new PrivacyEngine(AccountantKind.Rdp);
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters().Where(p => p.requires_grad), 0.5), x, y, options);
        using (optimizer)
        {
            foreach (var batch in loader)
            {
                using var stepScope = torch.NewDisposeScope();
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(((nn.Module<Tensor, Tensor>)model).call(batch["data"]), batch["label"], reduction: nn.Reduction.None);
                optimizer.Backward(loss);
                optimizer.step();

                // The released (noised) gradient exists for the adapters only.
                foreach (var (name, p) in model.named_parameters())
                {
                    Assert.True(p.requires_grad == (p.grad is not null), $"{name}: requires_grad {p.requires_grad}, released gradient {p.grad is not null}");
                }
            }

            Assert.Equal(4, optimizer.Steps);
        }

        var changed = model.named_parameters()
            .Where(p => !p.parameter.detach().eq(before[p.name]).all().item<bool>())
            .Select(p => p.name)
            .Order(StringComparer.Ordinal)
            .ToList();
        // Every adapter moved: B by its gradient and noise, A — whose data gradient is zero while B is still zero at the
        // first step — at least by the noise. Every frozen parameter is bit-for-bit unchanged.
        var adapters = lora.AdaptedPaths.SelectMany(path => new[] { $"{path}.lora_A.weight", $"{path}.lora_B.weight" }).Order(StringComparer.Ordinal);
        Assert.Equal(adapters, changed);
        Assert.Equal(lora.TrainableParameters, model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));
    }

    [Fact]
    public void AdaptersOnADpTransformersAttentionTrainPrivatelyAndMergeBack()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(12);
        var model = new TinyEncoderClassifier();
        var lora = Lora.Apply(model, new LoraOptions { Rank = 2, Targets = ["q_proj", "v_proj"] });
        Assert.Equal(
            ["encoder.layers.0.self_attn.q_proj", "encoder.layers.0.self_attn.v_proj", "encoder.layers.1.self_attn.q_proj", "encoder.layers.1.self_attn.v_proj"],
            lora.AdaptedPaths.Order(StringComparer.Ordinal));
        Assert.Equal(4 * 2 * (8 + 8), lora.TrainableParameters);

        var g = new Generator(13);
        var x = torch.randn([40, 5, 8], generator: g);
        var y = torch.randint(0, 2, [40], generator: g, dtype: ScalarType.Int64);
        var frozen = model.named_parameters().Where(p => !p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        var (optimizer, loader) = engine.MakePrivate(model, optim.SGD(model.parameters().Where(p => p.requires_grad), 0.5), x, y,
            new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 1.0, ExpectedBatchSize = 10, Seed = 3, Steps = 4 });
        using (optimizer)
        {
            foreach (var batch in loader)
            {
                using var stepScope = torch.NewDisposeScope();
                optimizer.zero_grad();
                optimizer.Backward(nn.functional.cross_entropy(model.call(batch["data"]), batch["label"], reduction: nn.Reduction.None));
                optimizer.step();
            }
        }

        Assert.Equal(4, engine.Ledger.TotalCount);
        foreach (var (name, p) in model.named_parameters().Where(p => !p.parameter.requires_grad))
        {
            Assert.True(p.detach().eq(frozen[name]).all().item<bool>(), $"frozen {name} changed");
        }

        model.eval();
        var probe = torch.randn([3, 5, 8], generator: g);
        var adapted = model.call(probe).detach();
        Lora.Merge(model);
        Assert.DoesNotContain(model.modules(), m => m is LoraLinear);
        var merged = model.call(probe).detach();
        Assert.True((adapted - merged).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void OptionsAreValidatedWithClearMessages()
    {
        using var scope = torch.NewDisposeScope();
        string Refused(LoraOptions options)
        {
            var model = Model(12, ScalarType.Float32);
            var flags = model.named_parameters().Select(p => p.parameter.requires_grad).ToList();
            var error = Assert.ThrowsAny<ArgumentException>(() => Lora.Apply(model, options));
            Assert.Empty(model.modules().OfType<LoraLinear>());
            Assert.Equal(flags, model.named_parameters().Select(p => p.parameter.requires_grad).ToList());
            return error.Message;
        }

        Assert.Contains("Rank", Refused(new LoraOptions { Rank = 0 }));
        Assert.Contains("Alpha", Refused(new LoraOptions { Rank = 2, Alpha = 0 }));
        Assert.Contains("Alpha", Refused(new LoraOptions { Rank = 2, Alpha = double.NaN }));
        Assert.Contains("Dropout", Refused(new LoraOptions { Rank = 2, Dropout = 1 }));
        Assert.Contains("Dropout", Refused(new LoraOptions { Rank = 2, Dropout = -0.1 }));
        Assert.Contains("\"\"", Refused(new LoraOptions { Rank = 2, Targets = [""] }));

        // The head is Linear(8, 3): rank 4 > min(8, 3).
        var rank = Refused(new LoraOptions { Rank = 4 });
        Assert.Contains("'head'", rank);
        Assert.Contains("min(in, out) = 3", rank);

        var unmatched = Refused(new LoraOptions { Rank = 2, Targets = ["k_proj", "query"] });
        Assert.Contains("\"k_proj\", \"query\"", unmatched);
        Assert.Contains("'block.q_proj'", unmatched); // the Linear paths that exist
        Assert.Contains("LayerNorm", Refused(new LoraOptions { Rank = 2, Targets = ["norm"] }));
        Assert.Contains("\"block\"", Refused(new LoraOptions { Rank = 2, Targets = ["block"] }));

        Assert.Throws<ArgumentException>(() => new LoraLinear(nn.Linear(4, 2), rank: 3));
        Assert.Throws<ArgumentException>(() => new LoraLinear(nn.Linear(4, 2), rank: 1, alpha: -1));
        Assert.Equal(1.0, new LoraLinear(nn.Linear(4, 2), rank: 2).Scale); // α defaults to r
        Assert.Equal(2, new LoraOptions { Rank = 2 }.Alpha);
    }

    [Fact]
    public void ApplyIsAllOrNothingAndRefusesAnAdaptedModel()
    {
        using var scope = torch.NewDisposeScope();
        var model = new TypedFields();
        var flags = model.named_parameters().Select(p => p.parameter.requires_grad).ToList();
        var error = Assert.Throws<NotSupportedException>(() => Lora.Apply(model, new LoraOptions { Rank = 1 }));
        Assert.Contains("sealed", error.Message);
        Assert.Empty(model.modules().OfType<LoraLinear>()); // 'first' (replaceable) was put back
        Assert.IsType<Linear>(model.named_children().Single(c => c.name == "first").module);
        Assert.Equal(flags, model.named_parameters().Select(p => p.parameter.requires_grad).ToList());
        Assert.Equal(2, model.call(torch.ones(1, 4)).shape[1]);

        var adapted = Model(13, ScalarType.Float32);
        Lora.Apply(adapted, new LoraOptions { Rank = 1, Targets = ["head"] });
        var twice = Assert.Throws<InvalidOperationException>(() => Lora.Apply(adapted, new LoraOptions { Rank = 1 }));
        Assert.Contains("'head'", twice.Message);
    }

    [Fact]
    public void ALayerRegisteredByItsParentHasOnlyItsFourParameters()
    {
        using var scope = torch.NewDisposeScope();
        var holder = new Holder(new LoraLinear(nn.Linear(4, 3), rank: 2, dropout: 0.5)); // register_module runs RegisterComponents

        Assert.Equal(["fc.base_layer.weight", "fc.base_layer.bias", "fc.lora_A.weight", "fc.lora_B.weight"], holder.named_parameters().Select(p => p.name));
        Assert.Equal(["fc", "fc.base_layer", "fc.lora_A", "fc.lora_B", "fc.lora_dropout"], holder.named_modules().Select(m => m.name));
        Assert.Equal([false, false, true, true], holder.parameters().Select(p => p.requires_grad));
        Assert.Equal(["fc"], Lora.Merge(holder));
        Assert.Equal(["fc.weight", "fc.bias"], holder.named_parameters().Select(p => p.name));
    }

    private static nn.Module<Tensor, Tensor> Model(long seed, ScalarType dtype)
    {
        torch.manual_seed(seed);
        var model = nn.Sequential(("embed", nn.Linear(6, 8)), ("act", nn.Tanh()), ("block", new AttentionLike(8)), ("head", nn.Linear(8, 3)));
        model.to(dtype);
        return model;
    }

    private static Tensor BaseOutput(long seed, Tensor x) => Output(Model(seed, ScalarType.Float32), x);

    private static Tensor Output(nn.Module model, Tensor x, bool grad = false)
    {
        using var _ = torch.set_grad_enabled(grad);
        return ((nn.Module<Tensor, Tensor>)model).call(x);
    }

    /// <summary>
    /// The batch-of-one oracle: for each example alone, an ordinary backward of its loss, the norm of all trainable
    /// gradients, c_i = min(1, C / (‖g_i‖ + 1e-6)) and the sum of c_i·g_i.
    /// </summary>
    private static (Tensor Norms, Dictionary<string, Tensor> Sum) LoopOracle(nn.Module<Tensor, Tensor> model, Tensor x, double maxGradNorm)
    {
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var sum = trainable.ToDictionary(p => p.name, p => torch.zeros_like(p.parameter).detach().to(ScalarType.Float64));
        var norms = new double[x.shape[0]];
        for (var i = 0; i < x.shape[0]; i++)
        {
            foreach (var (_, p) in trainable)
            {
                p.grad = null;
            }

            Case.PerExampleLoss(model.call(x.narrow(0, i, 1))).sum().backward();
            var grads = trainable.ToDictionary(p => p.name, p => p.parameter.grad!.detach().to(ScalarType.Float64));
            norms[i] = Math.Sqrt(grads.Values.Sum(g => g.square().sum().item<double>()));
            var c = Math.Min(1.0, maxGradNorm / (norms[i] + 1e-6));
            foreach (var (name, g) in grads)
            {
                sum[name].add_(g.mul(c));
            }
        }

        foreach (var (_, p) in trainable)
        {
            p.grad = null;
        }

        return (torch.tensor(norms), sum);
    }

    /// <summary>A block with attention-style projections (held in Module&lt;Tensor, Tensor&gt; fields) and a LayerNorm.</summary>
    /// <summary>Batch-first [B, T, 8] → a 2-layer DP transformer encoder → mean over time → 2 classes.</summary>
    private sealed class TinyEncoderClassifier : nn.Module<Tensor, Tensor>
    {
        private readonly DpTransformerEncoder _encoder = new(new DpTransformerEncoderLayer(8, 2, 16, 0.0), 2);
        private readonly nn.Module<Tensor, Tensor> _head = nn.Linear(8, 2);

        public TinyEncoderClassifier()
            : base(nameof(TinyEncoderClassifier))
        {
            register_module("encoder", _encoder);
            register_module("head", _head);
        }

        public override Tensor forward(Tensor x) => _head.call(_encoder.call(x.transpose(0, 1)).mean([0L]));
    }

    private sealed class AttentionLike : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _qProj;
        private readonly nn.Module<Tensor, Tensor> _vProj;
        private readonly nn.Module<Tensor, Tensor> _outProj;
        private readonly nn.Module<Tensor, Tensor> _norm;

        public AttentionLike(long width)
            : base(nameof(AttentionLike))
        {
            _qProj = nn.Linear(width, width);
            _vProj = nn.Linear(width, width, hasBias: false);
            _outProj = nn.Linear(width, width);
            _norm = nn.LayerNorm(width);
            register_module("q_proj", _qProj);
            register_module("v_proj", _vProj);
            register_module("out_proj", _outProj);
            register_module("norm", _norm);
        }

        public override Tensor forward(Tensor input) =>
            _norm.call(input + _outProj.call(_qProj.call(input).tanh() * _vProj.call(input)));
    }

    private sealed class Holder : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _fc;

        public Holder(nn.Module<Tensor, Tensor> fc)
            : base(nameof(Holder))
        {
            _fc = fc;
            register_module("fc", _fc);
        }

        public override Tensor forward(Tensor input) => _fc.call(input);
    }

    /// <summary>Two Linear layers, the second in a field declared as Linear (which cannot hold a LoraLinear).</summary>
    private sealed class TypedFields : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _first;
        private readonly Linear _second;

        public TypedFields()
            : base(nameof(TypedFields))
        {
            _first = nn.Linear(4, 4);
            _second = nn.Linear(4, 2);
            register_module("first", _first);
            register_module("second", _second);
        }

        public override Tensor forward(Tensor input) => _second.call(_first.call(input).tanh());
    }
}
