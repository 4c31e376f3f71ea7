namespace DiffPriv.Experiments.Benchmarks;

/// <summary>What <see cref="NoiseBenchmark.Run"/> measured.</summary>
/// <param name="Count">Coordinates per draw.</param>
/// <param name="Repeats">Timed draws of each path.</param>
/// <param name="Paths">The median and best time of one draw per path, in the order measured.</param>
/// <param name="TorchThreads">libtorch's intra-op threads.</param>
/// <param name="Processors">Processors visible to .NET (the secure sampler's parallelism).</param>
public sealed record NoiseBenchReport(long Count, int Repeats, IReadOnlyList<NoisePathTime> Paths, int TorchThreads, int Processors)
{
    /// <summary>The reference path, <c>torch-randn</c>.</summary>
    public NoisePathTime Reference => Paths.Single(p => p.Path == "torch-randn");
}
