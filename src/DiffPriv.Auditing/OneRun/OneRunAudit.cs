namespace DiffPriv.Auditing.OneRun;

/// <summary>
/// The one-run audit of Steinke, Nasr &amp; Jagielski (NeurIPS 2023) from canary scores: sort the canaries by score, guess
/// the most confident ones (<see cref="OneRunAuditOptions.Guessing"/>), count the right guesses and turn the count into
/// an ε lower bound (<see cref="OneRunEpsilon"/>).
/// </summary>
/// <remarks>
/// The bound is valid when (1) each canary was included independently with probability ½, (2) the scores were computed
/// from the trained model (or its updates) without looking at which canaries were included, and (3) the guess counts
/// were fixed before the scores were seen. Ties in score are broken by canary index, which does not depend on inclusion.
/// </remarks>
public static class OneRunAudit
{
    /// <summary>Runs the audit.</summary>
    /// <param name="scores">Per canary, higher means "more likely included"; finite.</param>
    /// <param name="included">Per canary, whether it was included (the secret coin flips); same length as the scores.</param>
    /// <param name="options">Settings, or null for the defaults.</param>
    /// <returns>The bound and the counts behind it.</returns>
    /// <exception cref="ArgumentException">The lists differ in length, are empty, a score is not finite, or an option is out of range.</exception>
    public static OneRunAuditResult Run(IReadOnlyList<double> scores, IReadOnlyList<bool> included, OneRunAuditOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(included);
        options ??= new OneRunAuditOptions();
        var m = scores.Count;
        if (m == 0 || included.Count != m)
        {
            throw new ArgumentException($"One score and one inclusion flag per canary are needed (got {m} scores and {included.Count} flags).", nameof(scores));
        }

        if (scores.Any(s => !double.IsFinite(s)))
        {
            throw new ArgumentException("Every canary score must be finite.", nameof(scores));
        }

        options.Validate(m);
        var counts = options.GuessCounts ?? OneRunAuditOptions.DefaultGuessCounts(m);
        var corrected = 1 - ((1 - options.Confidence) / counts.Count);

        // Highest score first; equal scores in index order.
        var order = Enumerable.Range(0, m).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        var candidates = new List<OneRunGuessResult>(counts.Count);
        foreach (var k in counts)
        {
            var (plus, minus) = options.Guessing == OneRunGuessing.TwoSided ? ((k + 1) / 2, k / 2) : (k, 0);
            var correct = 0;
            for (var i = 0; i < plus; i++)
            {
                correct += included[order[i]] ? 1 : 0;
            }

            for (var i = 0; i < minus; i++)
            {
                correct += included[order[m - 1 - i]] ? 0 : 1;
            }

            candidates.Add(new OneRunGuessResult(k, correct, OneRunEpsilon.LowerBound(m, k, correct, options.Delta, corrected)));
        }

        var best = candidates.MaxBy(c => c.EpsilonLowerBound)!;
        if (best.EpsilonLowerBound == 0)
        {
            best = candidates.MinBy(c => c.Guesses)!;
        }

        var largest = counts.Max();
        return new OneRunAuditResult(
            best.EpsilonLowerBound,
            m,
            best.Guesses,
            best.CorrectGuesses,
            options.Delta,
            options.Confidence,
            corrected,
            OneRunEpsilon.LowerBound(m, largest, largest, options.Delta, corrected),
            candidates);
    }
}
