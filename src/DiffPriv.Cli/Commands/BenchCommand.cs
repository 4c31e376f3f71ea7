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
                "adapters without DP, since LoRA cannot wrap the fused layer's packed in_proj). With --sweep: one or more, comma-separated " +
                "(default: every model the sweep covers).",
            DefaultValueFactory = _ => "mnist-cnn",
        };
        var batch = new Option<int?>("--batch-size") { Description = "Examples per step (≥ 1; default 256, or 64 for char-lstm and the transformers)." };
        var vocabulary = new Option<int>("--vocabulary-size")
        {
            Description = "char-lstm only: number of distinct characters (≥ 2).",
            DefaultValueFactory = _ => DpStepBenchmark.CharLstmVocabulary,
        };
        var sequenceLength = new Option<int?>("--sequence-length")
        {
            Description = "Tokens per example of char-lstm (default 80), the transformers (128) and embedding-bag (ids per bag, 128) (≥ 1).",
        };
        var width = new Option<int?>("--width")
        {
            Description = "The model's width (≥ 1): mnist-cnn's channel multiplier (default 1: 16/32 channels), embedding-bag's embedding " +
                "dimension (64), char-lstm's LSTM hidden size (256), the transformers' d_model (128, a multiple of the 4 heads; " +
                "feed-forward 4·d_model).",
        };
        var steps = new Option<int?>("--steps") { Description = "Timed steps of each kind, interleaved (≥ 3; default 20, 8 with --sweep)." };
        var sweep = new Option<string?>("--sweep")
        {
            Description = "Measure how the DP/plain time and memory ratios grow, one point per value, each in a fresh process: " +
                "batch (mnist-cnn and embedding-bag at 64, 128, …, 4096 examples; char-lstm and transformer at 16, …, 1024), " +
                "sequence (char-lstm, transformer, embedding-bag at 32, 64, …, 512 tokens), or width (mnist-cnn channel " +
                "multiplier 1, 2, 4, 8; embedding dimension 16, …, 256; LSTM hidden 64, …, 1024; d_model 64, …, 512). " +
                "The grids were chosen for about 24 GiB (transformer at batch 1024 may not fit). Writes sweep-<kind>.csv and sweep-<kind>.svg into --out; a point " +
                "that fails is an error row and the larger points of its model are skipped.",
        };
        var points = new Option<string?>("--points") { Description = "With --sweep: the values to measure instead of the grid, e.g. 64,256,1024 (increasing, ≥ 1)." };
        var output = new Option<string?>("--out") { Description = "With --sweep (required): the folder for sweep-<kind>.csv and sweep-<kind>.svg." };
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
        dpSgd.Options.Add(sequenceLength);
        dpSgd.Options.Add(width);
        dpSgd.Options.Add(steps);
        dpSgd.Options.Add(json);
        dpSgd.Options.Add(sweep);
        dpSgd.Options.Add(points);
        dpSgd.Options.Add(output);
        dpSgd.Options.Add(memoryPhase);
        dpSgd.SetAction(result =>
        {
            if (result.GetValue(sweep) is { } sweepName)
            {
                return RunSweep(result, sweepName, stdout, stderr, new SweepInputs(model, batch, vocabulary, sequenceLength, width, steps, json, points, output));
            }

            foreach (var option in new Option[] { points, output })
            {
                if (AccountingOptions.Given(result, option))
                {
                    throw new UsageException($"{option.Name} applies to --sweep only");
                }
            }

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

            var t = result.GetValue(sequenceLength);
            if (t is not null && DpStepBenchmark.DefaultSequenceLength(name) is null)
            {
                throw new UsageException($"--sequence-length does not apply to {name}");
            }

            if (t < 1)
            {
                throw new UsageException($"--sequence-length must be ≥ 1 (got {t})");
            }

            var w = result.GetValue(width);
            if (w is { } givenWidth)
            {
                Usage(() => DpStepBenchmark.CheckWidth(name, givenWidth), "--width");
            }

            var setup = new BenchSetup(name, b, v) { SequenceLength = t, Width = w };
            var n = result.GetValue(steps) ?? 20;
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
                var jsonOut = new JsonObject
                {
                    ["model"] = report.Model,
                    ["batch_size"] = report.BatchSize,
                    ["plain_ms"] = Math.Round(report.PlainMs, 3),
                    ["dp_ms"] = Math.Round(report.DpMs, 3),
                    ["ratio"] = Math.Round(report.DpMs / report.PlainMs, 3),
                    ["plain_peak_mb"] = Math.Round(report.PlainPeakMb, 1),
                    ["dp_peak_mb"] = Math.Round(report.DpPeakMb, 1),
                    ["threads"] = report.Threads,
                    ["width"] = setup.EffectiveWidth,
                };
                if (setup.EffectiveSequenceLength is { } length)
                {
                    jsonOut["sequence_length"] = length;
                }

                if (name == "char-lstm")
                {
                    jsonOut["vocabulary_size"] = v;
                }

                if (transformer)
                {
                    jsonOut["vocabulary_size"] = DpStepBenchmark.TransformerVocabulary;
                }

                if (name == "transformer-lora")
                {
                    jsonOut["lora_rank"] = DpStepBenchmark.TransformerLoraRank;
                    jsonOut["plain_step"] = "lora-without-dp";
                }

                stdout.WriteLine(jsonOut.ToJsonString());
            }
            else
            {
                var inv = CultureInfo.InvariantCulture;
                var length = setup.EffectiveSequenceLength;
                var shape = name switch
                {
                    "char-lstm" => $", vocabulary {v}, {length} characters per example",
                    "transformer" => $", {length} bytes per example; plain = fused nn.TransformerEncoder",
                    "transformer-lora" => $", {length} bytes per example, LoRA rank {DpStepBenchmark.TransformerLoraRank} " +
                        "on q_proj and v_proj; plain = the same LoRA model without DP (LoRA cannot wrap the fused in_proj)",
                    "embedding-bag" => $", {length} ids per bag",
                    _ => "",
                } + (w is null ? "" : $", width {w}");
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

    // diffpriv bench dp-sgd --sweep KIND: parse, run DpStepSweep with one child process per point, print the summary.
    private static int RunSweep(ParseResult result, string sweepName, TextWriter stdout, TextWriter stderr, SweepInputs o)
    {
        var kind = sweepName switch
        {
            "batch" => SweepKind.Batch,
            "sequence" => SweepKind.Sequence,
            "width" => SweepKind.Width,
            _ => throw new UsageException($"--sweep must be batch, sequence or width (got '{sweepName}')"),
        };
        if (result.GetValue(o.Json))
        {
            throw new UsageException("--json does not apply to --sweep (the CSV is its machine-readable output)");
        }

        var dir = result.GetValue(o.Output);
        if (string.IsNullOrWhiteSpace(dir))
        {
            throw new UsageException("--out DIR is required with --sweep");
        }

        var steps = result.GetValue(o.Steps) ?? SweepSteps;
        if (steps < 3)
        {
            throw new UsageException($"--steps must be ≥ 3 (got {steps})");
        }

        var models = AccountingOptions.Given(result, o.Model)
            ? (result.GetValue(o.Model) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : DpStepSweep.Models(kind);
        var options = new DpStepSweepOptions
        {
            Kind = kind,
            Models = models,
            Steps = steps,
            OutputDirectory = dir,
            Points = result.GetValue(o.Points) is { } text ? ParsePoints(text) : null,
            BatchSize = result.GetValue(o.Batch),
            SequenceLength = result.GetValue(o.SequenceLength),
            Width = result.GetValue(o.Width),
            VocabularySize = result.GetValue(o.Vocabulary),
        };
        Usage(options.Validate, "--sweep");

        var measured = DpStepSweep.Run(options, MeasurePointInChild, new LineProgress(stderr));
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine($"sweep {DpStepSweep.Name(kind)}: DP-SGD step against the plain step, median of {steps} interleaved steps per point");
        stdout.WriteLine($"  {"model",-16} {"batch",6} {"seq",5} {"width",6} {"plain ms",10} {"DP ms",10} {"time ×",7} {"plain MB",9} {"DP MB",9} {"memory ×",9}");
        foreach (var p in measured)
        {
            var s = p.Setup;
            var head = $"  {s.Model,-16} {s.BatchSize,6} {(s.EffectiveSequenceLength is { } t ? t.ToString(inv) : "-"),5} {s.EffectiveWidth,6}";
            stdout.WriteLine(p.Report is { } r
                ? $"{head} {r.PlainMs.ToString("F1", inv),10} {r.DpMs.ToString("F1", inv),10} {p.TimeRatio.ToString("F2", inv),7} " +
                  $"{r.PlainPeakMb.ToString("F0", inv),9} {r.DpPeakMb.ToString("F0", inv),9} {p.MemoryRatio.ToString("F2", inv),9}"
                : $"{head}   failed: {p.Error}");
        }

        stdout.WriteLine($"wrote {Path.Combine(dir, DpStepSweep.CsvFileName(kind))} and {Path.Combine(dir, DpStepSweep.SvgFileName(kind))}");
        return measured.Any(p => p.Report is not null) ? CliApp.ExitOk : CliApp.ExitFailure;
    }

    /// <summary>Timed steps per point of a sweep unless --steps says otherwise (fewer than a single run's 20: a sweep has many points).</summary>
    private const int SweepSteps = 8;

    private static List<int> ParsePoints(string text)
    {
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < 1)
            {
                throw new UsageException($"--points must be comma-separated integers ≥ 1 (got '{text}')");
            }

            values.Add(value);
        }

        return values;
    }

    // A library's ArgumentException becomes a usage error; the option is named when the message does not say it.
    private static void Usage(Action check, string option)
    {
        try
        {
            check();
        }
        catch (ArgumentException e)
        {
            var usage = UsageException.From(e);
            throw usage.Message.Contains("--", StringComparison.Ordinal) ? usage : new UsageException($"{option}: {usage.Message}");
        }
    }

    // One point of a sweep: `bench dp-sgd --json` for that setup in a fresh process (which measures each kind of step's
    // memory in one more), so that no point inherits another's allocator pool and a point that runs out of memory only
    // ends its own process.
    private static BenchReport MeasurePointInChild(BenchSetup setup, int steps)
    {
        var (code, output, error) = RunSelf([.. SetupArguments(setup), "--steps", steps.ToString(CultureInfo.InvariantCulture), "--json"]);
        if (code != 0)
        {
            throw new InvalidOperationException(Failure("measurement", code, error));
        }

        var json = JsonNode.Parse(output.TrimEnd().Split('\n')[^1])!.AsObject();
        return new BenchReport(
            setup.Model,
            setup.BatchSize,
            json["plain_ms"]!.GetValue<double>(),
            json["dp_ms"]!.GetValue<double>(),
            json["plain_peak_mb"]!.GetValue<double>(),
            json["dp_peak_mb"]!.GetValue<double>(),
            json["threads"]!.GetValue<int>());
    }

    private static double MeasureInChild(BenchSetup setup, string phase)
    {
        var (code, output, error) = RunSelf([.. SetupArguments(setup), "--memory-phase", phase]);
        if (code != 0)
        {
            throw new InvalidOperationException(Failure($"{phase} memory measurement", code, error));
        }

        return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    // The options that rebuild the setup in a child process.
    internal static List<string> SetupArguments(BenchSetup setup)
    {
        var inv = CultureInfo.InvariantCulture;
        var args = new List<string>
        {
            "bench", "dp-sgd", "--model", setup.Model, "--batch-size", setup.BatchSize.ToString(inv),
            "--vocabulary-size", setup.VocabularySize.ToString(inv),
        };
        if (setup.SequenceLength is { } t)
        {
            args.AddRange(["--sequence-length", t.ToString(inv)]);
        }

        if (setup.Width is { } w)
        {
            args.AddRange(["--width", w.ToString(inv)]);
        }

        return args;
    }

    // 137 = 128 + SIGKILL, what the kernel's out-of-memory killer sends.
    private static string Failure(string what, int code, string error)
    {
        var last = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        return code == 137
            ? $"the {what} process was killed (exit 137, SIGKILL: out of memory?) {last}".TrimEnd()
            : $"the {what} process failed (exit {code}): {last}";
    }

    private static (int Code, string Stdout, string Stderr) RunSelf(IEnumerable<string> arguments)
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

        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException("Could not start a measurement process.");
        var output = child.StandardOutput.ReadToEndAsync();
        var error = child.StandardError.ReadToEnd();
        child.WaitForExit();
        return (child.ExitCode, output.Result, error);
    }

    private sealed record SweepInputs(
        Option<string> Model, Option<int?> Batch, Option<int> Vocabulary, Option<int?> SequenceLength, Option<int?> Width,
        Option<int?> Steps, Option<bool> Json, Option<string?> Points, Option<string?> Output);
}
