using System.Diagnostics;
using DiffPriv.Accounting;
using DiffPriv.Tests.PerSample;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

/// <summary>
/// Two thousand DP-SGD steps of the ordinary loop (Adam, secure noise, Poisson batches) after a warm-up: nothing
/// accumulates. Runs in the per-sample collection, alone, so that the resident memory it reads is its own.
/// </summary>
[Collection(PerSampleTestGroup.Name)]
public sealed class LongRunStabilityTests(ITestOutputHelper output)
{
    private const int MeasuredSteps = 2000;
    private const int MaxWarmUpSteps = 20_000;
    private const double MaxResidentGrowthMb = 50;

    /// <summary>
    /// The warm-up lasts until the runtime has collected twice: each step leaves some tens of kilobytes of managed garbage
    /// (TorchSharp's tensor wrappers), and resident memory grows until the collector's allocation budget, which depends on the
    /// machine's cache sizes, has been reached. After that, a leak (tensors never freed, native memory held by the step) still
    /// grows by the step; the collector's working set does not.
    /// </summary>
    [Fact]
    public void TwoThousandDpStepsKeepLiveTensorsConstantAndResidentMemoryFlat()
    {
        TorchRuntime.EnsureLoaded();
        var (x, y) = TrainingFixtures.Blobs(2000, 32, 9);
        var model = TrainingFixtures.Initialise(
            nn.Sequential(("fc1", nn.Linear(32, 128)), ("act", nn.Tanh()), ("fc2", nn.Linear(128, 128)), ("act2", nn.Tanh()), ("fc3", nn.Linear(128, 2))), 9);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivate(model, optim.Adam(model.parameters(), 1e-3), x, y,
            new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1.1, ExpectedBatchSize = 64 }); // no seed: the secure generator
        void Step()
        {
            using var scope = torch.NewDisposeScope();
            training.Optimizer.Step(training.Loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
        }

        var collections = GC.CollectionCount(0);
        var warmUp = 0;
        while (warmUp < 200 || (GC.CollectionCount(0) - collections < 2 && warmUp < MaxWarmUpSteps))
        {
            Step();
            warmUp++;
        }

        var live = new List<long>();
        var resident = new List<double>();
        for (var step = 1; step <= MeasuredSteps; step++)
        {
            Step();
            if (step == 1 || step % 200 == 0)
            {
                live.Add(LiveTensors());
                resident.Add(ResidentMb());
            }
        }

        var growth = resident[^1] - resident[0];
        output.WriteLine($"warm-up {warmUp} steps; live tensors every 200 steps: {string.Join(", ", live)}");
        output.WriteLine($"resident MB: {string.Join(", ", resident.Select(r => r.ToString("F1")))}; growth {growth:F1} MB");
        Assert.Equal(warmUp + MeasuredSteps, training.Optimizer.Steps);
        Assert.Equal(warmUp + MeasuredSteps, engine.Ledger.TotalCount);
        Assert.All(live, n => Assert.Equal(live[0], n));
        Assert.True(growth <= MaxResidentGrowthMb, $"resident memory grew by {growth:F1} MB over {MeasuredSteps} steps after {warmUp} warm-up steps (limit {MaxResidentGrowthMb} MB)");
        x.Dispose();
        y.Dispose();
    }

    // Tensors created and not yet disposed, on every thread (TorchSharp's own bookkeeping).
    private static long LiveTensors()
    {
        var s = DisposeScopeManager.Statistics.TensorStatistics;
        return s.CreatedInScopeCount + s.CreatedOutsideScopeCount - s.DisposedInScopeCount - s.DisposedOutsideScopeCount;
    }

    private static double ResidentMb()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64 / (1024.0 * 1024.0);
    }
}
