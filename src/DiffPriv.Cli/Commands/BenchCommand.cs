using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Cli.Experiments;
using DiffPriv.Models;
using DiffPriv.Validation;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv bench dp-sgd</c>: a DP-SGD step against the plain step of the same model, in one process.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string>("--model")
        {
            Description = "mnist-cnn (TF Privacy's tutorial CNN, 28×28 inputs), embedding-bag (embedding 10000×64, mean over 128 tokens, " +
                "linear → 2) or char-lstm (embedding 64 → LSTM 256 → linear to the vocabulary, 80 characters per example; the DP step " +
                "uses DpLstm, the plain step the fused nn.LSTM with the same weights).",
            DefaultValueFactory = _ => "mnist-cnn",
        };
        var batch = new Option<int?>("--batch-size") { Description = "Examples per step (≥ 1; default 256, or 64 for char-lstm)." };
        var vocabulary = new Option<int>("--vocabulary-size")
        {
            Description = "char-lstm only: number of distinct characters (≥ 2).",
            DefaultValueFactory = _ => CharLstmVocabulary,
        };
        var steps = new Option<int>("--steps") { Description = "Timed steps of each kind, interleaved (≥ 3).", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var memoryPhase = new Option<string?>("--memory-phase")
        {
            Description = "Internal: measure the peak memory of one kind of step (plain or dp) in this process and print it in MB.",
            Hidden = true,
        };
        var dpSgd = new Command("dp-sgd", "Median step time and peak memory of DP-SGD vs plain SGD for the same model and batch, measured in one process.");
        dpSgd.Options.Add(model);
        dpSgd.Options.Add(batch);
        dpSgd.Options.Add(vocabulary);
        dpSgd.Options.Add(steps);
        dpSgd.Options.Add(json);
        dpSgd.Options.Add(memoryPhase);
        dpSgd.SetAction(result =>
        {
            var name = result.GetValue(model) ?? "";
            if (name is not ("mnist-cnn" or "embedding-bag" or "char-lstm"))
            {
                throw new UsageException($"--model must be mnist-cnn, embedding-bag or char-lstm (got '{name}')");
            }

            var b = result.GetValue(batch) ?? (name == "char-lstm" ? 64 : 256);
            if (b < 1)
            {
                throw new UsageException($"--batch-size must be ≥ 1 (got {b})");
            }

            var v = result.GetValue(vocabulary);
            if (v < 2)
            {
                throw new UsageException($"--vocabulary-size must be ≥ 2 (got {v})");
            }

            var setup = new BenchSetup(name, b, v);
            var n = result.GetValue(steps);
            if (n < 3)
            {
                throw new UsageException($"--steps must be ≥ 3 (got {n})");
            }

            if (result.GetValue(memoryPhase) is { } phase)
            {
                stdout.WriteLine(MeasurePhase(setup, phase).ToString("R", CultureInfo.InvariantCulture));
                return CliApp.ExitOk;
            }

            var asJson = result.GetValue(json);
            var report = Run(setup, n, asJson ? null : stderr);
            if (asJson)
            {
                var output = new JsonObject
                {
                    ["model"] = report.Model,
                    ["batch_size"] = report.BatchSize,
                    ["plain_ms"] = Math.Round(report.PlainMs, 3),
                    ["dp_ms"] = Math.Round(report.DpMs, 3),
                    ["ratio"] = Math.Round(report.DpMs / report.PlainMs, 3),
                    ["plain_peak_mb"] = Math.Round(report.PlainPeakMb, 1),
                    ["dp_peak_mb"] = Math.Round(report.DpPeakMb, 1),
                    ["threads"] = torch.get_num_threads(),
                };
                if (name == "char-lstm")
                {
                    output["vocabulary_size"] = v;
                    output["sequence_length"] = CharLstmSequenceLength;
                }

                stdout.WriteLine(output.ToJsonString());
            }
            else
            {
                var inv = CultureInfo.InvariantCulture;
                var shape = name == "char-lstm" ? $", vocabulary {v}, {CharLstmSequenceLength} characters per example" : "";
                stdout.WriteLine($"{report.Model}, batch {report.BatchSize}{shape}, {n} interleaved steps each, {torch.get_num_threads()} threads");
                stdout.WriteLine($"  plain step  {report.PlainMs.ToString("F1", inv),8} ms   peak memory +{report.PlainPeakMb.ToString("F0", inv)} MB");
                stdout.WriteLine($"  DP step     {report.DpMs.ToString("F1", inv),8} ms   peak memory +{report.DpPeakMb.ToString("F0", inv)} MB");
                stdout.WriteLine($"  ratio       {(report.DpMs / report.PlainMs).ToString("F2", inv),8}×          memory ×{(report.DpPeakMb / Math.Max(report.PlainPeakMb, 1e-9)).ToString("F2", inv)}");
            }

            return CliApp.ExitOk;
        });

        var bench = new Command("bench", "Performance measurements against the non-private counterpart.");
        bench.Subcommands.Add(dpSgd);
        return bench;
    }

    internal sealed record BenchReport(string Model, int BatchSize, double PlainMs, double DpMs, double PlainPeakMb, double DpPeakMb);

    /// <summary>What to benchmark: the model name, the batch size and (char-lstm) the vocabulary size.</summary>
    internal sealed record BenchSetup(string Model, int BatchSize, int VocabularySize = CharLstmVocabulary);

    /// <summary>Default vocabulary of <c>char-lstm</c> (lower-cased newswire has about 60 distinct characters).</summary>
    internal const int CharLstmVocabulary = 64;

    /// <summary>Characters per example of <c>char-lstm</c> (TF Privacy's language-model tutorial).</summary>
    internal const int CharLstmSequenceLength = 80;

    /// <summary>Untimed pairs of steps before timing (see <see cref="Run"/>); 5 more than the JIT's 30-call tiering threshold.</summary>
    internal const int WarmUpSteps = 35;

    /// <summary>Warm-up stops early after this long (and at least 3 pairs).</summary>
    internal static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(5);

    internal static BenchReport Run(BenchSetup setup, int steps, TextWriter? progress)
    {
        // Memory: each kind of step in a fresh child process, so neither inherits the other's allocator pool.
        progress?.WriteLine("measuring peak memory (one child process per kind of step)…");
        var dpPeak = MeasureInChild(setup, "dp");
        var plainPeak = MeasureInChild(setup, "plain");

        progress?.WriteLine("timing (interleaved)…");
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

            return new BenchReport(setup.Model, setup.BatchSize, Median(plainTimes), Median(dpTimes), plainPeak, dpPeak);
        }
    }

    // The plain step (mean loss, backward, SGD) and the DP step (per-example losses, clip, noise, SGD) of two copies of
    // the same model on the same synthetic batch. char-lstm: the plain copy keeps the fused nn.LSTM, the DP copy is the
    // same model after ModuleValidator.Fix (DpLstm with the same weights).
    private static (Action Plain, Action Dp, IDisposable Cleanup) CreateSteps(BenchSetup setup)
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(0);
        var batchSize = setup.BatchSize;
        var (x, y) = SyntheticBatch(setup);
        var plainModel = Build(setup);
        var dpModel = Build(setup);
        if (setup.Model == "char-lstm")
        {
            dpModel.load_state_dict(plainModel.state_dict());
            ModuleValidator.Fix(dpModel);
        }

        var plainOptimizer = optim.SGD(plainModel.parameters(), 0.05);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        var training = engine.MakePrivate(dpModel, optim.SGD(dpModel.parameters(), 0.05), x, y, new DpSgdOptions
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
            using (dp.BeginPhysicalBatch())
            {
                dp.Backward(PerExampleLoss(dpModel.call(x), y));
            }

            dp.Step();
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

    private static double MeasurePhase(BenchSetup setup, string phase)
    {
        var (plainStep, dpStep, cleanup) = CreateSteps(setup);
        using (cleanup)
        {
            return PeakIncreaseMb(phase == "dp" ? dpStep : plainStep, 5);
        }
    }

    private static double MeasureInChild(BenchSetup setup, string phase)
    {
        // Runs this same CLI assembly: through its apphost when that is this process, otherwise through the dotnet host
        // (`dotnet DiffPriv.Cli.dll …`, which also works when the command runs inside a test host).
        var cli = typeof(BenchCommand).Assembly.Location;
        var process = Environment.ProcessPath;
        var processName = process is null ? "" : Path.GetFileNameWithoutExtension(process);
        var viaAppHost = processName.Equals(Path.GetFileNameWithoutExtension(cli), StringComparison.OrdinalIgnoreCase);
        var host = viaAppHost || processName.Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? process! : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (!viaAppHost)
        {
            start.ArgumentList.Add(cli);
        }

        var inv = CultureInfo.InvariantCulture;
        foreach (var arg in new[]
        {
            "bench", "dp-sgd", "--model", setup.Model, "--batch-size", setup.BatchSize.ToString(inv),
            "--vocabulary-size", setup.VocabularySize.ToString(inv), "--memory-phase", phase,
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException("Could not start the memory measurement process.");
        var output = child.StandardOutput.ReadToEndAsync();
        var error = child.StandardError.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"The {phase} memory measurement failed: {error.Trim()}");
        }

        return double.Parse(output.Result.Trim(), CultureInfo.InvariantCulture);
    }

    private static nn.Module<Tensor, Tensor> Build(BenchSetup setup) => setup.Model switch
    {
        "mnist-cnn" => ModelZoo.MnistCnn(),
        "char-lstm" => ModelZoo.CharLstmFused(setup.VocabularySize),
        _ => ModelZoo.EmbeddingBag(),
    };

    private static (Tensor X, Tensor Y) SyntheticBatch(BenchSetup setup)
    {
        var b = setup.BatchSize;
        return setup.Model switch
        {
            "mnist-cnn" => (torch.rand([b, 1, 28, 28]), torch.randint(0, 10, [b], dtype: ScalarType.Int64)),
            "char-lstm" => (
                torch.randint(0, setup.VocabularySize, [b, CharLstmSequenceLength], dtype: ScalarType.Int64),
                torch.randint(0, setup.VocabularySize, [b, CharLstmSequenceLength], dtype: ScalarType.Int64)),
            _ => (torch.randint(0, 10_000, [b, 128], dtype: ScalarType.Int64), torch.randint(0, 2, [b], dtype: ScalarType.Int64)),
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
