namespace DiffPriv.Experiments.Benchmarks;

/// <summary>One noise path of <see cref="NoiseBenchmark"/>.</summary>
/// <param name="Path">secure-release, secure-noise, seeded-release, secure-torch-ops or torch-randn.</param>
/// <param name="MedianMs">Median time of one draw (value + noise over all coordinates), ms.</param>
/// <param name="BestMs">Fastest draw, ms: on a loaded machine the draw least disturbed by other processes.</param>
/// <param name="CpuMs">Median processor time of the process during one draw (all its threads), ms: the work done, which
/// other processes on the machine disturb less than wall time.</param>
public sealed record NoisePathTime(string Path, double MedianMs, double BestMs, double CpuMs);
