namespace DiffPriv.Experiments.Benchmarks;

/// <summary>One point of a <see cref="DpStepSweep"/>: what was measured, or why not.</summary>
/// <param name="Setup">The model and its settings at this point.</param>
/// <param name="Report">The measurement; null when the point failed.</param>
/// <param name="Error">Why the point failed (e.g. the measuring process ran out of memory); null when it was measured.</param>
public sealed record SweepPoint(BenchSetup Setup, BenchReport? Report, string? Error)
{
    /// <summary>DP step time over plain step time; NaN when the point failed.</summary>
    public double TimeRatio => Report is { } r ? r.DpMs / r.PlainMs : double.NaN;

    /// <summary>DP peak memory growth over plain peak memory growth; NaN when the point failed or the plain growth is not positive.</summary>
    public double MemoryRatio => Report is { PlainPeakMb: > 0 } r ? r.DpPeakMb / r.PlainPeakMb : double.NaN;
}
