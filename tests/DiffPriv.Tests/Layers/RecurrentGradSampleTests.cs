using DiffPriv.Layers;
using DiffPriv.Models;
using DiffPriv.PerSample;
using DiffPriv.Tests.PerSample;
using TorchSharp;
using Xunit.Abstractions;
using static DiffPriv.Tests.PerSample.PerSampleHarness;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Layers;

/// <summary>
/// The per-example gradient engine on DpLstm/DpGru (one record per layer, direction and sequence; the recurrent sampler)
/// against the batch-of-one loop and, unclipped, the ordinary batch gradient.
/// </summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class RecurrentGradSampleTests
{
    private readonly ITestOutputHelper _output;

    public RecurrentGradSampleTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    public static TheoryData<string, GradSampleMethod, ScalarType> RecurrentCases()
    {
        var data = new TheoryData<string, GradSampleMethod, ScalarType>();
        foreach (var name in new[] { "lstm-1", "lstm-2-no-bias", "gru-1", "gru-2-no-bias", "lstm-bidirectional", "char-lstm", "lstm-1-frozen", "gru-1-frozen", "lstm-1-hidden-only", "gru-1-hidden-only" })
        {
            data.Add(name, GradSampleMethod.Ghost, ScalarType.Float64);
            data.Add(name, GradSampleMethod.Materialize, ScalarType.Float64);
        }

        data.Add("lstm-2", GradSampleMethod.Auto, ScalarType.Float64);
        data.Add("gru-2", GradSampleMethod.Auto, ScalarType.Float64);
        data.Add("lstm-2", GradSampleMethod.Auto, ScalarType.Float32);
        data.Add("gru-2", GradSampleMethod.Auto, ScalarType.Float32);
        data.Add("char-lstm", GradSampleMethod.Auto, ScalarType.Float32);
        return data;
    }

    [Theory]
    [MemberData(nameof(RecurrentCases))]
    public void ClippedSumEqualsPerExampleLoopAndUnclippedEqualsBatchGradient(string name, GradSampleMethod method, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var c = Make(name, dtype);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default, new GradSampleOptions { Method = method });
        Assert.Contains(gsm.LayerPaths, p => p.EndsWith(".l0", StringComparison.Ordinal));

        var unclipped = EngineStep(gsm, c, ClippingOptions.Flat(double.PositiveInfinity));
        if (name.EndsWith("frozen", StringComparison.Ordinal))
        {
            Assert.Equal(4, unclipped.Gradients.Count); // l0: one weight and one bias left, plus the head's two
        }

        var unclippedError = RelativeError(unclipped.Gradients, BatchGradient(c));

        var loopUnclipped = OracleStep(c, ClippingOptions.Flat(double.PositiveInfinity));
        var normError = MaxRelativeDifference(unclipped.PerExampleNorms, loopUnclipped.PerExampleNorms);
        var clipping = ClippingOptions.Flat(Median(loopUnclipped.PerExampleNorms));
        var engine = EngineStep(gsm, c, clipping);
        var clippedCount = engine.ClipFactors!.lt(1.0).sum().item<long>();
        Assert.InRange(clippedCount, 1, c.BatchSize - 1);
        var clippedError = RelativeError(engine.Gradients, OracleStep(c, clipping).Gradients);
        _output.WriteLine($"{name} {method} {dtype}: clipped {clippedError:E2}, C=∞ vs batch {unclippedError:E2}, norms {normError:E2}");

        // float64: the exact methods agree far below the 1e-5 target (a wrong formula gives O(1)); float32: the target.
        var tolerance = dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
        Assert.True(normError < tolerance, $"per-example norms differ by {normError:E2}");
        Assert.True(clippedError < tolerance, $"clipped sum relative error {clippedError:E2}");
        Assert.True(unclippedError < tolerance, $"C=∞ vs batch gradient relative error {unclippedError:E2}");
    }

    [Fact]
    public void MicrobatchesOfTwoEqualTheLoopOverGroups()
    {
        using var scope = torch.NewDisposeScope();
        var c = Make("lstm-2", ScalarType.Float64);
        using var gsm = new GradSampleHooks(c.Model, GradSamplerRegistry.Default);
        var loop = new PerExampleLoopClipper(c.Model);
        var groups = c.BatchSize / 2;
        Tensor GroupLoss(long m) => Case.PerExampleLoss(c.Forward(c.Input.narrow(0, 2 * m, 2))).mean();
        var unclipped = loop.ClipAndSum(groups, GroupLoss, ClippingOptions.Flat(double.PositiveInfinity));
        var clipping = ClippingOptions.Flat(Median(unclipped.PerExampleNorms));
        var expected = loop.ClipAndSum(groups, GroupLoss, clipping);
        ClippedSumResult actual;
        using (gsm.BeginStep())
        {
            actual = gsm.ClipAndSum(c.BatchLoss(), clipping, microbatchSize: 2);
        }

        Assert.InRange(actual.ClipFactors!.lt(1.0).sum().item<long>(), 1, groups - 1);
        var error = RelativeError(actual.Gradients, expected.Gradients);
        Assert.True(error < 1e-10, $"relative error {error:E2}");
    }

    /// <summary>Small recurrent models; every parameter is perturbed so that no gradient is special.</summary>
    private static Case Make(string name, ScalarType dtype, long batch = 6)
    {
        torch.manual_seed(21);
        var g = new Generator(21);
        nn.Module model;
        Tensor x;
        switch (name)
        {
            case "char-lstm":
                model = ModelZoo.CharLstm(vocabularySize: 7, embeddingDimension: 3, hiddenSize: 5);
                x = torch.randint(0, 7, [batch, 6], generator: g, dtype: ScalarType.Int64);
                break;
            case "lstm-bidirectional":
                model = nn.Sequential(("rnn", new DpLstm(4, 5, 2, bidirectional: true)), ("head", nn.Linear(10, 2)));
                x = torch.randn([batch, 5, 4], generator: g);
                break;
            default:
                var parts = name.Split('-');
                var layers = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                var bias = !name.EndsWith("no-bias", StringComparison.Ordinal);
                nn.Module<Tensor, Tensor> rnn = parts[0] == "lstm" ? new DpLstm(4, 5, layers, bias) : new DpGru(4, 5, layers, bias);
                model = nn.Sequential(("rnn", rnn), ("head", nn.Linear(5, 2)));
                if (name.EndsWith("hidden-only", StringComparison.Ordinal))
                {
                    // Only the hidden-to-hidden weight of the layer trains (and the head).
                    foreach (var (parameterName, p) in model.named_parameters())
                    {
                        p.requires_grad = parameterName is "rnn.l0.weight_hh" || parameterName.StartsWith("head.", StringComparison.Ordinal);
                    }
                }

                if (name.EndsWith("frozen", StringComparison.Ordinal))
                {
                    // One weight and one bias of the layer frozen: the sampler must leave them out of norms and sums.
                    var frozen = parts[0] == "lstm" ? new[] { "rnn.l0.weight_hh", "rnn.l0.bias_ih" } : new[] { "rnn.l0.weight_ih", "rnn.l0.bias_hh" };
                    foreach (var (parameterName, p) in model.named_parameters())
                    {
                        p.requires_grad = !frozen.Contains(parameterName);
                    }
                }

                x = torch.randn([batch, 5, 4], generator: g);
                break;
        }

        model.to(dtype);
        if (x.is_floating_point())
        {
            x = x.to(dtype);
        }

        using (torch.no_grad())
        {
            foreach (var (_, p) in model.named_parameters())
            {
                p.add_(torch.randn(p.shape, generator: g).to(p.dtype).mul(0.1));
            }
        }

        return new Case(name, model, x.DetachFromDisposeScope());
    }
}
