namespace DiffPriv.Auditing.SecretSharer;

/// <summary>One canary's score and exposures.</summary>
/// <param name="Secret">The canary text.</param>
/// <param name="Repetitions">r: how often it was inserted.</param>
/// <param name="Score">Its log-perplexity under the model (nats per predicted token; lower = more likely).</param>
/// <param name="Rank">1 + the number of references scoring ≤ it, in [1, |R| + 1].</param>
/// <param name="ExposureByRank">log2 |R| − log2 <paramref name="Rank"/> (bits).</param>
/// <param name="ExposureByExtrapolation">−log2 F(<paramref name="Score"/>) under the skew-normal fitted to the references (bits).</param>
public sealed record CanaryExposure(string Secret, int Repetitions, double Score, int Rank, double ExposureByRank, double ExposureByExtrapolation);
