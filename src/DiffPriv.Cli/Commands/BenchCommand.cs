using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Models;
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
            Description = "mnist-cnn (TF Privacy's tutorial CNN, 28×28 inputs) or embedding-bag (embedding 10000×64, mean over 128 tokens, linear → 2).",
            DefaultValueFactory = _ => "mnist-cnn",
        };
        var batch = new Option<int>("--batch-size") { Description = "Examples per step (≥ 1).", DefaultValueFactory = _ => 256 };
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
        dpSgd.Options.Add(steps);
        dpSgd.Options.Add(json);
        dpSgd.Options.Add(memoryPhase);
        dpSgd.SetAction(result =>
        {
            var name = result.GetValue(model) ?? "";
            if (name is not ("mnist-cnn" or "embedding-bag"))
            {
                throw new UsageException($"--model must be mnist-cnn or embedding-bag (got '{name}')");
            }

            var b = result.GetValue(batch);
            if (b < 1)
            {
                throw new UsageException($"--batch-size must be ≥ 1 (got {b})");
            }

            var n = result.GetValue(steps);
            if (n < 3)
            {
                throw new UsageException($"--steps must be ≥ 3 (got {n})");
            }

            if (result.GetValue(memoryPhase) is { } phase)
            {
                stdout.WriteLine(MeasurePhase(name, b, phase).ToString("R", CultureInfo.InvariantCulture));
                return CliApp.ExitOk;
            }

            var asJson = result.GetValue(json);
            var report = Run(name, b, n, asJson ? null : stderr);
            if (asJson)
            {
                stdout.WriteLine(new JsonObject
                {
                    ["model"] = report.Model,
                    ["batch_size"] = report.BatchSize,
                    ["plain_ms"] = Math.Round(report.PlainMs, 3),
                    ["dp_ms"] = Math.Round(report.DpMs, 3),
                    ["ratio"] = Math.Round(report.DpMs / report.PlainMs, 3),
                    ["plain_peak_mb"] = Math.Round(report.PlainPeakMb, 1),
                    ["dp_peak_mb"] = Math.Round(report.DpPeakMb, 1),
                    ["threads"] = torch.get_num_threads(),
                }.ToJsonString());
            }
            else
            {
                var inv = CultureInfo.InvariantCulture;
                stdout.WriteLine($"{report.Model}, batch {report.BatchSize}, {n} interleaved steps each, {torch.get_num_threads()} threads");
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

    internal static BenchReport Run(string modelName, int batchSize, int steps, TextWriter? progress)
    {
        // Memory: each kind of step in a fresh child process, so neither inherits the other's allocator pool.
        progress?.WriteLine("measuring peak memory (one child process per kind of step)…");
        var dpPeak = MeasureInChild(modelName, batchSize, "dp");
        var plainPeak = MeasureInChild(modelName, batchSize, "plain");

        progress?.WriteLine("timing (interleaved)…");
        var (plainStep, dpStep, cleanup) = CreateSteps(modelName, batchSize);
        using (cleanup)
        {
            for (var i = 0; i < 3; i++)
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

            return new BenchReport(modelName, batchSize, Median(plainTimes), Median(dpTimes), plainPeak, dpPeak);
        }
    }

    // The plain step (mean loss, backward, SGD) and the DP step (per-example losses, clip, noise, SGD) of two copies of
    // the same model on the same synthetic batch.
    private static (Action Plain, Action Dp, IDisposable Cleanup) CreateSteps(string modelName, int batchSize)
    {
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(0);
        var (x, y) = SyntheticBatch(modelName, batchSize);
        var plainModel = Build(modelName);
        var dpModel = Build(modelName);
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
            nn.functional.cross_entropy(plainModel.call(x), y).backward();
            plainOptimizer.step();
        }

        void DpStep()
        {
            using var scope = torch.NewDisposeScope();
            using (dp.BeginPhysicalBatch())
            {
                dp.Backward(nn.functional.cross_entropy(dpModel.call(x), y, reduction: nn.Reduction.None));
            }

            dp.Step();
        }

        return (PlainStep, DpStep, training);
    }

    private static double MeasurePhase(string modelName, int batchSize, string phase)
    {
        var (plainStep, dpStep, cleanup) = CreateSteps(modelName, batchSize);
        using (cleanup)
        {
            return PeakIncreaseMb(phase == "dp" ? dpStep : plainStep, 5);
        }
    }

    private static double MeasureInChild(string modelName, int batchSize, string phase)
    {
        var entry = Environment.GetCommandLineArgs()[0];
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (entry.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(entry);
        }

        foreach (var arg in new[] { "bench", "dp-sgd", "--model", modelName, "--batch-size", batchSize.ToString(CultureInfo.InvariantCulture), "--memory-phase", phase })
        {
            start.ArgumentList.Add(arg);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException("Could not start the memory measurement process.");
        var output = child.StandardOutput.ReadToEnd();
        var error = child.StandardError.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"The {phase} memory measurement failed: {error.Trim()}");
        }

        return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    private static nn.Module<Tensor, Tensor> Build(string name) => name switch
    {
        "mnist-cnn" => ModelZoo.MnistCnn(),
        _ => ModelZoo.EmbeddingBag(),
    };

    private static (Tensor X, Tensor Y) SyntheticBatch(string name, int b) => name switch
    {
        "mnist-cnn" => (torch.rand([b, 1, 28, 28]), torch.randint(0, 10, [b], dtype: ScalarType.Int64)),
        _ => (torch.randint(0, 10_000, [b, 128], dtype: ScalarType.Int64), torch.randint(0, 2, [b], dtype: ScalarType.Int64)),
    };

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
