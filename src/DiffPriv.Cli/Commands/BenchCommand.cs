using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using DiffPriv.Cli.Rendering;
using DiffPriv.Experiments.Benchmarks;

namespace DiffPriv.Cli.Commands;

/// <summary>
/// <c>diffpriv bench dp-sgd</c>: a DP-SGD step against the plain step of the same model, in one process;
/// <c>diffpriv bench noise</c>: the noise paths against torch.randn.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string>("--model")
        {
            Description = "mnist-cnn (TF Privacy's tutorial CNN, 28×28 inputs), embedding-bag (embedding 10000×64, mean over 128 tokens, " +
                "linear → 2), char-lstm (embedding 64 → LSTM 256 → linear to the vocabulary, 80 characters per example; the DP step " +
                "uses DpLstm, the plain step the fused nn.LSTM with the same weights), transformer (bytes, 128 per example → embedding " +
                "128 → 2 encoder layers, 4 heads, feed-forward 512, dropout 0 → mean over positions → linear → 2; the DP step uses " +
                "DpTransformerEncoder, the plain step the fused nn.TransformerEncoder with the same weights) or transformer-lora (the " +
                "same DP model with rank-8 LoRA adapters on q_proj and v_proj, everything else frozen; the plain step trains the same " +
                "adapters without DP, since LoRA cannot wrap the fused layer's packed in_proj).",
            DefaultValueFactory = _ => "mnist-cnn",
        };
        var batch = new Option<int?>("--batch-size") { Description = "Examples per step (≥ 1; default 256, or 64 for char-lstm and the transformers)." };
        var vocabulary = new Option<int>("--vocabulary-size")
        {
            Description = "char-lstm only: number of distinct characters (≥ 2).",
            DefaultValueFactory = _ => DpStepBenchmark.CharLstmVocabulary,
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
            if (name is not ("mnist-cnn" or "embedding-bag" or "char-lstm" or "transformer" or "transformer-lora"))
            {
                throw new UsageException($"--model must be mnist-cnn, embedding-bag, char-lstm, transformer or transformer-lora (got '{name}')");
            }

            var transformer = name is "transformer" or "transformer-lora";
            var b = result.GetValue(batch) ?? (name == "char-lstm" || transformer ? 64 : 256);
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
                stdout.WriteLine(DpStepBenchmark.MeasurePhase(setup, phase).ToString("R", CultureInfo.InvariantCulture));
                return CliApp.ExitOk;
            }

            var asJson = result.GetValue(json);
            var report = DpStepBenchmark.Run(setup, n, MeasureInChild, asJson ? null : new LineProgress(stderr));
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
                    ["threads"] = report.Threads,
                };
                if (name == "char-lstm")
                {
                    output["vocabulary_size"] = v;
                    output["sequence_length"] = DpStepBenchmark.CharLstmSequenceLength;
                }

                if (transformer)
                {
                    output["vocabulary_size"] = DpStepBenchmark.TransformerVocabulary;
                    output["sequence_length"] = DpStepBenchmark.TransformerSequenceLength;
                }

                if (name == "transformer-lora")
                {
                    output["lora_rank"] = DpStepBenchmark.TransformerLoraRank;
                    output["plain_step"] = "lora-without-dp";
                }

                stdout.WriteLine(output.ToJsonString());
            }
            else
            {
                var inv = CultureInfo.InvariantCulture;
                var shape = name switch
                {
                    "char-lstm" => $", vocabulary {v}, {DpStepBenchmark.CharLstmSequenceLength} characters per example",
                    "transformer" => $", {DpStepBenchmark.TransformerSequenceLength} bytes per example; plain = fused nn.TransformerEncoder",
                    "transformer-lora" => $", {DpStepBenchmark.TransformerSequenceLength} bytes per example, LoRA rank {DpStepBenchmark.TransformerLoraRank} " +
                        "on q_proj and v_proj; plain = the same LoRA model without DP (LoRA cannot wrap the fused in_proj)",
                    _ => "",
                };
                stdout.WriteLine($"{report.Model}, batch {report.BatchSize}{shape}, {n} interleaved steps each, {report.Threads} threads");
                stdout.WriteLine($"  plain step  {report.PlainMs.ToString("F1", inv),8} ms   peak memory +{report.PlainPeakMb.ToString("F0", inv)} MB");
                stdout.WriteLine($"  DP step     {report.DpMs.ToString("F1", inv),8} ms   peak memory +{report.DpPeakMb.ToString("F0", inv)} MB");
                stdout.WriteLine($"  ratio       {(report.DpMs / report.PlainMs).ToString("F2", inv),8}×          memory ×{(report.DpPeakMb / Math.Max(report.PlainPeakMb, 1e-9)).ToString("F2", inv)}");
            }

            return CliApp.ExitOk;
        });

        var bench = new Command("bench", "Performance measurements against the non-private counterpart.");
        bench.Options.Add(DeviceOptions.CpuOnly("benchmarks"));
        bench.Subcommands.Add(dpSgd);
        bench.Subcommands.Add(CreateNoise(stdout));
        return bench;
    }

    // diffpriv bench noise: value + N(0, s²) over n float32 coordinates by every noise path, interleaved in one process.
    private static Command CreateNoise(TextWriter stdout)
    {
        var count = new Option<long>("--count")
        {
            Description = "Coordinates per draw (≥ 1; default 640 130, the embedding-bag model of bench dp-sgd).",
            DefaultValueFactory = _ => NoiseBenchmark.EmbeddingBagParameters,
        };
        var repeats = new Option<int>("--repeats") { Description = "Timed draws of each path, interleaved (≥ 3).", DefaultValueFactory = _ => 15 };
        var threads = new Option<int?>("--torch-threads")
        {
            Description = "libtorch's intra-op threads for the run (≥ 1; default: libtorch's own). 1 keeps the torch paths steady on a busy machine.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var noise = new Command(
            "noise",
            "Median time of value + Gaussian noise over n float32 coordinates: the secure release (CSPRNG, vectorised Box–Muller, " +
            "snapped to a grid against the floating-point attack), raw secure noise, the seeded release, the previous torch-op " +
            "secure sampler and torch.randn (the reference of the ratios), interleaved in one process.");
        noise.Options.Add(count);
        noise.Options.Add(repeats);
        noise.Options.Add(threads);
        noise.Options.Add(json);
        noise.SetAction(result =>
        {
            var n = result.GetValue(count);
            if (n < 1 || n > int.MaxValue)
            {
                throw new UsageException($"--count must be in [1, {int.MaxValue}] (got {n})");
            }

            var r = result.GetValue(repeats);
            if (r < 3)
            {
                throw new UsageException($"--repeats must be ≥ 3 (got {r})");
            }

            var t = result.GetValue(threads);
            if (t < 1)
            {
                throw new UsageException($"--torch-threads must be ≥ 1 (got {t})");
            }

            var report = NoiseBenchmark.Run(n, r, t);
            var reference = report.Reference;
            if (result.GetValue(json))
            {
                var paths = new JsonObject();
                foreach (var p in report.Paths)
                {
                    paths[p.Path] = new JsonObject
                    {
                        ["median_ms"] = Math.Round(p.MedianMs, 3),
                        ["best_ms"] = Math.Round(p.BestMs, 3),
                        ["median_ratio"] = Math.Round(p.MedianMs / reference.MedianMs, 3),
                        ["best_ratio"] = Math.Round(p.BestMs / reference.BestMs, 3),
                        ["cpu_ms"] = Math.Round(p.CpuMs, 3),
                        ["cpu_ratio"] = Math.Round(p.CpuMs / reference.CpuMs, 3),
                    };
                }

                stdout.WriteLine(new JsonObject
                {
                    ["count"] = n,
                    ["repeats"] = r,
                    ["torch_threads"] = report.TorchThreads,
                    ["processors"] = report.Processors,
                    ["reference"] = "torch-randn",
                    ["paths"] = paths,
                }.ToJsonString());
            }
            else
            {
                var inv = CultureInfo.InvariantCulture;
                stdout.WriteLine($"value + N(0, 1.1²) over {n} float32 coordinates, {r} interleaved draws per path, {report.TorchThreads} torch threads, {report.Processors} processors");
                stdout.WriteLine("  path                 median ms  best ms  CPU ms   ratio to torch-randn: median  best  CPU");
                foreach (var p in report.Paths)
                {
                    stdout.WriteLine(
                        $"  {p.Path,-17} {p.MedianMs.ToString("F2", inv),10} {p.BestMs.ToString("F2", inv),8} {p.CpuMs.ToString("F2", inv),7}" +
                        $"   {(p.MedianMs / reference.MedianMs).ToString("F2", inv),27}  {(p.BestMs / reference.BestMs).ToString("F2", inv),4}  {(p.CpuMs / reference.CpuMs).ToString("F2", inv),4}");
                }
            }

            return CliApp.ExitOk;
        });
        return noise;
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
}
