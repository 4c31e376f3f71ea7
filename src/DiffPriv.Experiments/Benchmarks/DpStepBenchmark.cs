using System.Diagnostics;
using System.Globalization;
using DiffPriv.Accounting;
using DiffPriv.Experiments.SecretSharer;
using DiffPriv.Layers;
using DiffPriv.Models;
using DiffPriv.Validation;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Benchmarks;

/// <summary>
/// A DP-SGD step against the plain step of the same model on the same synthetic batch, in one process: median step
/// times of interleaved steps after a warm-up, and the peak memory of each kind of step (measured by the caller in a
/// fresh process each, through <see cref="MeasurePhase"/>).
/// </summary>
public static class DpStepBenchmark
{
    /// <summary>Default vocabulary of <c>char-lstm</c> (lower-cased newswire has about 60 distinct characters).</summary>
    public const int CharLstmVocabulary = 64;

    /// <summary>Characters per example of <c>char-lstm</c> (TF Privacy's language-model tutorial).</summary>
    public const int CharLstmSequenceLength = 80;

    /// <summary>Token ids of <c>transformer</c> and <c>transformer-lora</c>: bytes.</summary>
    public const int TransformerVocabulary = 256;

    /// <summary>Tokens per example of <c>transformer</c> and <c>transformer-lora</c>.</summary>
    public const int TransformerSequenceLength = 128;

    /// <summary>Ids per bag of <c>embedding-bag</c> (its default sequence length).</summary>
    public const int EmbeddingBagSequenceLength = 128;

    /// <summary>LSTM hidden size of <c>char-lstm</c> (TF Privacy's language-model tutorial; its default width).</summary>
    public const int CharLstmHiddenSize = 256;

    /// <summary>d_model of <c>transformer</c> and <c>transformer-lora</c> (their default width; 4 heads, feed-forward 4·d_model).</summary>
    public const int TransformerModelDimension = 128;

    /// <summary>Attention heads of <c>transformer</c> and <c>transformer-lora</c>: their width must be a multiple of it.</summary>
    public const int TransformerHeads = 4;

    /// <summary>Embedding dimension of <c>embedding-bag</c> (its default width).</summary>
    public const int EmbeddingBagDimension = 64;

    /// <summary>Rank r of the LoRA adapters of <c>transformer-lora</c> (on every layer's <c>q_proj</c> and <c>v_proj</c>).</summary>
    public const int TransformerLoraRank = 8;

    /// <summary>Untimed pairs of steps before timing (see <see cref="Run"/>); 5 more than the JIT's 30-call tiering threshold.</summary>
    public const int WarmUpSteps = 35;

    /// <summary>Warm-up stops early after this long (and at least 3 pairs).</summary>
    public static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(5);

    /// <summary>The default tokens per example of a model: 80 (char-lstm), 128 (transformers, embedding-bag); null for mnist-cnn.</summary>
    /// <param name="model">A model name of <see cref="BenchSetup.Model"/>.</param>
    /// <returns>The length, or null when the model reads no sequence.</returns>
    public static int? DefaultSequenceLength(string model) => model switch
    {
        "char-lstm" => CharLstmSequenceLength,
        "transformer" or "transformer-lora" => TransformerSequenceLength,
        "embedding-bag" => EmbeddingBagSequenceLength,
        _ => null,
    };

    /// <summary>The default width of a model: 256 (char-lstm), 128 (transformers), 64 (embedding-bag), 1 (mnist-cnn).</summary>
    /// <param name="model">A model name of <see cref="BenchSetup.Model"/>.</param>
    /// <returns>The width (see <see cref="BenchSetup.Width"/>).</returns>
    public static int DefaultWidth(string model) => model switch
    {
        "char-lstm" => CharLstmHiddenSize,
        "transformer" or "transformer-lora" => TransformerModelDimension,
        "embedding-bag" => EmbeddingBagDimension,
        _ => 1,
    };

    /// <summary>Checks that a model can be built with a width (<see cref="BenchSetup.Width"/>): ≥ 1, and for the transformers a multiple of <see cref="TransformerHeads"/>.</summary>
    /// <param name="model">A model name of <see cref="BenchSetup.Model"/>.</param>
    /// <param name="width">The width.</param>
    /// <exception cref="ArgumentException">It cannot.</exception>
    public static void CheckWidth(string model, int width)
    {
        if (width < 1)
        {
            throw new ArgumentException($"the width must be ≥ 1 (got {width})");
        }

        if (model is "transformer" or "transformer-lora" && width % DpStepBenchmark.TransformerHeads != 0)
        {
            throw new ArgumentException($"the width of {model} (d_model) must be a multiple of its {DpStepBenchmark.TransformerHeads} heads (got {width})");
        }
    }

    /// <summary>Measures the two kinds of step.</summary>
    /// <param name="setup">The model and batch.</param>
    /// <param name="steps">Timed steps of each kind, interleaved (≥ 3).</param>
    /// <param name="peakMemoryInChild">
    /// Measures the peak memory of one kind of step ("plain" or "dp") in a fresh process, which calls
    /// <see cref="MeasurePhase"/> there, so that neither kind inherits the other's allocator pool; returns MB.
    /// </param>
    /// <param name="progress">Phase messages; may be null.</param>
    /// <returns>The medians, the peaks and the thread count.</returns>
    public static BenchReport Run(BenchSetup setup, int steps, Func<BenchSetup, string, double> peakMemoryInChild, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(peakMemoryInChild);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 3);
        progress?.Report(ProgressUpdate.Detail("measuring peak memory (one child process per kind of step)…"));
        var dpPeak = peakMemoryInChild(setup, "dp");
        var plainPeak = peakMemoryInChild(setup, "plain");

        progress?.Report(ProgressUpdate.Detail("timing (interleaved)…"));
        var (plainStep, dpStep, cleanup) = CreateSteps(setup);
        using (cleanup)
        {
            // Warm-up until the steady state of a long training run: tiered compilation runs managed code unoptimised for its
            // first 30 calls, which inflated the DP step (more managed code per step) by about 0.05 of the ratio when only
            // 3 steps came first. At least 3 pairs, then up to 35 unless 5 s have passed (slow steps: tier-0 overhead is
            // then negligible).
            var warm = Stopwatch.StartNew();
            for (var i = 0; i < WarmUpSteps && (i < 3 || warm.Elapsed < WarmUpLimit); i++)
            {
                plainStep();
                dpStep();
            }

            var plainTimes = new double[steps];
            var dpTimes = new double[steps];
            for (var i = 0; i < steps; i++)
            {
                plainTimes[i] = Time(plainStep);
                dpTimes[i] = Time(dpStep);
            }

            return new BenchReport(setup.Model, setup.BatchSize, Median(plainTimes), Median(dpTimes), plainPeak, dpPeak, torch.get_num_threads());
        }
    }

    // The plain step (mean loss, backward, SGD) and the DP step (per-example losses, clip, noise, SGD) of two copies of
    // the same model on the same synthetic batch (see BuildPair); each optimizer covers the copy's trainable parameters.
    private static (Action Plain, Action Dp, IDisposable Cleanup) CreateSteps(BenchSetup setup)
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(0);
        var batchSize = setup.BatchSize;
        var (x, y) = SyntheticBatch(setup);
        var (plainModel, dpModel) = BuildPair(setup);
        var plainOptimizer = optim.SGD(plainModel.parameters().Where(p => p.requires_grad), 0.05);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        var training = engine.MakePrivate(dpModel, optim.SGD(dpModel.parameters().Where(p => p.requires_grad), 0.05), x, y, new DpSgdOptions
        {
            MaxGradNorm = 1.0,
            NoiseMultiplier = 1.1,
            ExpectedBatchSize = batchSize,
            MaxPhysicalBatchSize = batchSize,
        });
        var dp = training.Optimizer;

        void PlainStep()
        {
            using var scope = torch.NewDisposeScope();
            plainOptimizer.zero_grad();
            MeanLoss(plainModel.call(x), y).backward();
            plainOptimizer.step();
        }

        void DpStep()
        {
            using var scope = torch.NewDisposeScope();
            // Every private step takes one fresh draw of its loader; with N = B (q = 1) that draw is all of x, so the step
            // can run on x itself and time the same work as the plain step.
            training.Loader.NextBatch();
            using (dp.BeginPhysicalBatch())
            {
                dp.Backward(PerExampleLoss(dpModel.call(x), y));
            }

            dp.step();
        }

        return (PlainStep, DpStep, training);
    }

    // Cross entropy; for sequence outputs [B, T, V] it is per token, and an example's loss is the mean over its tokens.
    private static Tensor MeanLoss(Tensor logits, Tensor targets) =>
        logits.dim() == 3
            ? nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
            : nn.functional.cross_entropy(logits, targets);

    // The experiment's per-example loss; -1 never occurs as a target here, so every token counts.
    private static Tensor PerExampleLoss(Tensor logits, Tensor targets) =>
        logits.dim() == 3
            ? CharLmData.PerExampleLoss(logits, targets, padId: -1)
            : nn.functional.cross_entropy(logits, targets, reduction: nn.Reduction.None);

    /// <summary>Peak memory increase, in MB, of five steps of one kind in this process (Linux; NaN elsewhere).</summary>
    /// <param name="setup">The model and batch.</param>
    /// <param name="phase"><c>plain</c> or <c>dp</c>.</param>
    /// <returns>MB above the resident memory before the steps.</returns>
    public static double MeasurePhase(BenchSetup setup, string phase)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var (plainStep, dpStep, cleanup) = CreateSteps(setup);
        using (cleanup)
        {
            return PeakIncreaseMb(phase == "dp" ? dpStep : plainStep, 5);
        }
    }

    // Two copies of the model with the same weights, (plain, DP). char-lstm and transformer: the plain copy keeps TorchSharp's
    // fused layer (nn.LSTM, nn.TransformerEncoder), the DP copy is the same model after ModuleValidator.Fix (DpLstm,
    // DpTransformerEncoder), so both compute the same function. transformer-lora: LoRA cannot wrap the fused encoder's
    // packed query/key/value projection (one in_proj_weight), so both copies are the fixed model with the same adapters on
    // q_proj and v_proj and everything else frozen: the plain step is the same LoRA fine-tuning without DP.
    // The width (BenchSetup.Width) sets the CNN's channel multiplier, the LSTM's hidden size, the transformer's d_model (with
    // the feed-forward width 4·d_model, as the default 512 = 4·128) and the embedding dimension.
    internal static (nn.Module<Tensor, Tensor> Plain, nn.Module<Tensor, Tensor> Dp) BuildPair(BenchSetup setup)
    {
        var w = setup.EffectiveWidth;
        return setup.Model switch
        {
            "mnist-cnn" => (ModelZoo.WideMnistCnn(w), ModelZoo.WideMnistCnn(w)),
            "char-lstm" => FusedAndFixed(() => ModelZoo.CharLstmFused(setup.VocabularySize, hiddenSize: w), new ModuleFixOptions()),
            "transformer" => FusedAndFixed(() => Transformer(w), NoDropout),
            "transformer-lora" => BothWithLora(FusedAndFixed(() => Transformer(w), NoDropout), w),
            _ => FusedAndCopy(() => ModelZoo.EmbeddingBagFused(embeddingDimension: w), () => ModelZoo.EmbeddingBag(embeddingDimension: w)),
        };
    }

    private static nn.Module<Tensor, Tensor> Transformer(int modelDimension) =>
        ModelZoo.TransformerClassifierFused(TransformerVocabulary, modelDimension, TransformerHeads, 4 * modelDimension);

    // (the fused model, the private model with its weights): the same function and parameter names.
    private static (nn.Module<Tensor, Tensor> Fused, nn.Module<Tensor, Tensor> Private) FusedAndCopy(Func<nn.Module<Tensor, Tensor>> fused, Func<nn.Module<Tensor, Tensor>> copy)
    {
        var plain = fused();
        var dp = copy();
        dp.load_state_dict(plain.state_dict());
        return (plain, dp);
    }

    // (the fused model, a second one with its weights after ModuleValidator.Fix).
    private static (nn.Module<Tensor, Tensor> Fused, nn.Module<Tensor, Tensor> Fixed) FusedAndFixed(Func<nn.Module<Tensor, Tensor>> build, ModuleFixOptions options)
    {
        var fused = build();
        var copy = build();
        copy.load_state_dict(fused.state_dict());
        ModuleValidator.Fix(copy, options);
        return (fused, copy);
    }

    // Two copies of the fixed model with the same LoRA adapters (the fused one is not used: its in_proj cannot be wrapped).
    private static (nn.Module<Tensor, Tensor> Plain, nn.Module<Tensor, Tensor> Dp) BothWithLora((nn.Module<Tensor, Tensor> Fused, nn.Module<Tensor, Tensor> Fixed) pair, int modelDimension)
    {
        var plain = pair.Fixed;
        var dp = Transformer(modelDimension);
        dp.load_state_dict(pair.Fused.state_dict());
        ModuleValidator.Fix(dp, NoDropout);
        pair.Fused.Dispose();
        var lora = new LoraOptions { Rank = TransformerLoraRank, Targets = ["q_proj", "v_proj"] };
        Lora.Apply(plain, lora);
        Lora.Apply(dp, lora);
        dp.load_state_dict(plain.state_dict()); // the same adapter weights (A starts random)
        return (plain, dp);
    }

    // The benchmark's transformers have no dropout (TorchSharp's fused layers default to 0.1, which Fix would otherwise assume).
    private static ModuleFixOptions NoDropout => new() { TransformerDropout = 0.0 };

    internal static (Tensor X, Tensor Y) SyntheticBatch(BenchSetup setup)
    {
        var b = setup.BatchSize;
        var t = setup.EffectiveSequenceLength ?? 0;
        return setup.Model switch
        {
            "mnist-cnn" => (torch.rand([b, 1, 28, 28]), torch.randint(0, 10, [b], dtype: ScalarType.Int64)),
            "char-lstm" => (
                torch.randint(0, setup.VocabularySize, [b, t], dtype: ScalarType.Int64),
                torch.randint(0, setup.VocabularySize, [b, t], dtype: ScalarType.Int64)),
            "transformer" or "transformer-lora" => (
                torch.randint(0, TransformerVocabulary, [b, t], dtype: ScalarType.Int64),
                torch.randint(0, 2, [b], dtype: ScalarType.Int64)),
            _ => (torch.randint(0, 10_000, [b, t], dtype: ScalarType.Int64), torch.randint(0, 2, [b], dtype: ScalarType.Int64)),
        };
    }

    private static double Time(Action step)
    {
        var watch = Stopwatch.StartNew();
        step();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    // Peak resident memory during `count` steps, above the resident memory before them (Linux: VmHWM is reset through
    // /proc/self/clear_refs). Elsewhere returns NaN.
    private static double PeakIncreaseMb(Action step, int count)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (!OperatingSystem.IsLinux())
        {
            for (var i = 0; i < count; i++)
            {
                step();
            }

            return double.NaN;
        }

        File.WriteAllText("/proc/self/clear_refs", "5");
        var baseline = StatusKb("VmRSS");
        for (var i = 0; i < count; i++)
        {
            step();
        }

        return (StatusKb("VmHWM") - baseline) / 1024.0;
    }

    private static double StatusKb(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return double.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return double.NaN;
    }
}
