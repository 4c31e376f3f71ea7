namespace DiffPriv.Experiments.Training;

/// <summary>One epoch's numbers. Train loss and accuracy are measured on the private batches (local diagnostics, not covered by ε).</summary>
public sealed record EpochMetrics(int Epoch, long Steps, double TrainLoss, double TrainAccuracy, double TestAccuracy, double? Epsilon, double? EpsilonLower, double Seconds);
