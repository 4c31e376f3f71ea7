using System.Runtime.InteropServices;

namespace DiffPriv.Distributed;

/// <summary>
/// The few MPI calls data-parallel DP-SGD needs, bound to MPICH's <c>libmpich.so.12</c>. MPICH's handles are integers
/// with fixed values (its <c>mpi.h</c>); Open MPI's are pointers, which is why only the MPICH ABI is bound.
/// </summary>
internal static partial class MpiNative
{
    internal const string Library = "libmpich.so.12";

    // Handles and constants of MPICH's ABI (mpi.h of MPICH 3.x/4.x; stable across those releases).
    internal const int CommWorld = 0x44000000;
    internal const int Byte = 0x4c00010d;
    internal const int Float = 0x4c00040a;
    internal const int Double = 0x4c00080b;
    internal const int Int64 = 0x4c00083a;
    internal const int OpMax = 0x58000001;
    internal const int OpMin = 0x58000002;
    internal const int OpSum = 0x58000003;
    internal const int ThreadFunneled = 1;
    internal const int Success = 0;

    /// <summary>MPICH's MPI_IN_PLACE, <c>(void*)-1</c>.</summary>
    internal static readonly IntPtr InPlace = new(-1);

    [LibraryImport(Library, EntryPoint = "MPI_Initialized")]
    internal static partial int Initialized(out int flag);

    [LibraryImport(Library, EntryPoint = "MPI_Finalized")]
    internal static partial int Finalized(out int flag);

    [LibraryImport(Library, EntryPoint = "MPI_Init_thread")]
    internal static partial int InitThread(IntPtr argc, IntPtr argv, int required, out int provided);

    [LibraryImport(Library, EntryPoint = "MPI_Finalize")]
    internal static partial int FinalizeMpi();

    [LibraryImport(Library, EntryPoint = "MPI_Comm_rank")]
    internal static partial int CommRank(int comm, out int rank);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_size")]
    internal static partial int CommSize(int comm, out int size);

    [LibraryImport(Library, EntryPoint = "MPI_Reduce")]
    internal static partial int Reduce(IntPtr send, IntPtr receive, int count, int datatype, int op, int root, int comm);

    [LibraryImport(Library, EntryPoint = "MPI_Allreduce")]
    internal static partial int Allreduce(IntPtr send, IntPtr receive, int count, int datatype, int op, int comm);

    [LibraryImport(Library, EntryPoint = "MPI_Bcast")]
    internal static partial int Bcast(IntPtr buffer, int count, int datatype, int root, int comm);

    [LibraryImport(Library, EntryPoint = "MPI_Barrier")]
    internal static partial int Barrier(int comm);

    [LibraryImport(Library, EntryPoint = "MPI_Abort")]
    internal static partial int Abort(int comm, int errorCode);
}
