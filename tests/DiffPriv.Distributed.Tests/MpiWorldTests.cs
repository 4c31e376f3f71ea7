namespace DiffPriv.Distributed.Tests;

public sealed class MpiWorldTests
{
    [Theory]
    [InlineData("PMI_RANK", "1", true)] // MPICH's Hydra
    [InlineData("PMI_SIZE", "2", true)]
    [InlineData("PMIX_RANK", "0", true)] // PMIx launchers (srun --mpi=pmix)
    [InlineData("OMPI_COMM_WORLD_SIZE", "2", true)] // Open MPI: recognised, then refused by Detect
    [InlineData("SLURM_PROCID", "0", false)] // a Slurm task is not an MPI rank by itself
    [InlineData("HOME", "/root", false)]
    public void LaunchedByMpiReadsTheLaunchersVariables(string name, string value, bool expected) =>
        Assert.Equal(expected, MpiWorld.LaunchedByMpi(new Dictionary<string, string> { [name] = value }));

    [Fact]
    public void OutsideMpiThereIsNoWorld()
    {
        // The test host is not started by mpiexec.
        Assert.False(MpiWorld.LaunchedByMpi());
        Assert.Null(MpiWorld.Detect());
        Assert.Null(MpiWorld.Current);
        Assert.Equal(1, MpiWorld.LaunchedSize);
    }
}
