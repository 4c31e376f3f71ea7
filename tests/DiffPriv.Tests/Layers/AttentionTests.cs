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

/// <summary>
/// DP attention and transformer layers: the same outputs as TorchSharp's fused modules (weights copied, evaluation
/// mode), and per-example gradients equal to the batch-of-one loop with padding and attention masks.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's fused layer (libtorch's C++ <c>multi_head_attention_forward</c>) adds a boolean attention mask to
/// the scores as 0/1 instead of masking, and refuses 3-D attention masks, float key padding masks and keys and values of
/// different sizes. Where the DP layer takes a boolean attention mask, the fused layer is given the float mask 0/−∞; what
/// it refuses is checked against oracles built from the fused layer (per example, per head, zero-padded values).
/// </remarks>
[Collection(PerSampleTestGroup.Name)]
public sealed class AttentionTests
{
    private const long E = 8;
    private const long N = 4;

    public AttentionTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void MultiheadAttentionComputesWhatTheFusedLayerComputes(long heads)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var fused = nn.MultiheadAttention(E, heads);
        var dp = DpMultiheadAttention.FromTorch(fused);
        Assert.Equal(heads, dp.NumHeads);
        fused.eval();
        dp.eval();
        var g = new Generator(5);
        var query = torch.randn([5, N, E], generator: g);
        var memory = torch.randn([7, N, E], generator: g);
        var padding = torch.zeros([N, 7], dtype: ScalarType.Bool);
        padding[0, 5] = torch.tensor(true);
        padding[2, 3] = torch.tensor(true);
        padding[2, 6] = torch.tensor(true);
        var causal = torch.triu(torch.ones([5, 7], dtype: ScalarType.Bool), 1); // query i sees keys 0..i: never all padded
        var additive = torch.randn([5, 7], generator: g);
        var cases = new (Tensor? Padding, Tensor? DpMask, Tensor? FusedMask)[]
        {
            (null, null, null),
            (padding, null, null),
            (null, additive, additive),
            (padding, additive, additive),
            (null, causal, MinusInfinityWhere(causal)),
            (padding, causal, MinusInfinityWhere(causal)),
            (padding, MinusInfinityWhere(causal), MinusInfinityWhere(causal)),
        };
        foreach (var (kpm, dpMask, fusedMask) in cases)
        {
            var (expected, expectedWeights) = fused.call(query, memory, memory, kpm!, true, fusedMask!);
            var (actual, weights) = dp.call(query, memory, memory, kpm, true, dpMask);
            AssertClose(expected, actual, 1e-6);
            AssertClose(expectedWeights, weights, 1e-6);
            Assert.Null(dp.call(query, memory, memory, kpm, false, dpMask).Item2);
        }

        // Self-attention (the fused layer's packed path).
        AssertClose(fused.call(memory, memory, memory, padding, false, null!).Item1, dp.call(memory, memory, memory, padding, false, null).Item1, 1e-6);
    }

    /// <summary>The measured behaviour the type's documentation describes: if TorchSharp starts masking, revisit it.</summary>
    [Fact]
    public void TheFusedLayerAddsABooleanAttentionMaskInsteadOfMasking()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var fused = nn.MultiheadAttention(E, 2);
        fused.eval();
        var g = new Generator(5);
        var query = torch.randn([5, N, E], generator: g);
        var causal = torch.triu(torch.ones([5, 5], dtype: ScalarType.Bool), 1);
        var withBool = fused.call(query, query, query, null!, false, causal).Item1;
        AssertClose(fused.call(query, query, query, null!, false, causal.to(ScalarType.Float32)).Item1, withBool, 1e-6);
        Assert.True((withBool - fused.call(query, query, query, null!, false, MinusInfinityWhere(causal)).Item1).abs().max().item<float>() > 0.1);
    }

    [Fact]
    public void CrossAttentionWithOtherKeySizesComputesWhatTheFusedLayerComputes()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        var fused = nn.MultiheadAttention(E, 2, kdim: 6, vdim: 6);
        var dp = DpMultiheadAttention.FromTorch(fused);
        Assert.Equal(2, dp.NumHeads);
        Assert.Equal(6, dp.KeyDim);
        fused.eval();
        dp.eval();
        var g = new Generator(6);
        var query = torch.randn([5, N, E], generator: g);
        var key = torch.randn([7, N, 6], generator: g);
        var value = torch.randn([7, N, 6], generator: g);
        var padding = torch.zeros([N, 7], dtype: ScalarType.Bool);
        padding[1, 0] = torch.tensor(true);
        var (expected, expectedWeights) = fused.call(query, key, value, padding, true, null!);
        var (actual, weights) = dp.call(query, key, value, padding, true, null);
        AssertClose(expected, actual, 1e-6);
        AssertClose(expectedWeights, weights, 1e-6);
    }

    [Fact]
    public void KeysAndValuesOfDifferentSizesEqualTheFusedLayerOnZeroPaddedValues()
    {
        // The fused layer needs keys and values of one shape; with values zero-padded to the key size, the extra columns of
        // its value projection multiply zeros, so it computes what a layer with the smaller value size computes.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(9);
        var fused = nn.MultiheadAttention(E, 2, kdim: 6, vdim: 6);
        fused.eval();
        var dp = new DpMultiheadAttention(E, 2, kdim: 6, vdim: 3);
        dp.eval();
        var source = fused.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        using (torch.no_grad())
        {
            ((Linear)dp.QueryProjection).weight!.copy_(source["q_proj_weight"]);
            ((Linear)dp.KeyProjection).weight!.copy_(source["k_proj_weight"]);
            ((Linear)dp.ValueProjection).weight!.copy_(source["v_proj_weight"].narrow(1, 0, 3));
            ((Linear)dp.QueryProjection).bias!.copy_(source["in_proj_bias"].narrow(0, 0, E));
            ((Linear)dp.KeyProjection).bias!.copy_(source["in_proj_bias"].narrow(0, E, E));
            ((Linear)dp.ValueProjection).bias!.copy_(source["in_proj_bias"].narrow(0, 2 * E, E));
            ((Linear)dp.OutputProjection).weight!.copy_(source["out_proj.weight"]);
            ((Linear)dp.OutputProjection).bias!.copy_(source["out_proj.bias"]);
        }

        var g = new Generator(10);
        var query = torch.randn([5, N, E], generator: g);
        var key = torch.randn([7, N, 6], generator: g);
        var value = torch.randn([7, N, 3], generator: g);
        var padded = torch.cat([value, torch.zeros([7, N, 3])], 2);
        AssertClose(fused.call(query, key, padded, null!, false, null!).Item1, dp.call(query, key, value, null, false, null).Item1, 1e-6);
        Assert.Throws<NotSupportedException>(() => DpMultiheadAttention.FromTorch(nn.MultiheadAttention(E, 2, kdim: 6, vdim: 3)));
    }

    [Fact]
    public void FloatKeyPaddingMaskIsAddedToTheScores()
    {
        // Oracle: the fused layer, one example at a time, given that example's row as an [L, S] float attention mask.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        var fused = nn.MultiheadAttention(E, 2);
        var dp = DpMultiheadAttention.FromTorch(fused);
        fused.eval();
        dp.eval();
        var g = new Generator(12);
        var query = torch.randn([5, N, E], generator: g);
        var memory = torch.randn([7, N, E], generator: g);
        var padding = torch.randn([N, 7], generator: g);
        var actual = dp.call(query, memory, memory, padding, false, null).Item1;
        for (long n = 0; n < N; n++)
        {
            var rowMask = padding[n].unsqueeze(0).expand(5, 7).contiguous();
            var expected = fused.call(query.narrow(1, n, 1), memory.narrow(1, n, 1), memory.narrow(1, n, 1), null!, false, rowMask).Item1;
            AssertClose(expected, actual.narrow(1, n, 1), 1e-6);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PerHeadAttentionMasksMatchTheFusedLayerHeadByHead(bool boolean)
    {
        // Oracle: the output is out_proj(Σ_h context_h) = Σ_h out_proj(context_h) − (H − 1)·out_bias, and head h's context
        // alone is what the fused layer computes with the value rows of every other head zeroed. So the fused layer, run per
        // example and per head with row n·H + h of the 3-D mask as an [L, S] mask, gives the answer.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(13);
        const long H = 2;
        const long D = E / H;
        var fused = nn.MultiheadAttention(E, H);
        var dp = DpMultiheadAttention.FromTorch(fused);
        fused.eval();
        dp.eval();
        var g = new Generator(14);
        var query = torch.randn([5, N, E], generator: g);
        var memory = torch.randn([7, N, E], generator: g);
        var blocked = torch.rand([N * H, 5, 7], generator: g) > 0.6;
        blocked[.., .., 2] = torch.tensor(false); // every query keeps a key
        var dpMask = boolean ? blocked : torch.randn([N * H, 5, 7], generator: g);
        var fusedMask = boolean ? MinusInfinityWhere(blocked) : dpMask;
        var actual = dp.call(query, memory, memory, null, false, dpMask).Item1;

        var inProjWeight = fused.named_parameters().Single(p => p.name == "in_proj_weight").parameter;
        var inProjBias = fused.named_parameters().Single(p => p.name == "in_proj_bias").parameter;
        var outBias = fused.named_parameters().Single(p => p.name == "out_proj.bias").parameter.detach().clone();
        var savedWeight = inProjWeight.detach().clone();
        var savedBias = inProjBias.detach().clone();
        var expected = torch.zeros([5, N, E]);
        for (long h = 0; h < H; h++)
        {
            using (torch.no_grad())
            {
                inProjWeight.copy_(savedWeight);
                inProjBias.copy_(savedBias);
                var keep = torch.zeros(3 * E);
                keep.narrow(0, 0, 2 * E).fill_(1);
                keep.narrow(0, (2 * E) + (h * D), D).fill_(1);
                inProjWeight.mul_(keep.unsqueeze(1));
                inProjBias.mul_(keep);
            }

            for (long n = 0; n < N; n++)
            {
                var q = query.narrow(1, n, 1);
                var m = memory.narrow(1, n, 1);
                expected[.., n] += fused.call(q, m, m, null!, false, fusedMask[(n * H) + h]).Item1.squeeze(1);
            }
        }

        expected -= (H - 1) * outBias;
        AssertClose(expected, actual, 1e-6);
    }

    [Fact]
    public void BadMasksAreRefusedWithTheirShapes()
    {
        using var scope = torch.NewDisposeScope();
        var dp = new DpMultiheadAttention(E, 2);
        var x = torch.randn([5, N, E]);
        var error = Assert.Throws<ArgumentException>(() => dp.call(x, x, x, null, false, torch.zeros([5, 4])));
        Assert.Contains("[L, S] = [5, 5]", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => dp.call(x, x, x, torch.zeros([N, 4], dtype: ScalarType.Bool), false, null));
        Assert.Contains("keyPaddingMask", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => dp.call(x, x, x, null, false, torch.zeros([5, 5], dtype: ScalarType.Int64)));
        Assert.Contains("boolean", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nn.Activations.ReLU)]
    [InlineData(nn.Activations.GELU)]
    public void EncoderLayerAndEncoderComputeWhatTheFusedOnesCompute(nn.Activations activation)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var fusedLayer = nn.TransformerEncoderLayer(E, 2, 16, 0.0, activation);
        var dpLayer = DpTransformerEncoderLayer.FromTorch(fusedLayer, dropout: 0.0);
        Assert.Equal(activation, dpLayer.Activation);
        Assert.Equal(2, dpLayer.SelfAttention.NumHeads);
        var fusedEncoder = nn.TransformerEncoder(fusedLayer, 3);
        var dpEncoder = DpTransformerEncoder.FromTorch(fusedEncoder, dropout: 0.0);
        Assert.Equal(3, dpEncoder.Layers.Count);
        Assert.Equal(activation, dpEncoder.Layers[2].Activation);
        foreach (var m in new nn.Module[] { fusedLayer, dpLayer, fusedEncoder, dpEncoder })
        {
            m.eval();
        }

        var g = new Generator(7);
        var src = torch.randn([6, N, E], generator: g);
        var padding = torch.zeros([N, 6], dtype: ScalarType.Bool);
        padding[1, 4] = torch.tensor(true);
        padding[1, 5] = torch.tensor(true);
        var causal = torch.triu(torch.ones([6, 6], dtype: ScalarType.Bool), 1);
        var minusInfinity = MinusInfinityWhere(causal);
        AssertClose(fusedLayer.call(src), dpLayer.call(src), 1e-6);
        AssertClose(fusedLayer.call(src, minusInfinity, padding), dpLayer.call(src, causal, padding), 1e-6);
        AssertClose(fusedLayer.call(src, minusInfinity, padding), dpLayer.call(src, minusInfinity, padding), 1e-6);
        AssertClose(fusedEncoder.call(src), dpEncoder.call(src), 1e-6);
        AssertClose(fusedEncoder.call(src, minusInfinity, padding), dpEncoder.call(src, causal, padding), 1e-6);
        AssertClose(fusedEncoder.call(src, minusInfinity), dpEncoder.call(src, minusInfinity), 1e-6);
    }

    [Fact]
    public void DpLayersRegisterEachChildOnceUnderPyTorchNames()
    {
        // TorchSharp registers a module's fields when a parent registers the module; children registered only under other
        // names would appear twice (and get two hooks each, doubling their per-example gradients).
        using var scope = torch.NewDisposeScope();
        var encoder = new DpTransformerEncoder(new DpTransformerEncoderLayer(E, 2, 16, 0.0), 2);
        var holder = new Holder(encoder);
        var names = holder.named_modules().Select(m => m.name).ToList();
        Assert.Equal(names.Distinct().Count(), names.Count);
        Assert.Equal(22, names.Count); // encoder, layers, 2 × (layer, self_attn, 4 projections, 2 linear, 2 norm)
        Assert.Contains("encoder.layers.1.self_attn.q_proj", names);
        Assert.Equal(32, holder.state_dict().Count);
    }

    [Theory]
    [InlineData(GradSampleMethod.Ghost)]
    [InlineData(GradSampleMethod.Materialize)]
    public void EncoderPerExampleGradientsEqualTheBatchOfOneLoop(GradSampleMethod method)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(6);
        var model = new TinyTransformer(crossAttention: false);
        var (x, padding, mask) = Inputs(seed: 8);
        AssertMatchesOracle(model, method, i => model.call(x.narrow(1, i, 1), padding.narrow(0, i, 1), mask), () => model.call(x, padding, mask));
    }

    [Fact]
    public void CrossAttentionPerExampleGradientsEqualTheBatchOfOneLoop()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        var model = new TinyTransformer(crossAttention: true);
        var (x, padding, mask) = Inputs(seed: 9);
        AssertMatchesOracle(model, GradSampleMethod.Auto, i => model.call(x.narrow(1, i, 1), padding.narrow(0, i, 1), mask), () => model.call(x, padding, mask));
    }

    [Fact]
    public void FixReplacesFusedAttentionAndEncodersWithTheirWeights()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(8);
        var model = new FusedHolder();
        Assert.Contains(ModuleValidator.Validate(model), p => p.Problem.Contains("MultiheadAttention", StringComparison.Ordinal));
        model.eval();
        var g = new Generator(10);
        var src = torch.randn([6, N, E], generator: g);
        var before = model.call(src);
        ModuleValidator.Fix(model);
        var encoder = Assert.IsType<DpTransformerEncoder>(model.Encoder);
        var attention = Assert.IsType<DpMultiheadAttention>(model.Attention);
        Assert.Equal(2, encoder.Layers[0].SelfAttention.NumHeads);
        Assert.Equal(0.1, encoder.Layers[0].Dropout);
        Assert.Equal(4, attention.NumHeads);
        Assert.False(attention.training);
        Assert.Empty(ModuleValidator.Validate(model));
        AssertClose(before, model.call(src), 1e-6);
    }

    [Fact]
    public void TheProbeRefusesAFusedLayerThatSeveralHeadCountsReproduce()
    {
        // With a zero query projection every score is the same for every head count: the heads cannot be told apart.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(17);
        var fused = nn.MultiheadAttention(E, 2);
        using (torch.no_grad())
        {
            fused.named_parameters().Single(p => p.name == "in_proj_weight").parameter.narrow(0, 0, E).zero_();
        }

        var error = Assert.Throws<NotSupportedException>(() => DpMultiheadAttention.FromTorch(fused));
        Assert.Contains("heads reproduce", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-0.1, 0.0, "TransformerDropout")]
    [InlineData(1.0, 0.0, "TransformerDropout")]
    [InlineData(0.1, double.NaN, "AttentionDropout")]
    public void FixRefusesDropoutOutsideTheUnitInterval(double transformerDropout, double attentionDropout, string name)
    {
        using var scope = torch.NewDisposeScope();
        var options = new ModuleFixOptions { TransformerDropout = transformerDropout, AttentionDropout = attentionDropout };
        var error = Assert.Throws<ArgumentException>(() => ModuleValidator.Fix(new FusedHolder(), options));
        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void AModelWithAttentionTrainsOneStepThroughThePrivacyEngine()
    {
        // σ = 0 and a huge C: the private step must be the ordinary SGD step on the same batch, with the gradient of the summed
        // loss divided by the expected batch size.
        using var scope = torch.NewDisposeScope();
        var g = new Generator(15);
        var x = torch.randn([40, 5, E], generator: g);
        var y = torch.randint(0, 3, [40], generator: g, dtype: ScalarType.Int64);
        torch.manual_seed(16);
        var model = new AttentionClassifier();
        torch.manual_seed(16);
        var reference = new AttentionClassifier();
        const double LearningRate = 0.5;
        var options = new DpSgdOptions { MaxGradNorm = 1e6, NoiseMultiplier = 0, AllowNoNoise = true, ExpectedBatchSize = 10, Seed = 1 };
        var refused = Assert.Throws<InvalidModuleException>(() => new PrivacyEngine().MakePrivate(model, optim.SGD(model.parameters(), LearningRate), x, y, options));
        Assert.Contains(refused.Problems, p => p.ModuleType == nameof(MultiheadAttention));

        ModuleValidator.Fix(model);
        ModuleValidator.Fix(reference);
        var (optimizer, loader) = new PrivacyEngine().MakePrivate(model, optim.SGD(model.parameters(), LearningRate), x, y, options);
        using (optimizer)
        {
            var batch = loader.NextBatch();
            Assert.True(batch.Count > 0);
            var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(batch["data"]), batch["label"], reduction: nn.Reduction.None);
            optimizer.Backward(loss);
            optimizer.step();

            nn.functional.cross_entropy(reference.call(batch["data"]), batch["label"], reduction: nn.Reduction.Sum).backward();
            var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.mul(-LearningRate / options.ExpectedBatchSize));
            var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach() - before[p.name]);
            Assert.Contains(actual.Keys, name => name.StartsWith("attention.k_proj.", StringComparison.Ordinal));
            Assert.All(actual, kv => Assert.True(kv.Value.abs().max().item<float>() > 0, $"{kv.Key} did not change"));
            var error = RelativeError(actual, expected);
            Assert.True(error < 1e-5, $"the private step differs from the SGD step by {error:G3}");
        }
    }

    [Fact]
    public void TransformerClassifierAndItsFusedTwinHaveTheSameParametersUnderTheSameNames()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(17);
        var dp = ModelZoo.TransformerClassifier();
        var fused = ModelZoo.TransformerClassifierFused();
        Assert.Equal(429_570, dp.parameters().Sum(p => p.numel())); // the count in ModelZoo.TransformerClassifier's documentation
        Assert.Equal(429_570, fused.parameters().Sum(p => p.numel()));
        Assert.NotEmpty(ModuleValidator.Validate(fused));
        var x = torch.randint(0, 256, [3, 10], dtype: ScalarType.Int64);
        var before = fused.call(x);

        // Fused → DP by Fix (no dropout, as the zoo's layers); the fixed model's names are the DP model's.
        ModuleValidator.Fix(fused, new ModuleFixOptions { TransformerDropout = 0.0 });
        Assert.Empty(ModuleValidator.Validate(fused));
        var expected = dp.state_dict().Keys.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, fused.state_dict().Keys.Order(StringComparer.Ordinal).ToList());
        Assert.Contains("encoder.layers.1.self_attn.v_proj.weight", expected);
        AssertClose(before, fused.call(x), 1e-5);
        dp.load_state_dict(fused.state_dict());
        AssertClose(fused.call(x), dp.call(x), 0);

        // LoRA on the query and value projections: r·(in + out) = 8·256 per adapted layer, 2 per encoder layer.
        var lora = Lora.Apply(dp, new LoraOptions { Rank = 8, Targets = ["q_proj", "v_proj"] });
        Assert.Equal(4, lora.AdaptedPaths.Count);
        Assert.Equal(4 * 8 * 256, lora.TrainableParameters);
    }

    [Fact]
    public void TransformerClassifierPerExampleGradientsEqualTheBatchOfOneLoop()
    {
        // Embedding, encoder, mean over positions and head together: the engine against the batch-of-one loop.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(18);
        var model = ModelZoo.TransformerClassifier(vocabularySize: 11, modelDimension: E, heads: 2, feedforward: 16, numLayers: 2, classes: 3).to(ScalarType.Float64);
        var x = torch.randint(0, 11, [N, 6], generator: new Generator(19), dtype: ScalarType.Int64);
        AssertMatchesOracle(model, GradSampleMethod.Auto, i => model.call(x.narrow(0, i, 1)), () => model.call(x));
    }

    [Fact]
    public void ByteTransformerLmPerExampleGradientsEqualTheBatchOfOneLoop()
    {
        // Token and positional embeddings, the causally masked encoder and the per-position head: the engine against the
        // batch-of-one loop, so the pretrained model can be fine-tuned privately as it is.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(20);
        var model = ModelZoo.ByteTransformerLm(modelDimension: E, heads: 2, feedforward: 16, numLayers: 2, maxSequenceLength: 8).to(ScalarType.Float64);
        var x = torch.randint(0, ByteVocabulary.Size, [N, 6], generator: new Generator(21), dtype: ScalarType.Int64);
        AssertMatchesOracle(model, GradSampleMethod.Auto, i => model.call(x.narrow(0, i, 1)), () => model.call(x));
    }

    [Fact]
    public void CausalTransformerClassifierPerExampleGradientsEqualTheBatchOfOneLoopWithPadding()
    {
        // Texts of different lengths padded at the end: the masked mean over each text's own positions, through the causal
        // encoder, still gives every example exactly its batch-of-one gradient.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(22);
        var model = ModelZoo.CausalTransformerClassifier(vocabularySize: 13, modelDimension: E, heads: 2, feedforward: 16, numLayers: 2, maxSequenceLength: 8, classes: 3)
            .to(ScalarType.Float64);
        var x = torch.randint(2, 13, [N, 6], generator: new Generator(23), dtype: ScalarType.Int64);
        x[0, TensorIndex.Slice(4, 6)] = torch.tensor(WordVocabulary.PadId);
        x[3, TensorIndex.Slice(2, 6)] = torch.tensor(WordVocabulary.PadId);
        AssertMatchesOracle(model, GradSampleMethod.Auto, i => model.call(x.narrow(0, i, 1)), () => model.call(x));
    }

    [Fact]
    public void PaddingAfterATextChangesNoneOfItsLogits()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(24);
        var model = ModelZoo.CausalTransformerClassifier(vocabularySize: 13, modelDimension: E, heads: 2, feedforward: 16, numLayers: 1, maxSequenceLength: 10, classes: 2)
            .to(ScalarType.Float64);
        model.eval();
        var text = torch.tensor(new long[] { 5, 7, 2, 9 }).unsqueeze(0);
        var padded = torch.cat([text, torch.full([1, 6], WordVocabulary.PadId, ScalarType.Int64)], 1);
        var difference = (model.call(text) - model.call(padded)).abs().max().item<double>();
        Assert.True(difference < 1e-12, $"padding changed the logits by {difference:G3}");

        // A different token (not padding) in the same place does change them: the check can fail.
        padded[0, 5] = torch.tensor(3L);
        Assert.True((model.call(text) - model.call(padded)).abs().max().item<double>() > 1e-6);
    }

    private static Tensor MinusInfinityWhere(Tensor mask) => torch.zeros(mask.shape).masked_fill(mask, double.NegativeInfinity);

    private static (Tensor X, Tensor Padding, Tensor Mask) Inputs(long seed)
    {
        var g = new Generator((ulong)seed);
        var x = torch.randn([6, N, E], dtype: ScalarType.Float64, generator: g);
        var padding = torch.zeros([N, 6], dtype: ScalarType.Bool);
        padding[0, 5] = torch.tensor(true);
        padding[3, 3] = torch.tensor(true);
        padding[3, 4] = torch.tensor(true);
        var mask = torch.triu(torch.ones([6, 6], dtype: ScalarType.Bool), 1);
        return (x, padding, mask);
    }

    private static void AssertMatchesOracle(nn.Module model, GradSampleMethod method, Func<long, Tensor> exampleOutput, Func<Tensor> batchOutput)
    {
        var clipping = ClippingOptions.Flat(1e9);
        using var hooks = new GradSampleHooks(model, GradSamplerRegistry.Default, new GradSampleOptions { Method = method });
        Assert.Equal(model.named_parameters().Count(), hooks.ParameterNames.Count);
        ClippedSumResult engine;
        using (hooks.BeginStep())
        {
            engine = hooks.ClipAndSum(Case.PerExampleLoss(batchOutput()), clipping);
        }

        var oracle = new PerExampleLoopClipper(model).ClipAndSum(N, i => Case.PerExampleLoss(exampleOutput(i)).sum(), clipping);
        var normError = MaxRelativeDifference(engine.PerExampleNorms, oracle.PerExampleNorms);
        Assert.True(normError < 1e-5, $"per-example norms differ by {normError:G3}");
        var sumError = RelativeError(engine.Gradients, oracle.Gradients);
        Assert.True(sumError < 1e-5, $"summed gradients differ by {sumError:G3}");

        // Clipped: every example's factor must match too.
        var c = Median(oracle.PerExampleNorms);
        using (hooks.BeginStep())
        {
            engine = hooks.ClipAndSum(Case.PerExampleLoss(batchOutput()), ClippingOptions.Flat(c));
        }

        oracle = new PerExampleLoopClipper(model).ClipAndSum(N, i => Case.PerExampleLoss(exampleOutput(i)).sum(), ClippingOptions.Flat(c));
        Assert.True(engine.ClipFactors!.lt(1).any().item<bool>(), "no example was clipped: the clipped check could not fail");
        var clippedError = RelativeError(engine.Gradients, oracle.Gradients);
        Assert.True(clippedError < 1e-5, $"clipped sums differ by {clippedError:G3}");
    }

    private static void AssertClose(Tensor expected, Tensor? actual, double tolerance)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.shape, actual.shape);
        var difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= tolerance, $"max |difference| {difference:G3} > {tolerance:G3}");
    }

    /// <summary>A parent that registers an encoder, as a user's model would.</summary>
    private sealed class Holder : nn.Module
    {
        public Holder(DpTransformerEncoder encoder)
            : base(nameof(Holder)) => register_module("encoder", encoder);
    }

    /// <summary>An encoder (optionally followed by cross-attention to the input) and a head, sequence-first, float64.</summary>
    private sealed class TinyTransformer : nn.Module
    {
        private readonly DpTransformerEncoder _encoder;
        private readonly DpMultiheadAttention? _cross;
        private readonly Linear _head;

        public TinyTransformer(bool crossAttention)
            : base(nameof(TinyTransformer))
        {
            _encoder = new DpTransformerEncoder(new DpTransformerEncoderLayer(E, 2, 16, 0.0, dtype: ScalarType.Float64), 2);
            _cross = crossAttention ? new DpMultiheadAttention(E, 4, kdim: E, vdim: E, dtype: ScalarType.Float64) : null;
            _head = nn.Linear(E, 3, dtype: ScalarType.Float64);
            register_module("encoder", _encoder);
            if (_cross is not null)
            {
                register_module("cross", _cross);
            }

            register_module("head", _head);
        }

        public Tensor call(Tensor x, Tensor padding, Tensor mask)
        {
            var h = _encoder.call(x, mask, padding); // [S, n, E]
            if (_cross is not null)
            {
                h = _cross.call(h, x, x, padding, false, null).Item1;
            }

            var keep = padding.logical_not().transpose(0, 1).unsqueeze(-1).to(h.dtype); // [S, n, 1]
            var pooled = (h * keep).sum(0L) / keep.sum(0L);
            return _head.call(pooled);
        }
    }

    /// <summary>A model written against the fused modules, held in fields of their generic module types.</summary>
    private sealed class FusedHolder : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor, Tensor, Tensor> _encoder;
        private readonly nn.Module<Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, Tuple<Tensor, Tensor>> _attention;

        public FusedHolder()
            : base(nameof(FusedHolder))
        {
            _encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, 2, 16, 0.1), 2);
            _attention = nn.MultiheadAttention(E, 4);
            register_module("encoder", _encoder);
            register_module("attention", _attention);
        }

        public nn.Module Encoder => _encoder;

        public nn.Module Attention => _attention;

        public override Tensor forward(Tensor src)
        {
            var h = _encoder.call(src, null!, null!);
            return _attention.call(h, src, src, null, false, null).Item1;
        }
    }

    /// <summary>Batch-first [N, S, E] → self-attention (a fused layer until <see cref="ModuleValidator.Fix(nn.Module)"/>) → mean → 3 classes.</summary>
    private sealed class AttentionClassifier : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, Tuple<Tensor, Tensor>> _attention;
        private readonly Linear _head;

        public AttentionClassifier()
            : base(nameof(AttentionClassifier))
        {
            _attention = nn.MultiheadAttention(E, 2);
            _head = nn.Linear(E, 3);
            register_module("attention", _attention);
            register_module("head", _head);
        }

        public override Tensor forward(Tensor x)
        {
            var h = x.transpose(0, 1); // [S, N, E]
            var attended = _attention.call(h, h, h, null, false, null).Item1;
            return _head.call(attended.mean([0L]));
        }
    }
}
