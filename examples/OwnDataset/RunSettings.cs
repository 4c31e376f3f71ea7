using DiffPriv;

namespace OwnDataset;

/// <summary>What both training loops are given: the usual hyperparameters, and what the private loop needs besides.</summary>
/// <param name="Epochs">Passes over the data.</param>
/// <param name="BatchSize">The batch size (the private loop's expected batch size is in <paramref name="Privacy"/>).</param>
/// <param name="LearningRate">SGD's learning rate.</param>
/// <param name="Engine">The privacy engine (its ledger records every private step).</param>
/// <param name="Privacy">Clipping norm and expected batch size for DP-SGD.</param>
/// <param name="TargetEpsilon">The ε the private run is calibrated for.</param>
/// <param name="Delta">δ.</param>
/// <param name="EndOfEpoch">Called after every epoch with its index.</param>
internal sealed record RunSettings(
    int Epochs,
    int BatchSize,
    double LearningRate,
    PrivacyEngine Engine,
    DpSgdOptions Privacy,
    double TargetEpsilon,
    double Delta,
    Action<int> EndOfEpoch);
