namespace DiffPriv.Data;

/// <summary>
/// Splits each logical batch among the processes of a data-parallel job: one process draws the batch (the same draw a
/// single process would make), every process gets the indices it computes. Set by <c>DiffPriv.Distributed</c>.
/// </summary>
internal interface IBatchDistributor
{
    /// <summary>This process's share of the next logical batch.</summary>
    /// <param name="draw">Draws the whole logical batch; called only by the process that samples.</param>
    /// <returns>The dataset indices this process computes, in increasing order.</returns>
    long[] Share(Func<long[]> draw);
}
