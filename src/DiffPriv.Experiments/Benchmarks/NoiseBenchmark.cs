using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using DiffPriv.Noise;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Benchmarks;

/// <summary>
/// Throughput of the noise a DP-SGD step adds: value + N(0, s²) over n float32 coordinates, drawn by each path in turn
/// (interleaved, one process, so that ratios hold on a shared machine), after a warm-up.
/// </summary>
/// <remarks>
/// Paths: <c>secure-release</c> (<see cref="NoiseGate.AddGaussians"/> on a secure gate: CSPRNG, vectorised Box–Muller,
/// snapping to the grid; what training uses), <c>secure-noise</c> (<see cref="NoiseGate.Gaussians"/> on a secure gate,
/// raw noise without the defence), <c>seeded-release</c> (AddGaussians on a seeded gate: torch's float64 randn, for
/// replayable experiments), <c>secure-torch-ops</c> (the secure path before the vectorised sampler: CSPRNG uniforms
/// copied into a tensor, Box–Muller in torch ops) and <c>torch-randn</c> (torch.randn in float32 times s plus the value:
/// torch's own non-secure generator, the reference of every ratio).
/// </remarks>
public static class NoiseBenchmark
{
    /// <summary>The coordinates of the embedding-bag model of <c>bench dp-sgd</c> (embedding 10 000×64, linear 64 → 2).</summary>
    public const long EmbeddingBagParameters = 640_130;

    private const double StandardDeviation = 1.1;

    /// <summary>Times every path on <paramref name="count"/> coordinates.</summary>
    /// <param name="count">Coordinates per draw, ≥ 1.</param>
    /// <param name="repeats">Timed draws of each path, interleaved, ≥ 3.</param>
    /// <param name="torchThreads">libtorch's intra-op threads for the run (≥ 1), or null to keep its default. One thread
    /// makes the torch paths robust to other processes on a busy machine (a parallel torch op waits for its slowest
    /// thread).</param>
    /// <returns>Per path, the median and best time of one draw; the reference path is <c>torch-randn</c>.</returns>
    public static NoiseBenchReport Run(long count, int repeats, int? torchThreads = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 3);
        TorchRuntime.EnsureLoaded();
        var before = torch.get_num_threads();
        if (torchThreads is { } threads)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1, nameof(torchThreads));
            torch.set_num_threads(threads);
        }

        try
        {
            return Measure(count, repeats);
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    private static NoiseBenchReport Measure(long count, int repeats)
    {

        using var secure = NoiseGate.CreateSecure();
        using var seeded = NoiseGate.CreateSeeded(0);
        using var generator = new Generator(0, torch.CPU);
        using var value = torch.randn([count], generator: generator);
        var request = new List<(Tensor?, long[], ScalarType, Device?)> { (value, [count], ScalarType.Float32, null) };
        var shapes = new List<(long[], ScalarType, Device?)> { ([count], ScalarType.Float32, null) };
        var paths = new (string Name, Action Draw)[]
        {
            ("secure-release", () => secure.AddGaussians(request, StandardDeviation)),
            ("secure-noise", () => secure.Gaussians(shapes, StandardDeviation)),
            ("seeded-release", () => seeded.AddGaussians(request, StandardDeviation)),
            ("secure-torch-ops", () => TorchOpsBoxMuller(count).mul_(StandardDeviation).to(ScalarType.Float32).add_(value)),
            ("torch-randn", () => torch.randn([count], generator: generator).mul_(StandardDeviation).add_(value)),
        };
        var times = paths.Select(_ => new double[repeats]).ToArray();
        var cpu = paths.Select(_ => new double[repeats]).ToArray();
        for (var round = -3; round < repeats; round++)
        {
            for (var p = 0; p < paths.Length; p++)
            {
                using var scope = torch.NewDisposeScope();
                var cpuBefore = Environment.CpuUsage.TotalTime;
                var watch = Stopwatch.StartNew();
                paths[p].Draw();
                if (round >= 0)
                {
                    times[p][round] = watch.Elapsed.TotalMilliseconds;
                    cpu[p][round] = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
                }
            }
        }

        var medians = paths.Select((p, i) => new NoisePathTime(p.Name, Median(times[i]), times[i].Min(), Median(cpu[i]))).ToList();
        return new NoiseBenchReport(count, repeats, medians, torch.get_num_threads(), Environment.ProcessorCount);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    // The secure sampler this library used before the vectorised one, kept here as a baseline: 53-bit CSPRNG uniforms
    // converted in a scalar loop and copied into float64 tensors, Box–Muller in torch ops, the two halves concatenated.
    private static Tensor TorchOpsBoxMuller(long count)
    {
        var pairs = (count + 1) / 2;
        var radius = Uniforms(pairs, 1).log_().mul_(-2.0).sqrt_();
        var angle = Uniforms(pairs, 0).mul_(2 * Math.PI);
        return torch.cat([radius * angle.cos(), radius * angle.sin()], 0).narrow(0, 0, count);
    }

    private static Tensor Uniforms(long count, ulong offset)
    {
        var n = checked((int)count);
        var rented = ArrayPool<ulong>.Shared.Rent(n);
        try
        {
            var words = rented.AsSpan(0, n);
            RandomNumberGenerator.Fill(MemoryMarshal.AsBytes(words));
            var values = MemoryMarshal.Cast<ulong, double>(words);
            for (var i = 0; i < n; i++)
            {
                values[i] = ((words[i] >> 11) + offset) * (1.0 / (1UL << 53));
            }

            var result = torch.empty(count, dtype: ScalarType.Float64);
            result.bytes = MemoryMarshal.AsBytes(values);
            return result;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(rented, clearArray: true);
        }
    }
}
