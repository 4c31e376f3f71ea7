using DiffPriv.Accounting;
using DiffPriv.Data;
using DiffPriv.Noise;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Data;

public sealed class ShuffledDataLoaderTests
{
    public ShuffledDataLoaderTests() => TorchRuntime.EnsureLoaded();

    private static ShuffledDataLoader Create(long n, long b, double epochs, NoiseGate gate)
    {
        var x = torch.arange(n).reshape(n, 1).to(ScalarType.Float32);
        var y = torch.arange(n);
        return new ShuffledDataLoader(PoissonDataLoader.PairSource(x, y, null), b, 2, gate, StepSchedule.FromEpochs(n, b, epochs));
    }

    [Fact]
    public void EveryPassHoldsEveryExampleOnceInBatchesOfB()
    {
        using var scope = torch.NewDisposeScope();
        using var gate = NoiseGate.CreateSeeded(5);
        var loader = Create(10, 3, 2, gate);
        IPrivateLoader tracked = loader;
        var orders = new List<long[]>();
        for (var pass = 0; pass < 2; pass++)
        {
            var seen = new List<long>();
            var sizes = new List<long>();
            foreach (var batch in loader)
            {
                Assert.Equal(pass, tracked.LatestPass);
                sizes.Add(batch.Count);
                // The rows are the examples the indices name, in physical chunks of at most 2.
                Assert.Equal(batch.Indices, batch["label"].data<long>().ToArray());
                Assert.All(batch.PhysicalBatches(), chunk => Assert.True(chunk["data"].shape[0] <= 2));
                seen.AddRange(batch.Indices);
            }

            // ⌈2·10/3⌉ = 7 steps (the project's one step rule): a full pass of ⌈10/3⌉ = 4, the last one left with 3.
            Assert.Equal(pass == 0 ? [3L, 3, 3, 1] : [3L, 3, 3], sizes);
            Assert.Equal(seen.Count, seen.Distinct().Count());
            Assert.All(seen, i => Assert.InRange(i, 0, 9));
            orders.Add([.. seen]);
        }

        Assert.Equal(10, orders[0].Length);
        Assert.NotEqual(orders[0][..9], orders[1]); // a fresh order per pass
        Assert.Equal(7, loader.BatchesDrawn);
        Assert.Equal(2, loader.EpochsStarted);
        Assert.Throws<StepPlanExceededException>(() => loader.First());
    }

    [Fact]
    public void TheLastPassOfAFractionalPlanIsShortened()
    {
        using var scope = torch.NewDisposeScope();
        using var gate = NoiseGate.CreateSeeded(6);
        var loader = Create(10, 3, 1.5, gate); // ⌈1.5·10/3⌉ = 5 steps: a pass of 4, then 1
        Assert.Equal(4, loader.Count());
        Assert.Equal([3L], loader.Select(b => b.Count));
        Assert.Equal(5, loader.BatchesDrawn);
        Assert.Throws<StepPlanExceededException>(() => loader.First());
    }

    [Fact]
    public void SeededLoadersReplayTheirOrder()
    {
        using var scope = torch.NewDisposeScope();
        using var a = NoiseGate.CreateSeeded(7);
        using var b = NoiseGate.CreateSeeded(7);
        Assert.Equal(
            Create(50, 8, 1, a).SelectMany(batch => batch.Indices).ToArray(),
            Create(50, 8, 1, b).SelectMany(batch => batch.Indices).ToArray());
    }
}
