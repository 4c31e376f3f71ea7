namespace DiffPriv.Auditing.OneRun;

/// <summary>The outcome of a one-run audit.</summary>
/// <param name="EpsilonLowerBound">The largest bound over the guess counts; with probability ≥ <paramref name="Confidence"/>
/// it does not exceed the ε (at <paramref name="Delta"/>) of the training that produced the scores.</param>
/// <param name="Canaries">m.</param>
/// <param name="Guesses">The guesses of the guess count that gave the bound (the smallest one if none gave a positive bound).</param>
/// <param name="CorrectGuesses">How many of them were right.</param>
/// <param name="Delta">δ of the bound.</param>
/// <param name="Confidence">The confidence of <paramref name="EpsilonLowerBound"/> (the family's, after Bonferroni).</param>
/// <param name="CorrectedConfidence">The confidence at which each guess count was tested: 1 − (1 − Confidence)/count.</param>
/// <param name="MaxCertifiable">The largest bound these settings can give (every guess of the largest count right).</param>
/// <param name="Candidates">Every guess count tried, in the order given.</param>
public sealed record OneRunAuditResult(
    double EpsilonLowerBound,
    int Canaries,
    int Guesses,
    int CorrectGuesses,
    double Delta,
    double Confidence,
    double CorrectedConfidence,
    double MaxCertifiable,
    IReadOnlyList<OneRunGuessResult> Candidates);
