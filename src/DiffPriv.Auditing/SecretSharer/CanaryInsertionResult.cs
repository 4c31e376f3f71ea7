namespace DiffPriv.Auditing.SecretSharer;

/// <summary>Training sequences with the canaries inserted, and where each canary went (for the report).</summary>
/// <param name="Plan">The plan that was inserted.</param>
/// <param name="Sequences">The N + Σ r training sequences.</param>
/// <param name="Positions">For each canary of <see cref="CanaryPlan.Canaries"/> (same order), the r indices into <paramref name="Sequences"/> that hold it, ascending.</param>
public sealed record CanaryInsertionResult(CanaryPlan Plan, IReadOnlyList<string> Sequences, IReadOnlyList<IReadOnlyList<int>> Positions);
