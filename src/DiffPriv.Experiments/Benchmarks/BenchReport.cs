namespace DiffPriv.Experiments.Benchmarks;

/// <summary>What <see cref="DpStepBenchmark.Run"/> measured.</summary>
/// <param name="Model">The model benchmarked.</param>
/// <param name="BatchSize">Examples per step.</param>
/// <param name="PlainMs">Median plain step, ms.</param>
/// <param name="DpMs">Median DP-SGD step, ms.</param>
/// <param name="PlainPeakMb">Peak memory increase of plain steps, MB.</param>
/// <param name="DpPeakMb">Peak memory increase of DP steps, MB.</param>
/// <param name="Threads">libtorch's intra-op threads during the timing.</param>
public sealed record BenchReport(string Model, int BatchSize, double PlainMs, double DpMs, double PlainPeakMb, double DpPeakMb, int Threads)
{
    /// <summary>DP step time over plain step time.</summary>
    public double Ratio => DpMs / PlainMs;
}
