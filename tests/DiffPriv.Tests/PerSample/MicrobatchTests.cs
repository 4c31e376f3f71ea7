using DiffPriv.PerSample;
using TorchSharp;
using Xunit.Abstractions;
using static DiffPriv.Tests.PerSample.PerSampleHarness;
using static TorchSharp.torch;

namespace DiffPriv.Tests.PerSample;

/// <summary>
/// TF Privacy-style microbatches (k examples per record): the engine against a loop over groups that runs an ordinary
/// backward of each group's mean loss, clips it and accumulates.
/// </summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class MicrobatchTests
{
    /// <summary>Token ids [8, 5] over 7 ids: every group of 2 (so of 4) consecutive examples shares ids across examples.</summary>
    private static readonly long[,] RepeatedIds =
    {
        { 0, 1, 2, 3, 4 },
        { 4, 5, 1, 6, 6 },
        { 2, 2, 3, 0, 5 },
        { 6, 0, 3, 1, 1 },
        { 5, 4, 4, 2, 0 },
        { 3, 5, 6, 2, 2 },
        { 1, 0, 6, 6, 3 },
        { 0, 4, 5, 1, 2 },
    };

    private static readonly string[] CaseNames =
    [
        "linear-2d", "linear-3d", "linear-twice", "conv1d", "conv2d", "embedding-repeated", "embedding-repeated-padding",
        "layernorm", "groupnorm", "groupnorm-frozen-bias", "mnist-cnn", "conv3d", "instancenorm2d", "instancenorm3d-frozen-bias",
        "rmsnorm", "embeddingbag-mean-padding", "embeddingbag-sum",
    ];

    private readonly ITestOutputHelper _output;

    public MicrobatchTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    public static TheoryData<string, GradSampleMethod, long> GroupedCases()
    {
        var data = new TheoryData<string, GradSampleMethod, long>();
        foreach (var name in CaseNames)
        {
            foreach (var k in new long[] { 2, 4 })
            {
                data.Add(name, GradSampleMethod.Ghost, k);
                data.Add(name, GradSampleMethod.Materialize, k);
            }
        }

        data.Add("mnist-cnn", GradSampleMethod.Auto, 2);
        return data;
    }

    [Theory]
    [MemberData(nameof(GroupedCases))]
    public void ClippedSumEqualsLoopOverGroups(string name, GradSampleMethod method, long k)
    {
        using var scope = torch.NewDisposeScope();
        var c = Make(name);
        var m = c.BatchSize / k;
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default, new GradSampleOptions { Method = method });

        var unclipped = Step(gsm, c, ClippingOptions.Flat(double.PositiveInfinity), k);
        var oracleUnclipped = GroupOracle(c, ClippingOptions.Flat(double.PositiveInfinity), k);
        Assert.Equal([m], unclipped.PerExampleNorms.shape);
        Assert.Equal([m], unclipped.ClipFactors!.shape);
        var normError = MaxRelativeDifference(unclipped.PerExampleNorms, oracleUnclipped.PerExampleNorms);
        Assert.True(normError < 1e-10, $"group norms differ by {normError:E2}");
        var unclippedError = RelativeError(unclipped.Gradients, oracleUnclipped.Gradients);

        var clipping = ClippingOptions.Flat(Median(oracleUnclipped.PerExampleNorms));
        var engine = Step(gsm, c, clipping, k);
        var oracle = GroupOracle(c, clipping, k);
        var clippedCount = engine.ClipFactors!.lt(1.0).sum().item<long>();
        Assert.InRange(clippedCount, 1, m - 1);
        Assert.True(MaxRelativeDifference(engine.ClipFactors, oracle.ClipFactors!) < 1e-10);
        var clippedError = RelativeError(engine.Gradients, oracle.Gradients);
        _output.WriteLine($"{name} {method} k={k}: clipped {clippedError:E2}, C=∞ {unclippedError:E2}, norms {normError:E2}, clipped {clippedCount}/{m}");
        Assert.True(clippedError < 1e-10, $"clipped sum relative error {clippedError:E2}");
        Assert.True(unclippedError < 1e-10, $"C=∞ relative error {unclippedError:E2}");
    }

    [Theory]
    [InlineData("conv2d", GradSampleMethod.Ghost)]
    [InlineData("embedding-repeated", GradSampleMethod.Materialize)]
    [InlineData("groupnorm", GradSampleMethod.Ghost)]
    [InlineData("layernorm", GradSampleMethod.Materialize)]
    public void PerLayerClippingEqualsLoopOverGroups(string name, GradSampleMethod method)
    {
        using var scope = torch.NewDisposeScope();
        const long k = 2;
        var c = Make(name);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default, new GradSampleOptions { Method = method });
        var unclipped = Step(gsm, c, ClippingOptions.Flat(double.PositiveInfinity), k);
        var clipping = ClippingOptions.PerLayer(gsm.LayerPaths.ToDictionary(p => p, p => Median(unclipped.LayerNorms[p])));
        var engine = Step(gsm, c, clipping, k);
        var oracle = GroupOracle(c, clipping, k);
        foreach (var path in gsm.LayerPaths)
        {
            Assert.Equal([c.BatchSize / k], engine.LayerNorms[path].shape);
            Assert.True(MaxRelativeDifference(engine.LayerNorms[path], oracle.LayerNorms[path]) < 1e-10);
        }

        var error = RelativeError(engine.Gradients, oracle.Gradients);
        _output.WriteLine($"per-layer {name} {method} k={k}: relative error {error:E2}");
        Assert.True(error < 1e-10, $"relative error {error:E2}");
    }

    [Theory]
    [InlineData("linear-3d")]
    [InlineData("embedding-repeated")]
    [InlineData("groupnorm")]
    [InlineData("mnist-cnn")]
    public void MicrobatchSizeOneIsThePerExamplePath(string name)
    {
        using var scope = torch.NewDisposeScope();
        var c = Make(name);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        var norms = Step(gsm, c, ClippingOptions.Flat(double.PositiveInfinity), 1).PerExampleNorms;
        var clipping = ClippingOptions.Flat(Median(norms));
        var one = Step(gsm, c, clipping, 1);
        var existing = EngineStep(gsm, c, clipping);
        Assert.Equal([c.BatchSize], one.PerExampleNorms.shape);
        Assert.True(one.PerExampleNorms.eq(existing.PerExampleNorms).all().item<bool>());
        foreach (var (key, g) in existing.Gradients)
        {
            Assert.True(one.Gradients[key].eq(g).all().item<bool>(), key);
        }
    }

    [Theory]
    [InlineData("linear-2d")]
    [InlineData("conv2d")]
    [InlineData("embedding-repeated")]
    [InlineData("layernorm")]
    [InlineData("groupnorm")]
    [InlineData("mnist-cnn")]
    public void WholeBatchMicrobatchIsTheMeanLossGradient(string name)
    {
        using var scope = torch.NewDisposeScope();
        var c = Make(name);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        var result = Step(gsm, c, ClippingOptions.Flat(double.PositiveInfinity), c.BatchSize);
        Assert.Equal([1L], result.PerExampleNorms.shape);
        var mean = BatchGradient(c).ToDictionary(kv => kv.Key, kv => kv.Value.div(c.BatchSize));
        var error = RelativeError(result.Gradients, mean);
        var norm = Math.Sqrt(mean.Values.Sum(g => g.square().sum().item<double>()));
        var normError = Math.Abs(result.PerExampleNorms.item<double>() - norm) / norm;
        _output.WriteLine($"{name} k=B: relative error {error:E2}, norm {normError:E2}");
        Assert.True(error < 1e-10, $"relative error {error:E2}");
        Assert.True(normError < 1e-10, $"norm relative error {normError:E2}");
    }

    [Fact]
    public void InvalidMicrobatchSizesThrowAndLeaveTheStepUsable()
    {
        using var scope = torch.NewDisposeScope();
        var c = Make("linear-2d");
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        using var step = gsm.BeginStep();
        var loss = c.BatchLoss();
        var e = Assert.Throws<ArgumentException>(() => gsm.ClipAndSum(loss, ClippingOptions.Flat(1.0), 3));
        Assert.Contains("multiple of the microbatch size", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => gsm.ClipAndSum(loss, ClippingOptions.Flat(1.0), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => gsm.ClipAndSum(loss, ClippingOptions.Flat(1.0), -2));
        var result = gsm.ClipAndSum(loss, ClippingOptions.Flat(1.0), 2);
        Assert.Equal([4L], result.PerExampleNorms.shape);
    }

    [Fact]
    public void EmptyBatchIsFine()
    {
        using var scope = torch.NewDisposeScope();
        var c = Cases.Make("linear-2d", batch: 0);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        var result = Step(gsm, c, ClippingOptions.Flat(1.0), 4);
        Assert.Equal([0L], result.PerExampleNorms.shape);
        Assert.All(result.Gradients.Values, g => Assert.Equal(0.0, g.abs().sum().item<double>()));
    }

    [Fact]
    public void SamplerWithoutMicrobatchSupportIsRefused()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var model = nn.Sequential(("lin", nn.Linear(4, 3)), ("scale", new Scale(3)), ("out", nn.Linear(3, 2))).to(ScalarType.Float64);
        var c = new Case("scale", model, torch.randn([4, 2, 4], dtype: ScalarType.Float64));
        using var gsm = new GradSampleHooks(model, GradSamplerRegistry.CreateDefault().Register<Scale>(new ScaleGradSampler()));
        using var step = gsm.BeginStep();
        var loss = c.BatchLoss();
        var e = Assert.Throws<ArgumentException>(() => gsm.ClipAndSum(loss, ClippingOptions.Flat(1.0), 2));
        Assert.Contains("'scale'", e.Message, StringComparison.Ordinal);
        Assert.Equal([4L], gsm.ClipAndSum(loss, ClippingOptions.Flat(1.0), 1).PerExampleNorms.shape);
    }

    [Fact]
    public void RepeatedIdsCrossTheExamplesOfEveryGroup()
    {
        for (var group = 0; group < RepeatedIds.GetLength(0); group += 2)
        {
            var first = Enumerable.Range(0, RepeatedIds.GetLength(1)).Select(t => RepeatedIds[group, t]).ToHashSet();
            var second = Enumerable.Range(0, RepeatedIds.GetLength(1)).Select(t => RepeatedIds[group + 1, t]);
            Assert.True(first.Overlaps(second), $"examples {group} and {group + 1} share no id");
        }
    }

    private static ClippedSumResult Step(GradSampleHooks gsm, Case c, ClippingOptions clipping, long k)
    {
        using var step = gsm.BeginStep();
        return gsm.ClipAndSum(c.BatchLoss(), clipping, k);
    }

    /// <summary>The oracle: for each group, an ordinary backward of its mean loss (a batch of k), clipped and accumulated.</summary>
    private static ClippedSumResult GroupOracle(Case c, ClippingOptions clipping, long k) =>
        new PerExampleLoopClipper(c.Model).ClipAndSum(
            c.BatchSize / k,
            group => Case.PerExampleLoss(c.Forward(c.Input.narrow(0, group * k, k))).mean(),
            clipping);

    private static Case Make(string name)
    {
        if (!name.StartsWith("embedding-repeated", StringComparison.Ordinal))
        {
            return Cases.Make(name);
        }

        torch.manual_seed(11);
        var model = nn.Sequential(
            nn.Embedding(7, 3, padding_idx: name.EndsWith("-padding", StringComparison.Ordinal) ? 2 : null),
            nn.Tanh(),
            nn.Linear(3, 2));
        model.to(ScalarType.Float64);
        return new Case(name, model, torch.tensor(RepeatedIds, dtype: ScalarType.Int64).DetachFromDisposeScope());
    }
}
