using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using DiffPriv.Parallel;
using static TorchSharp.torch;

namespace DiffPriv.Distributed;

/// <summary>
/// The processes (ranks) of an MPI job started by MPICH's launcher (<c>mpiexec -n K …</c>, Slurm's <c>srun</c> with PMI,
/// Kubernetes' MPI operator). <see cref="Detect"/> finds out whether this process is one of them; rank 0 is the root,
/// which draws the batches, adds the noise and keeps the ledger that is reported.
/// </summary>
/// <remarks>
/// The world is a process-wide resource: MPI is initialised once, on detection, and finalised by <see cref="Dispose"/>;
/// it cannot be initialised again in the same process. Only MPICH's ABI is bound (<c>libmpich.so.12</c>); Open MPI's
/// launcher is recognised and refused with a message that says what to run instead.
/// </remarks>
public sealed class MpiWorld : IProcessGroup, IDisposable
{
    private static readonly object Gate = new();
    private static MpiWorld? _current;
    private bool _disposed;

    private MpiWorld(int rank, int size)
    {
        Rank = rank;
        Size = size;
    }

    /// <summary>The world <see cref="Detect"/> found in this process, or null before that or outside MPI.</summary>
    public static MpiWorld? Current
    {
        get
        {
            lock (Gate)
            {
                return _current;
            }
        }
    }

    /// <summary>
    /// The number of ranks the launcher started (<c>PMI_SIZE</c> or <c>OMPI_COMM_WORLD_SIZE</c>) without initialising MPI;
    /// 1 outside MPI or when the launcher does not say.
    /// </summary>
    public static int LaunchedSize =>
        int.TryParse(Environment.GetEnvironmentVariable("PMI_SIZE") ?? Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE"), out var n) && n > 0 ? n : 1;

    /// <summary>This process's rank, 0 ≤ rank &lt; <see cref="Size"/>.</summary>
    public int Rank { get; }

    /// <summary>The number of processes in the job.</summary>
    public int Size { get; }

    /// <summary>Whether this is rank 0, which samples, adds the noise, keeps the reported ledger and writes the results.</summary>
    public bool IsRoot => Rank == 0;

    /// <summary>How many ranks share this machine (MPICH's <c>MPI_LOCALNRANKS</c>; 1 when the launcher does not say).</summary>
    public static int LocalRanks =>
        int.TryParse(Environment.GetEnvironmentVariable("MPI_LOCALNRANKS"), out var n) && n > 0 ? n : 1;

    /// <summary>
    /// Whether an MPI launcher started this process: MPICH's Hydra and PMI-based launchers set <c>PMI_RANK</c> or
    /// <c>PMI_SIZE</c>, PMIx-based ones <c>PMIX_RANK</c>, Open MPI's <c>OMPI_COMM_WORLD_SIZE</c>.
    /// </summary>
    /// <param name="environment">The environment to read (null: this process's).</param>
    /// <returns>True under an MPI launcher.</returns>
    public static bool LaunchedByMpi(IReadOnlyDictionary<string, string>? environment = null)
    {
        string? Get(string name) => environment is null
            ? Environment.GetEnvironmentVariable(name)
            : environment.TryGetValue(name, out var value) ? value : null;
        return Get("PMI_RANK") is not null || Get("PMI_SIZE") is not null || Get("PMIX_RANK") is not null
            || Get("OMPI_COMM_WORLD_SIZE") is not null;
    }

    /// <summary>
    /// The MPI world when this process was started by an MPI launcher (initialising MPI on the first call), else null.
    /// A job of one rank is a world of size 1.
    /// </summary>
    /// <returns>The world, or null outside MPI.</returns>
    /// <exception cref="MpiException">Open MPI's launcher started the process, or MPICH's library cannot be loaded or initialised.</exception>
    public static MpiWorld? Detect()
    {
        lock (Gate)
        {
            if (_current is not null)
            {
                return _current;
            }

            if (!LaunchedByMpi())
            {
                return null;
            }

            if (Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null && Environment.GetEnvironmentVariable("PMI_RANK") is null)
            {
                throw new MpiException(
                    "This process was started by Open MPI's mpiexec, but DiffPriv binds MPICH's ABI (libmpich.so.12). Start it with MPICH's " +
                    "launcher instead (mpiexec.mpich; on Debian, update-alternatives --set mpirun /usr/bin/mpirun.mpich makes mpiexec resolve to it).");
            }

            if (!NativeLibrary.TryLoad(MpiNative.Library, out _))
            {
                throw new MpiException(
                    $"This process was started by an MPI launcher, but MPICH's library ({MpiNative.Library}) cannot be loaded. Install MPICH " +
                    "(Debian/Ubuntu: apt-get install mpich) on every machine of the job.");
            }

            Check(MpiNative.Initialized(out var initialised), "MPI_Initialized");
            if (initialised == 0)
            {
                // SERIALIZED: calls may come from any thread, one at a time (the training loop is sequential).
                Check(MpiNative.InitThread(IntPtr.Zero, IntPtr.Zero, 2, out _), "MPI_Init_thread");
            }

            Check(MpiNative.CommRank(MpiNative.CommWorld, out var rank), "MPI_Comm_rank");
            Check(MpiNative.CommSize(MpiNative.CommWorld, out var size), "MPI_Comm_size");
            _current = new MpiWorld(rank, size);
            return _current;
        }
    }

    /// <summary>Waits until every rank has reached this call.</summary>
    public void Barrier()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Check(MpiNative.Barrier(MpiNative.CommWorld), "MPI_Barrier");
    }

    /// <summary>
    /// Ends the whole job: writes <paramref name="message"/> (prefixed with this rank) to standard error and asks MPI to
    /// stop every rank with <paramref name="exitCode"/>. Use it when this rank cannot continue, so that no other rank waits
    /// for it forever and no rank applies a half-formed update.
    /// </summary>
    /// <param name="message">Why the job ends.</param>
    /// <param name="exitCode">The job's exit code, ≥ 1.</param>
    [DoesNotReturn]
    public void Abort(string message, int exitCode = 1)
    {
        Console.Error.WriteLine($"diffpriv: rank {Rank} of {Size}: {message}");
        Console.Error.WriteLine("diffpriv: aborting every rank of the job.");
        Console.Error.Flush();
        _ = MpiNative.Abort(MpiNative.CommWorld, Math.Max(1, exitCode));
        Environment.Exit(Math.Max(1, exitCode));
    }

    /// <summary>Sums <paramref name="values"/> over all ranks; every rank gets the sums.</summary>
    /// <param name="values">This rank's values (replaced by the sums).</param>
    public void AllReduceSum(long[] values) => AllReduce(values, MpiNative.OpSum);

    /// <summary>The element-wise minimum and maximum of <paramref name="values"/> over all ranks.</summary>
    /// <param name="values">This rank's values.</param>
    /// <returns>(minimum, maximum) per element, the same on every rank.</returns>
    public (long[] Min, long[] Max) AllReduceMinMax(long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var min = (long[])values.Clone();
        var max = (long[])values.Clone();
        AllReduce(min, MpiNative.OpMin);
        AllReduce(max, MpiNative.OpMax);
        return (min, max);
    }

    /// <summary>Copies the root's bytes to every rank (their lengths may differ before the call).</summary>
    /// <param name="bytes">The root's bytes; ignored on other ranks.</param>
    /// <returns>The root's bytes, on every rank.</returns>
    public byte[] Broadcast(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var length = new long[] { bytes.LongLength };
        BroadcastLongs(length);
        var result = IsRoot ? bytes : new byte[length[0]];
        unsafe
        {
            fixed (byte* p = result)
            {
                Chunked((IntPtr)p, result.LongLength, sizeof(byte), MpiNative.Byte, (at, count, type) => MpiNative.Bcast(at, count, type, 0, MpiNative.CommWorld), "MPI_Bcast");
            }
        }

        return result;
    }

    /// <summary>Copies the root's values of a CPU tensor to every rank, in place.</summary>
    /// <param name="tensor">A contiguous CPU tensor of float32, float64 or int64, the same shape on every rank.</param>
    public void Broadcast(Tensor tensor)
    {
        var (pointer, count, size, type) = Buffer(tensor);
        Chunked(pointer, count, size, type, (at, n, t) => MpiNative.Bcast(at, n, t, 0, MpiNative.CommWorld), "MPI_Bcast");
    }

    /// <summary>Sums a CPU tensor over all ranks into the root's copy (in place there; other ranks' copies are left as they were).</summary>
    /// <param name="tensor">A contiguous CPU tensor of float32, float64 or int64, the same shape on every rank.</param>
    public void ReduceSumToRoot(Tensor tensor)
    {
        var (pointer, count, size, type) = Buffer(tensor);
        var root = IsRoot;
        Chunked(
            pointer,
            count,
            size,
            type,
            (at, n, t) => root
                ? MpiNative.Reduce(MpiNative.InPlace, at, n, t, MpiNative.OpSum, 0, MpiNative.CommWorld)
                : MpiNative.Reduce(at, IntPtr.Zero, n, t, MpiNative.OpSum, 0, MpiNative.CommWorld),
            "MPI_Reduce");
    }

    /// <summary>Finalises MPI (after every rank is done with it).</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (MpiNative.Finalized(out var finalised) == MpiNative.Success && finalised == 0)
            {
                _ = MpiNative.FinalizeMpi();
            }
        }
    }

    private void BroadcastLongs(long[] values)
    {
        unsafe
        {
            fixed (long* p = values)
            {
                Chunked((IntPtr)p, values.LongLength, sizeof(long), MpiNative.Int64, (at, count, type) => MpiNative.Bcast(at, count, type, 0, MpiNative.CommWorld), "MPI_Bcast");
            }
        }
    }

    private void AllReduce(long[] values, int op)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(_disposed, this);
        unsafe
        {
            fixed (long* p = values)
            {
                Chunked((IntPtr)p, values.LongLength, sizeof(long), MpiNative.Int64, (at, count, type) => MpiNative.Allreduce(MpiNative.InPlace, at, count, type, op, MpiNative.CommWorld), "MPI_Allreduce");
            }
        }
    }

    private (IntPtr Pointer, long Count, int ElementSize, int Type) Buffer(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tensor.device_type != TorchSharp.DeviceType.CPU || !tensor.is_contiguous())
        {
            throw new ArgumentException("MPI buffers must be contiguous CPU tensors (copy device tensors to the CPU first).", nameof(tensor));
        }

        return tensor.dtype switch
        {
            ScalarType.Float32 => (tensor.storage<float>().data_ptr() + (nint)(tensor.storage_offset() * sizeof(float)), tensor.numel(), sizeof(float), MpiNative.Float),
            ScalarType.Float64 => (tensor.storage<double>().data_ptr() + (nint)(tensor.storage_offset() * sizeof(double)), tensor.numel(), sizeof(double), MpiNative.Double),
            ScalarType.Int64 => (tensor.storage<long>().data_ptr() + (nint)(tensor.storage_offset() * sizeof(long)), tensor.numel(), sizeof(long), MpiNative.Int64),
            _ => throw new ArgumentException($"MPI buffers of {tensor.dtype} are not supported (float32, float64 or int64).", nameof(tensor)),
        };
    }

    // MPI counts are ints: larger buffers go in pieces of at most 2^30 elements.
    private static void Chunked(IntPtr pointer, long count, int elementSize, int type, Func<IntPtr, int, int, int> call, string name)
    {
        const long piece = 1L << 30;
        for (long at = 0; at < count; at += piece)
        {
            var n = (int)Math.Min(piece, count - at);
            Check(call(pointer + (nint)(at * elementSize), n, type), name);
        }
    }

    private static void Check(int code, string call)
    {
        if (code != MpiNative.Success)
        {
            throw new MpiException($"{call} failed with MPI error code {code}.");
        }
    }
}
