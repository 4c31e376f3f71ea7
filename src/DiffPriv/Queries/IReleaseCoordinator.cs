using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>
/// Combines the clipped sums of a data-parallel job before a release: the processes' sums are added on the process that
/// holds the noise, the query releases once there, and every process receives the same release. Set by
/// <c>DiffPriv.Distributed</c>.
/// </summary>
internal interface IReleaseCoordinator
{
    /// <summary>The release of the job's global sum, the same on every process.</summary>
    /// <param name="local">This process's accumulated clipped sums.</param>
    /// <param name="shapes">Everything to release, parameter name → (shape, dtype, device).</param>
    /// <param name="release">Releases a global sum (noise and event); called only on the process that adds the noise.</param>
    /// <returns>The noised sum, the next global state and the event, identical on every process.</returns>
    DpQueryRelease Release(
        DpQueryState local,
        IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes,
        Func<DpQueryState, DpQueryRelease> release);
}
