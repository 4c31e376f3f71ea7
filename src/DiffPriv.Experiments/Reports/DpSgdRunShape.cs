namespace DiffPriv.Experiments.Reports;

/// <summary>What a DP-SGD run's privacy statement needs to know about it.</summary>
/// <param name="SamplingProbability">Poisson sampling probability q per step.</param>
/// <param name="DatasetSize">Number of training examples N, when known.</param>
/// <param name="BatchSize">Expected batch size B = qN, when known.</param>
/// <param name="Steps">Steps that ran.</param>
/// <param name="Delta">δ of the statement.</param>
public sealed record DpSgdRunShape(double SamplingProbability, long? DatasetSize, long? BatchSize, long Steps, double Delta);
