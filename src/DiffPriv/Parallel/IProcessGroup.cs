using static TorchSharp.torch;

namespace DiffPriv.Parallel;

/// <summary>
/// The processes of a data-parallel job and the collective calls <see cref="DataParallelTraining"/> needs; every
/// process makes the same calls in the same order. Rank 0 is the root. <c>DiffPriv.Distributed</c>'s <c>MpiWorld</c>
/// implements it over MPI.
/// </summary>
public interface IProcessGroup
{
    /// <summary>This process's rank, 0 ≤ rank &lt; <see cref="Size"/>.</summary>
    int Rank { get; }

    /// <summary>The number of processes.</summary>
    int Size { get; }

    /// <summary>Sums a contiguous CPU tensor over all processes into rank 0's copy, in place there.</summary>
    /// <param name="tensor">float32, float64 or int64; the same shape on every process.</param>
    void ReduceSumToRoot(Tensor tensor);

    /// <summary>Copies rank 0's values of a contiguous CPU tensor to every process, in place.</summary>
    /// <param name="tensor">float32, float64 or int64; the same shape on every process.</param>
    void Broadcast(Tensor tensor);

    /// <summary>Copies rank 0's bytes to every process (their lengths may differ before the call).</summary>
    /// <param name="bytes">Rank 0's bytes; ignored elsewhere.</param>
    /// <returns>Rank 0's bytes.</returns>
    byte[] Broadcast(byte[] bytes);

    /// <summary>Sums <paramref name="values"/> over all processes; every process gets the sums.</summary>
    /// <param name="values">This process's values, replaced by the sums.</param>
    void AllReduceSum(long[] values);

    /// <summary>The element-wise minimum and maximum over all processes.</summary>
    /// <param name="values">This process's values.</param>
    /// <returns>(minimum, maximum) per element, the same everywhere.</returns>
    (long[] Min, long[] Max) AllReduceMinMax(long[] values);

    /// <summary>Ends every process of the job, after writing <paramref name="message"/> to standard error; does not return.</summary>
    /// <param name="message">Why.</param>
    /// <param name="exitCode">The job's exit code, ≥ 1.</param>
    void Abort(string message, int exitCode = 1);
}
