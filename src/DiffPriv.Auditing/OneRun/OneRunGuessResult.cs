namespace DiffPriv.Auditing.OneRun;

/// <summary>One guess count of a one-run audit.</summary>
/// <param name="Guesses">k, the canaries guessed.</param>
/// <param name="CorrectGuesses">How many of the k guesses were right.</param>
/// <param name="EpsilonLowerBound">The bound from this k, at the audit's corrected confidence.</param>
public sealed record OneRunGuessResult(int Guesses, int CorrectGuesses, double EpsilonLowerBound);
