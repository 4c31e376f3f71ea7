namespace DiffPriv.Experiments.Reports;

/// <summary>What a DP-FTRL run's privacy statement needs to know about it.</summary>
/// <param name="DatasetSize">N, the training examples.</param>
/// <param name="BatchSize">B, the fixed batch size.</param>
/// <param name="Steps">Steps that ran.</param>
/// <param name="Trees">Trees recorded: one per pass over the data.</param>
/// <param name="StepsPerTree">⌈N/B⌉, the leaves each tree was accounted for.</param>
/// <param name="Delta">δ of the statement.</param>
public sealed record DpFtrlRunShape(long DatasetSize, long BatchSize, long Steps, long Trees, long StepsPerTree, double Delta);
