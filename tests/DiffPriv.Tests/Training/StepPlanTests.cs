using DiffPriv.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Tests.Training;

/// <summary>The plan (StepSchedule) shared by calibration, the loader's epochs and the optimizer's guard.</summary>
public sealed class StepPlanTests
{
    private const long N = 1000;
    private const double B = 300; // N/B = 3.33: ⌈N/B⌉ = 4 steps per loader epoch
    private const double TargetEpsilon = 4.0;
    private const double Delta = 1e-5;

    private static (Tensor X, Tensor Y) Data() => TrainingFixtures.Blobs(N, 2, 11);

    private static nn.Module<Tensor, Tensor> TinyModel()
    {
        var model = nn.Sequential(("fc", nn.Linear(2, 2)));
        using (torch.no_grad())
        {
            foreach (var p in model.parameters())
            {
                p.fill_(0.1);
            }
        }

        return model;
    }

    private static void ThreeLineStep(Optim.DpOptimizer optimizer, nn.Module<Tensor, Tensor> model, LogicalBatch batch)
    {
        optimizer.zero_grad();
        optimizer.Backward(TrainingFixtures.PerExampleCrossEntropy(model, batch["data"], batch["label"]));
        optimizer.step();
    }

    /// <summary>Runs <paramref name="epochs"/> epochs of the three-line loop and returns each epoch's number of steps.</summary>
    private static List<int> RunEpochs(Optim.DpOptimizer optimizer, PoissonDataLoader loader, nn.Module<Tensor, Tensor> model, int epochs)
    {
        var lengths = new List<int>();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var length = 0;
            foreach (var batch in loader)
            {
                using var stepScope = torch.NewDisposeScope();
                ThreeLineStep(optimizer, model, batch);
                length++;
            }

            lengths.Add(length);
        }

        return lengths;
    }

    /// <summary>The plain loop of the class documentation: for (epoch &lt; epochs) foreach (batch in loader) { … }.</summary>
    private static void RunPlainEpochLoop(int epochs)
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = Data();
        var model = TinyModel();
        var engine = new PrivacyEngine();
        using var training = engine.MakePrivateWithEpsilon(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, ExpectedBatchSize = B, Seed = 1 }, TargetEpsilon, Delta, epochs);
        var (optimizer, loader) = training;
        var planned = (long)Math.Ceiling(epochs * N / B);
        Assert.Equal(planned, training.Schedule!.TotalSteps);
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            foreach (var batch in loader)
            {
                using var stepScope = torch.NewDisposeScope();
                ThreeLineStep(optimizer, model, batch);
            }
        }

        Assert.Equal(planned, optimizer.Steps);
        Assert.Equal(planned, engine.Ledger.TotalCount);
        var epsilon = engine.GetEpsilon(Delta);
        Assert.True(epsilon <= TargetEpsilon, $"ε = {epsilon} > target {TargetEpsilon}");
        Assert.True(epsilon > 0.9 * TargetEpsilon, $"ε = {epsilon}: the calibration should use most of the budget");
    }

    [Theory]
    [InlineData(1)] // ⌈3.33⌉ = 4 steps: one loader epoch of 4
    [InlineData(3)] // ⌈10⌉ = 10 steps: epochs of 4, 4, 2
    public void PlainEpochLoopRunsExactlyTheCalibratedSteps(int epochs) => RunPlainEpochLoop(epochs);

    [Theory]
    [InlineData(10)] // ⌈33.3⌉ = 34 steps = 8 epochs of 4 and one of 2: the 10th epoch of the documented loop throws
    [InlineData(60)] // 200 steps = 50 epochs of 4: epochs 51 to 60 throw
    public void PlainEpochLoopRunsExactlyTheCalibratedStepsForManyEpochs(int epochs) => RunPlainEpochLoop(epochs);

    private static PrivateTraining PlannedTraining(PrivacyEngine engine, nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, bool continueBeyondPlan) =>
        // N = 100, B = 20, 1.5 epochs: 8 steps, loader epochs of 5 and 3.
        engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y, new DpSgdOptions
        {
            MaxGradNorm = 1,
            NoiseMultiplier = 1,
            ExpectedBatchSize = 20,
            Epochs = 1.5,
            ContinueBeyondPlan = continueBeyondPlan,
            Seed = 3,
        });

    [Fact]
    public void SteppingPastThePlanThrowsAndRecordsNothing()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 5);
        var model = TrainingFixtures.SmallMlp(4, 5);
        var engine = new PrivacyEngine();
        using var training = PlannedTraining(engine, model, x, y, continueBeyondPlan: false);
        var (optimizer, loader) = training;
        Assert.Equal(8, training.Schedule!.TotalSteps);
        var epochLengths = RunEpochs(optimizer, loader, model, 2);

        Assert.Equal([5, 3], epochLengths);
        var epsilon = engine.GetEpsilon(Delta);
        var parameters = TrainingFixtures.Flatten(model);

        // The loader's next epoch.
        var error = Assert.Throws<StepPlanExceededException>(() =>
        {
            foreach (var batch in loader)
            {
                ThreeLineStep(optimizer, model, batch);
            }
        });
        Assert.Equal(8, error.PlannedSteps);
        Assert.Contains("ContinueBeyondPlan", error.Message);

        // The optimizer's next step, chunked: refused before the loss is even computed.
        var lossCalls = 0;
        Assert.Throws<StepPlanExceededException>(() => optimizer.Step(loader.NextBatch(), (xb, yb) =>
        {
            lossCalls++;
            return TrainingFixtures.PerExampleCrossEntropy(model, xb, yb);
        }));
        Assert.Equal(0, lossCalls);

        // The optimizer's next step, three-line: the DP backward runs, the step is refused.
        var extra = loader.NextBatch();
        optimizer.zero_grad();
        optimizer.Backward(TrainingFixtures.PerExampleCrossEntropy(model, extra["data"], extra["label"]));
        Assert.Throws<StepPlanExceededException>(() => optimizer.step());

        Assert.Equal(8, optimizer.Steps);
        Assert.Equal(8, engine.Ledger.TotalCount);
        Assert.Equal(epsilon, engine.GetEpsilon(Delta));
        Assert.Equal(parameters, TrainingFixtures.Flatten(model));
    }

    [Fact]
    public void ContinueBeyondPlanKeepsGoingAndEpsilonGrows()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = TrainingFixtures.Blobs(100, 4, 5);
        var model = TrainingFixtures.SmallMlp(4, 5);
        var engine = new PrivacyEngine();
        using var training = PlannedTraining(engine, model, x, y, continueBeyondPlan: true);
        var (optimizer, loader) = training;
        for (var epoch = 0; epoch < training.Schedule!.Epochs; epoch++)
        {
            foreach (var batch in loader)
            {
                using var stepScope = torch.NewDisposeScope();
                ThreeLineStep(optimizer, model, batch);
            }
        }

        Assert.Equal(training.Schedule.TotalSteps, optimizer.Steps);
        var epsilonAtPlan = engine.GetEpsilon(Delta);
        // One more epoch and one more step, both past the plan.
        foreach (var batch in loader)
        {
            using var stepScope = torch.NewDisposeScope();
            ThreeLineStep(optimizer, model, batch);
        }

        optimizer.Step(loader.NextBatch(), (xb, yb) => TrainingFixtures.PerExampleCrossEntropy(model, xb, yb));
        Assert.Equal(8 + 5 + 1, optimizer.Steps);
        Assert.Equal(optimizer.Steps, engine.Ledger.TotalCount);
        Assert.True(engine.GetEpsilon(Delta) > epsilonAtPlan, $"ε {engine.GetEpsilon(Delta)} after the plan, {epsilonAtPlan} at it");
    }

    [Fact]
    public void ContinueBeyondPlanDoesNotChangeThePlannedEpochs()
    {
        // Allowing steps past the plan must not change the steps of the planned epochs: the calibrated loop
        // (3 epochs of N = 1000 at B = 300: 10 steps, epochs of 4, 4, 2) still runs exactly 10 steps within the target ε.
        TorchRuntime.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var (x, y) = Data();
        var model = TinyModel();
        var engine = new PrivacyEngine();
        using var training = engine.MakePrivateWithEpsilon(model, optim.SGD(model.parameters(), 0.1), x, y,
            new DpSgdOptions { MaxGradNorm = 1, ExpectedBatchSize = B, ContinueBeyondPlan = true, Seed = 1 }, TargetEpsilon, Delta, epochs: 3);
        var (optimizer, loader) = training;
        var lengths = RunEpochs(optimizer, loader, model, 3);

        Assert.Equal([4, 4, 2], lengths);
        Assert.Equal(10, optimizer.Steps);
        Assert.True(engine.GetEpsilon(Delta) <= TargetEpsilon, $"ε = {engine.GetEpsilon(Delta)} > target {TargetEpsilon} within the planned epochs");
    }
}
