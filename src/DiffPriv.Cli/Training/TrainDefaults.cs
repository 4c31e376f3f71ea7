using DiffPriv.Data;
using DiffPriv.Models;

namespace DiffPriv.Cli.Training;

/// <summary>How the learning rate changes over a run.</summary>
internal enum LrSchedule
{
    /// <summary>The same learning rate at every step.</summary>
    Constant,

    /// <summary>lr · ½(1 + cos(π·t/T)) at step t of T: large steps early, small ones at the end.</summary>
    Cosine,
}

/// <summary>Learning-rate schedules: the rate at a step, and setting it on an optimizer.</summary>
internal static class LrSchedules
{
    /// <summary>The learning rate at step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="learningRate">The rate at step 0.</param>
    /// <param name="step">The step, 0-based.</param>
    /// <param name="totalSteps">Steps of the whole run.</param>
    /// <returns>The rate (a public function of the step: it costs no privacy).</returns>
    public static double At(LrSchedule schedule, double learningRate, long step, long totalSteps) => schedule switch
    {
        LrSchedule.Cosine => learningRate * 0.5 * (1 + Math.Cos(Math.PI * step / Math.Max(1, totalSteps))),
        _ => learningRate,
    };

    /// <summary>Sets the learning rate of every parameter group of <paramref name="optimizer"/>.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="learningRate">The new rate.</param>
    public static void Set(TorchSharp.torch.optim.Optimizer optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }
    }

    /// <summary>How a report names the schedule.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <returns>A short description.</returns>
    public static string Describe(LrSchedule schedule) => schedule == LrSchedule.Cosine ? "cosine decay to 0 over the run" : "constant";
}

/// <summary>The inner optimizer of a training run.</summary>
internal enum OptimizerKind
{
    Sgd,
    Adam,
}

/// <summary>
/// The defaults of <c>diffpriv train</c>, one record per data set: THE place to tune them. Without
/// <c>--noise-multiplier</c>, σ is calibrated so that the run meets <see cref="TargetEpsilon"/> at <see cref="Delta"/>.
/// </summary>
internal sealed record TrainDefaults(
    double TargetEpsilon,
    double Delta,
    double MaxGradNorm,
    int BatchSize,
    int Epochs,
    double LearningRate,
    OptimizerKind Optimizer,
    double Momentum,
    Activation Activation,
    LrSchedule Schedule,
    int SmokeTrainExamples,
    int SmokeTestExamples,
    int SmokeEpochs,
    int SmokeBatchSize,
    int NoDpBatchSize,
    double NoDpLearningRate,
    int NoDpEpochs)
{
    // Tuned on this project's 2-core machine (README, "Results"): the tutorial CNN with tanh activations, large
    // expected batches, small clipping norm and momentum, the settings Tramèr & Boneh (2021) report for end-to-end
    // CNNs; σ is calibrated with the PLD accountant so the whole run spends exactly the target ε.
    public static TrainDefaults Mnist { get; } = new(
        TargetEpsilon: 3.0,
        Delta: 1e-5,
        MaxGradNorm: 0.1,
        BatchSize: 512,
        Epochs: 40,
        LearningRate: 0.5,
        Optimizer: OptimizerKind.Sgd,
        Momentum: 0.9,
        Activation: Activation.Tanh,
        Schedule: LrSchedule.Constant,
        SmokeTrainExamples: 2000,
        SmokeTestExamples: 1000,
        SmokeEpochs: 1,
        SmokeBatchSize: 256,
        // Without noise, smaller batches and a smaller step do better (99.1% in 15 epochs here).
        NoDpBatchSize: 128,
        NoDpLearningRate: 0.05,
        NoDpEpochs: 15);

    public static TrainDefaults FashionMnist { get; } = Mnist with { BatchSize = 2048, LearningRate = 4.0 };

    public static TrainDefaults For(DatasetName dataset) => dataset switch
    {
        DatasetName.Mnist => Mnist,
        DatasetName.FashionMnist => FashionMnist,
        _ => throw new ArgumentOutOfRangeException(nameof(dataset), dataset, "Unknown data set."),
    };
}

/// <summary>Validated settings of one <c>diffpriv train</c> run.</summary>
internal sealed record TrainSettings(
    DatasetName Dataset,
    bool NoDp,
    double? NoiseMultiplier,
    double? TargetEpsilon,
    double Delta,
    double MaxGradNorm,
    int BatchSize,
    int Epochs,
    double LearningRate,
    OptimizerKind Optimizer,
    double Momentum,
    Activation Activation,
    LrSchedule Schedule,
    long? Seed,
    string? OutDir,
    bool Smoke,
    int? TrainExamples,
    bool Audit,
    bool Json,
    string CommandLine)
{
    public int? TrainLimit => Smoke ? TrainDefaults.For(Dataset).SmokeTrainExamples : TrainExamples;

    public int? TestLimit => Smoke ? TrainDefaults.For(Dataset).SmokeTestExamples : null;

    public string DatasetId => Datasets.Get(Dataset).Id;

    /// <summary>The learning rate at step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public double LearningRateAt(long step, long totalSteps) => LrSchedules.At(Schedule, LearningRate, step, totalSteps);
}
