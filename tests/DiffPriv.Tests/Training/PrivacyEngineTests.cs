using DiffPriv.Accounting;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Validation;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

public sealed class PrivacyEngineTests
{
    private static DpSgdOptions Options(double sigma = 1.0, double c = 1.0, double b = 10) =>
        new() { MaxGradNorm = c, NoiseMultiplier = sigma, ExpectedBatchSize = b, Seed = 1 };

    [Theory]
    [InlineData(-1.0, 1.0, 10, "NoiseMultiplier")]
    [InlineData(0.0, 1.0, 10, "NoiseMultiplier")]
    [InlineData(double.NaN, 1.0, 10, "NoiseMultiplier")]
    [InlineData(1.0, 0.0, 10, "MaxGradNorm")]
    [InlineData(1.0, -2.0, 10, "MaxGradNorm")]
    [InlineData(1.0, double.PositiveInfinity, 10, "MaxGradNorm")]
    [InlineData(1.0, 1.0, 0, "ExpectedBatchSize")]
    [InlineData(1.0, 1.0, 101, "ExpectedBatchSize")]
    public void BadOptionsFailWithAMessageNamingTheOption(double sigma, double c, double b, string name)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 1);
        var model = TrainingFixtures.SmallMlp(4, 1);
        var error = Assert.Throws<ArgumentException>(() =>
            new PrivacyEngine().MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y, Options(sigma, c, b)));
        Assert.Contains(name, error.Message);
    }

    [Fact]
    public void ModelWithBatchNormIsRefusedAndFixMakesItTrainable()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var model = nn.Sequential(
            ("conv", nn.Conv2d(1, 8, 3)),
            ("bn", nn.BatchNorm2d(8)),
            ("act", nn.ReLU()),
            ("flat", nn.Flatten()),
            ("fc", nn.Linear(8 * 6 * 6, 2)));
        var x = torch.randn([40, 1, 8, 8]);
        var y = torch.randint(0, 2, [40], dtype: ScalarType.Int64);
        var error = Assert.Throws<InvalidModuleException>(() =>
            new PrivacyEngine().MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y, Options()));
        var problem = Assert.Single(error.Problems);
        Assert.Equal("bn", problem.ModulePath);
        Assert.Contains("GroupNorm", problem.Fix);

        ModuleValidator.Fix(model);
        Assert.Empty(ModuleValidator.Validate(model));
        var groupNorm = Assert.IsType<TorchSharp.Modules.GroupNorm>(model.named_children().Single(c => c.name == "bn").module);
        Assert.Equal(8, groupNorm.num_groups);
        // It starts as the identity transform (TorchSharp leaves GroupNorm's parameters uninitialised otherwise).
        Assert.True(groupNorm.weight!.eq(1).all().item<bool>());
        Assert.True(groupNorm.bias!.eq(0).all().item<bool>());
        var engine = new PrivacyEngine();
        using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y, Options());
        var before = TrainingFixtures.Flatten(model);
        training.Optimizer.Step(training.Loader.NextBatch(), (xb, yb) => nn.functional.cross_entropy(model.call(xb), yb, reduction: nn.Reduction.None));
        Assert.NotEqual(before, TrainingFixtures.Flatten(model));
        // The GroupNorm's own parameters are trained too (they are part of the private gradient).
        Assert.Contains(model.named_parameters(), p => p.name.StartsWith("bn.", StringComparison.Ordinal));
    }

    [Fact]
    public void NonFiniteParametersAreReported()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var gn = nn.GroupNorm(2, 4);
        using (torch.no_grad())
        {
            gn.weight!.fill_(1.0);
            gn.bias!.fill_(double.NaN);
        }

        var model = nn.Sequential(("fc", nn.Linear(3, 4)), ("gn", gn));
        var problem = Assert.Single(ModuleValidator.Validate(model));
        Assert.Equal("gn", problem.ModulePath);
        Assert.Contains("NaN", problem.Problem);
    }

    [Fact]
    public void FrozenBatchNormIsStillRefusedBecauseItMixesExamples()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var bn = nn.BatchNorm1d(4);
        foreach (var p in bn.parameters())
        {
            p.requires_grad = false;
        }

        var model = nn.Sequential(("bn", bn), ("fc", nn.Linear(4, 2)));
        Assert.Single(ModuleValidator.Validate(model));
    }

    [Fact]
    public void MakePrivateWithEpsilonCalibratesSigmaAndStaysWithinBudget()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(200, 4, 7);
        var model = TrainingFixtures.SmallMlp(4, 7);
        var engine = new PrivacyEngine(AccountantKind.Rdp);
        using var training = engine.MakePrivateWithEpsilon(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1.0, ExpectedBatchSize = 20, Seed = 2 }, targetEpsilon: 2.0, targetDelta: 1e-5, epochs: 2);
        var sigma = training.Options.NoiseMultiplier;
        Assert.Equal(DpSgdCalibration.NoiseMultiplier(0.1, 20, 2.0, 1e-5, AccountantKind.Rdp).NoiseMultiplier, sigma);
        for (var epoch = 0; epoch < 2; epoch++)
        {
            foreach (var batch in training.Loader.Epoch())
            {
                training.Optimizer.Step(batch, (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            }
        }

        Assert.Equal(20, training.Optimizer.Steps);
        Assert.True(engine.GetEpsilon(1e-5) <= 2.0);
        Assert.True(engine.GetEpsilon(1e-5) > 1.9, "calibration should use most of the budget");
    }

    [Fact]
    public void ResumingFromACheckpointEqualsTheUninterruptedRun()
    {
        TorchRuntime.EnsureLoaded();
        var dir = Directory.CreateTempSubdirectory("diffpriv-ckpt");
        try
        {
            var (x, y) = TrainingFixtures.Blobs(120, 4, 9);
            double[] Run(int steps, int? saveAt, string? resumeFrom, out double epsilon)
            {
                using var scope = torch.NewDisposeScope();
                var model = TrainingFixtures.SmallMlp(4, 9);
                var engine = new PrivacyEngine();
                using var training = engine.MakePrivate(model, optim.Adam(model.parameters(), 0.01), x, y,
                    new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 1.0, ExpectedBatchSize = 12, Seed = 21 });
                if (resumeFrom is not null)
                {
                    engine.LoadCheckpoint(resumeFrom, training);
                }

                while (training.Optimizer.Steps < steps)
                {
                    training.Optimizer.Step(training.Loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
                    if (training.Optimizer.Steps == saveAt)
                    {
                        engine.SaveCheckpoint(Path.Combine(dir.FullName, "ckpt.bin"), training);
                    }
                }

                epsilon = engine.GetEpsilon(1e-5);
                return TrainingFixtures.Flatten(model);
            }

            var straight = Run(12, saveAt: 5, resumeFrom: null, out var epsStraight);
            var resumed = Run(12, saveAt: null, resumeFrom: Path.Combine(dir.FullName, "ckpt.bin"), out var epsResumed);
            Assert.Equal(straight, resumed); // bit-identical
            Assert.Equal(epsStraight, epsResumed);
        }
        finally
        {
            dir.Delete(recursive: true);
            GC.KeepAlive(dir);
        }
    }

    /// <summary>
    /// A version-3 checkpoint (before DP-FTRL checkpoints; its ledger names no relation) still loads: v4 only added a kind of
    /// query state, so a v3 file is a v4 file of DP-SGD with the older magic and a ledger without "relation".
    /// </summary>
    [Fact]
    public void AVersionThreeCheckpointStillLoads()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var path = Path.GetTempFileName();
        try
        {
            var (x, y) = TrainingFixtures.Blobs(60, 4, 2);
            var model = TrainingFixtures.SmallMlp(4, 2);
            var engine = new PrivacyEngine();
            using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y, Options());
            for (var i = 0; i < 3; i++)
            {
                training.Optimizer.Step(training.Loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
            }

            using (var buffer = new MemoryStream())
            {
                engine.SaveCheckpoint(buffer, training);
                var text = System.Text.Encoding.Latin1.GetString(buffer.ToArray());
                Assert.Contains(",\"relation\":\"add-or-remove-one\"", text, StringComparison.Ordinal);
                File.WriteAllBytes(path, buffer.ToArray());
            }

            // Rewrite as v3: the older magic, and the ledger JSON (a length-prefixed string) without its relation.
            using (var stream = File.OpenRead(path))
            using (var reader = new BinaryReader(stream, System.Text.Encoding.UTF8))
            using (var v3 = new MemoryStream())
            using (var writer = new BinaryWriter(v3, System.Text.Encoding.UTF8))
            {
                Assert.Equal("DiffPriv.Checkpoint.v4", reader.ReadString());
                writer.Write("DiffPriv.Checkpoint.v3");
                writer.Write(reader.ReadString().Replace(",\"relation\":\"add-or-remove-one\"", "", StringComparison.Ordinal));
                stream.CopyTo(v3);
                writer.Flush();
                stream.Close();
                File.WriteAllBytes(path, v3.ToArray());
            }

            var fresh = TrainingFixtures.SmallMlp(4, 2);
            var freshEngine = new PrivacyEngine();
            using var freshTraining = freshEngine.MakePrivate(fresh, optim.SGD(fresh.parameters(), 0.1), x, y, Options());
            freshEngine.LoadCheckpoint(path, freshTraining);
            Assert.Equal(TrainingFixtures.Flatten(model), TrainingFixtures.Flatten(fresh));
            Assert.Equal(engine.LedgerEvent, freshEngine.LedgerEvent);
            Assert.Equal(3, freshTraining.Optimizer.Steps);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CorruptCheckpointIsReportedClearly()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a checkpoint");
            var (x, y) = TrainingFixtures.Blobs(50, 4, 1);
            var model = TrainingFixtures.SmallMlp(4, 1);
            var engine = new PrivacyEngine();
            using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y, Options());
            Assert.Throws<InvalidDataException>(() => engine.LoadCheckpoint(path, training));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
