namespace DiffPriv.Auditing.SecretSharer;

/// <summary>One canary: a secret of the plan's format and how many times it is inserted into the training data.</summary>
/// <param name="Secret">The canary text, e.g. <c>"my pin is 281974"</c>.</param>
/// <param name="Repetitions">r ≥ 1: copies inserted into the training data.</param>
public sealed record Canary(string Secret, int Repetitions);
