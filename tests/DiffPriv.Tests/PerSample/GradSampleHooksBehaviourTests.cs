using DiffPriv.PerSample;
using TorchSharp;
using static DiffPriv.Tests.PerSample.PerSampleHarness;
using static TorchSharp.torch;

namespace DiffPriv.Tests.PerSample;

/// <summary>Refusals, error paths, properties and lifetimes of the engine.</summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class GradSampleModuleBehaviourTests
{
    public GradSampleModuleBehaviourTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("conv2d", GradSampleMethod.Ghost, 1)]
    [InlineData("conv2d", GradSampleMethod.Materialize, 2)]
    [InlineData("linear-twice", GradSampleMethod.Ghost, 3)]
    [InlineData("embedding", GradSampleMethod.Materialize, 4)]
    [InlineData("embedding-wide", GradSampleMethod.Auto, 6)]
    [InlineData("groupnorm", GradSampleMethod.Auto, 5)]
    public void EveryClippedPerExampleGradientHasNormAtMostC(string name, GradSampleMethod method, long seed)
    {
        using var scope = torch.NewDisposeScope();
        var c = Cases.Make(name, seed: seed, batch: 10);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default, new GradSampleOptions { Method = method });
        var norms = EngineStep(gsm, c, ClippingOptions.Flat(double.PositiveInfinity)).PerExampleNorms;
        var maxGradNorm = Median(norms) * 0.9;
        var factors = EngineStep(gsm, c, ClippingOptions.Flat(maxGradNorm)).ClipFactors!.data<double>().ToArray();
        Assert.Contains(factors, f => f < 1);
        var perExample = new PerExampleLoopClipper(c.Model).PerExampleGradients(c.BatchSize, c.ExampleLoss);
        for (var i = 0; i < perExample.Count; i++)
        {
            var squared = perExample[i].Values.Sum(g => g.mul(factors[i]).square().sum().item<double>());
            Assert.True(Math.Sqrt(squared) <= maxGradNorm * (1 + 1e-6), $"example {i}: clipped norm {Math.Sqrt(squared)} > C = {maxGradNorm}");
        }
    }

    [Fact]
    public void ZooModelsNestedInAParentAreHookedOnce()
    {
        using var scope = torch.NewDisposeScope();
        // A custom parent that registers its field with RegisterComponents (TorchSharp then runs it on the child too).
        var model = new Wrapper(DiffPriv.Models.ModelZoo.EmbeddingBag(50, 8, 2));
        var lm = new Wrapper(DiffPriv.Models.ModelZoo.CharLstm(20, 8, 16));
        foreach (var m in new nn.Module[] { model, lm })
        {
            var modules = m.named_modules().Select(p => p.module).ToList();
            Assert.Equal(modules.Count, modules.Distinct(ReferenceEqualityComparer.Instance).Count());
            using var hooks = new GradSampleHooks(m, GradSamplerRegistry.Default);
            Assert.NotEmpty(hooks.LayerPaths);
        }
    }

    [Fact]
    public void AModuleRegisteredUnderTwoNamesIsRefusedRatherThanCountedTwice()
    {
        using var scope = torch.NewDisposeScope();
        var inner = new MisnamedChild();
        var model = nn.Sequential(("block", inner), ("head", nn.Linear(4, 2)));
        var paths = model.named_modules().Where(m => ReferenceEquals(m.module, inner.Child)).Select(m => m.name).ToList();
        Assert.Equal(2, paths.Count); // TorchSharp registers the field as well as the explicit name
        var error = Assert.Throws<UnsupportedLayerException>(() => new GradSampleHooks(model, GradSamplerRegistry.Default));
        Assert.Contains("two paths", error.Message);
        Assert.Equal([3L, 2], model.call(torch.randn(3, 4)).shape);
    }

    [Fact]
    public void BatchNormIsRefusedWithItsPathAndAcceptedWhenFrozen()
    {
        using var scope = torch.NewDisposeScope();
        var bn = nn.BatchNorm2d(4);
        var model = nn.Sequential(("conv", nn.Conv2d(1, 4, 3)), ("bn", bn), ("flat", nn.Flatten()), ("fc", nn.Linear(16, 2)));
        var e = Assert.Throws<UnsupportedLayerException>(() => new GradSampleHooks(model, GradSamplerRegistry.Default));
        Assert.Equal("bn", e.ModulePath);
        Assert.Contains("'bn'", e.Message, StringComparison.Ordinal);
        Assert.Contains("BatchNorm2d", e.Message, StringComparison.Ordinal);
        Assert.Contains("requires_grad = false", e.Message, StringComparison.Ordinal);
        Assert.Contains("Register<BatchNorm2d>", e.Message, StringComparison.Ordinal);
        Assert.Contains("PerExampleLoopClipper", e.Message, StringComparison.Ordinal);

        foreach (var (_, p) in bn.named_parameters())
        {
            p.requires_grad = false;
        }

        using var gsm = new GradSampleHooks(model, GradSamplerRegistry.Default);
        Assert.Equal(["conv", "fc"], gsm.LayerPaths);
        Assert.DoesNotContain("bn.weight", gsm.ParameterNames);
    }

    [Fact]
    public void CustomModuleWithOwnParameterIsRefused()
    {
        using var scope = torch.NewDisposeScope();
        var model = nn.Sequential(("fc", nn.Linear(3, 3)), ("mystery", new Scale(3)));
        var e = Assert.Throws<UnsupportedLayerException>(() => new GradSampleHooks(model, GradSamplerRegistry.Default));
        Assert.Equal("mystery", e.ModulePath);
        Assert.Equal(typeof(Scale), e.ModuleType);
        Assert.Contains("Scale", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NaNInputNamesTheExamples()
    {
        using var scope = torch.NewDisposeScope();
        var c = Cases.Make("linear-2d");
        using (torch.no_grad())
        {
            c.Input[2, 1] = torch.tensor(double.NaN);
            c.Input[5, 0] = torch.tensor(double.PositiveInfinity);
        }

        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        var e = Assert.Throws<NonFiniteGradientException>(() => EngineStep(gsm, c, ClippingOptions.Flat(1.0)));
        Assert.Equal([2L, 5L], e.ExampleIndices);
        Assert.Contains("2, 5", e.Message, StringComparison.Ordinal);
        var loop = Assert.Throws<NonFiniteGradientException>(() => OracleStep(c, ClippingOptions.Flat(1.0)));
        Assert.Equal([2L, 5L], loop.ExampleIndices);
    }

    [Fact]
    public void ForwardBypassingHooksIsDetected()
    {
        using var scope = torch.NewDisposeScope();
        var model = new BypassingModule();
        using var gsm = new GradSampleHooks(model, GradSamplerRegistry.Default);
        var x = torch.randn(4, 4);
        var linearGrads = model.named_parameters().Select(p => p.parameter.grad).ToList();
        using var step = gsm.BeginStep();
        var loss = Case.PerExampleLoss(model.call(x));
        var e = Assert.Throws<UnrecordedLayerException>(() => gsm.ClipAndSum(loss, 1.0));
        Assert.Equal(["_inner"], e.ModulePaths);
        Assert.All(model.named_parameters(), p => Assert.Null(p.parameter.grad)); // the probe left .grad as it was
        Assert.All(linearGrads, Assert.Null);
    }

    [Fact]
    public void UnusedLayerGetsZeroGradientWithoutError()
    {
        using var scope = torch.NewDisposeScope();
        var model = new UnusedBranch();
        using var gsm = new GradSampleHooks(model, GradSamplerRegistry.Default);
        using var step = gsm.BeginStep();
        var result = gsm.ClipAndSum(Case.PerExampleLoss(model.call(torch.randn(5, 4))), 1.0);
        Assert.Equal(0.0, result.Gradients["_unused.weight"].abs().sum().item<float>());
        Assert.True(result.Gradients["_used.weight"].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void EmptyBatchGivesZeroSums()
    {
        using var scope = torch.NewDisposeScope();
        var c = Cases.Make("conv2d", batch: 0);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        var result = EngineStep(gsm, c, ClippingOptions.Flat(1.0));
        Assert.Equal(0, result.BatchSize);
        Assert.Equal(gsm.ParameterNames.Order(), result.Gradients.Keys.Order());
        foreach (var (name, p) in c.Model.named_parameters())
        {
            Assert.Equal(p.shape, result.Gradients[name].shape);
            Assert.Equal(0.0, result.Gradients[name].abs().sum().item<double>());
        }

        var loop = OracleStep(c, ClippingOptions.Flat(1.0));
        Assert.Equal(0, loop.BatchSize);
    }

    [Fact]
    public void StepMisuseIsReported()
    {
        using var scope = torch.NewDisposeScope();
        var c = Cases.Make("linear-2d");
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        Assert.Throws<InvalidOperationException>(() => gsm.ClipAndSum(c.BatchLoss(), 1.0));
        using var step = gsm.BeginStep();
        Assert.Throws<InvalidOperationException>(gsm.BeginStep);
        var loss = c.BatchLoss();
        Assert.Throws<ArgumentException>(() => gsm.ClipAndSum(loss.unsqueeze(1), 1.0));
        Assert.Throws<ArgumentException>(() => gsm.ClipAndSum(loss, -1.0));
        gsm.ClipAndSum(loss, 1.0);
        Assert.Throws<InvalidOperationException>(() => gsm.ClipAndSum(loss, 1.0));
    }

    [Fact]
    public void ResultSurvivesTheInnerScopeAndCanBeDetached()
    {
        var c = Cases.Make("linear-2d");
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        ClippedSumResult result;
        using (var scope = torch.NewDisposeScope())
        {
            result = EngineStep(gsm, c, ClippingOptions.Flat(1.0)).DetachFromDisposeScope();
        }

        using (result)
        {
            Assert.Equal(c.BatchSize, result.PerExampleNorms.shape[0]);
            Assert.True(result.Gradients["0.weight"].abs().sum().item<double>() > 0);
        }
    }

    [Theory]
    [InlineData("conv2d")]
    [InlineData("conv3d")]
    [InlineData("instancenorm2d")]
    [InlineData("rmsnorm")]
    [InlineData("embeddingbag-mean-padding")]
    public void NoTensorLeaksOver50Steps(string name)
    {
        var c = Cases.Make(name);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        void Step(int i)
        {
            using var scope = torch.NewDisposeScope();
            using var step = gsm.BeginStep();
            var clipping = i % 2 == 0
                ? ClippingOptions.Flat(0.5)
                : ClippingOptions.PerLayer(gsm.LayerPaths.ToDictionary(p => p, _ => 0.3));
            var result = gsm.ClipAndSum(c.BatchLoss(), clipping);
            Assert.Equal(c.BatchSize, result.PerExampleNorms.shape[0]);
        }

        Step(0);
        Step(1);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 50; i++)
        {
            Step(i);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    /// <summary>Registers its child as "proj" and, through RegisterComponents, again under the field's name.</summary>
    private sealed class MisnamedChild : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _child = nn.Linear(4, 4);

        public MisnamedChild()
            : base(nameof(MisnamedChild))
        {
            register_module("proj", _child);
            RegisterComponents();
        }

        public nn.Module Child => _child;

        public override Tensor forward(Tensor x) => _child.call(x);
    }

    private sealed class Wrapper : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _inner;

        public Wrapper(nn.Module<Tensor, Tensor> inner)
            : base(nameof(Wrapper))
        {
            _inner = inner;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => _inner.call(x);
    }
}
