namespace DiffPriv.Auditing.SecretSharer;

/// <summary>The exposures of the canaries inserted r times, averaged.</summary>
/// <param name="Repetitions">r.</param>
/// <param name="Canaries">How many canaries were inserted r times.</param>
/// <param name="MeanExposureByRank">Mean of their exposures by rank (bits).</param>
/// <param name="MeanExposureByExtrapolation">Mean of their exposures by extrapolation (bits).</param>
/// <param name="MeanScore">Mean of their log-perplexities.</param>
public sealed record RepetitionExposure(int Repetitions, int Canaries, double MeanExposureByRank, double MeanExposureByExtrapolation, double MeanScore);
