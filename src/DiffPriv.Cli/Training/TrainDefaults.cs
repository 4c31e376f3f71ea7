using DiffPriv.Data;
using DiffPriv.Models;

namespace DiffPriv.Cli.Training;

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
    int SmokeTrainExamples,
    int SmokeTestExamples,
    int SmokeEpochs)
{
    public static TrainDefaults Mnist { get; } = new(
        TargetEpsilon: 3.0,
        Delta: 1e-5,
        MaxGradNorm: 1.0,
        BatchSize: 256,
        Epochs: 15,
        LearningRate: 0.5,
        Optimizer: OptimizerKind.Sgd,
        Momentum: 0.0,
        Activation: Activation.Tanh,
        SmokeTrainExamples: 2000,
        SmokeTestExamples: 1000,
        SmokeEpochs: 1);

    public static TrainDefaults FashionMnist { get; } = Mnist;

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
    long? Seed,
    string? OutDir,
    bool Smoke,
    bool Json,
    string CommandLine)
{
    public int? TrainLimit => Smoke ? TrainDefaults.For(Dataset).SmokeTrainExamples : null;

    public int? TestLimit => Smoke ? TrainDefaults.For(Dataset).SmokeTestExamples : null;

    public string DatasetId => Datasets.Get(Dataset).Id;
}
