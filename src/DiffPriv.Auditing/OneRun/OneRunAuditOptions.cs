namespace DiffPriv.Auditing.OneRun;

/// <summary>Settings of a one-run audit. Fix them before training: a choice tuned on the outcome voids the bound.</summary>
public sealed record OneRunAuditOptions
{
    private static readonly int[] DefaultDivisors = [100, 50, 20, 10, 5, 2, 1];

    /// <summary>δ of the hypothesis the audit tests, in [0, 1]. Default 1e-5; use the δ of the accountant's ε.</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>Confidence of the reported bound, in (0, 1). Default 0.95. With several guess counts each is tested at
    /// 1 − (1 − Confidence)/count (Bonferroni), so the largest of them holds at this confidence.</summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>
    /// The numbers k of guesses to try, each in [1, m], or null for <see cref="DefaultGuessCounts"/>. The bound is the
    /// largest over them, each computed at the Bonferroni-corrected confidence.
    /// </summary>
    public IReadOnlyList<int>? GuessCounts { get; init; }

    /// <summary>Which canaries the k guesses go to. Default <see cref="OneRunGuessing.TwoSided"/>.</summary>
    public OneRunGuessing Guessing { get; init; } = OneRunGuessing.TwoSided;

    /// <summary>The default guess counts for m canaries: m/100, m/50, m/20, m/10, m/5, m/2 and m (rounded, at least 1,
    /// without repeats): from a few very confident guesses, which suit a private model, to every canary, which suits a
    /// model that leaks.</summary>
    /// <param name="canaries">m ≥ 1.</param>
    /// <returns>The increasing guess counts.</returns>
    public static IReadOnlyList<int> DefaultGuessCounts(int canaries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(canaries, 1);
        return DefaultDivisors
            .Select(d => Math.Max(1, (int)Math.Round((double)canaries / d)))
            .Distinct()
            .ToList();
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    /// <param name="canaries">m, to check the guess counts against.</param>
    public void Validate(int canaries)
    {
        if (!(Delta >= 0 && Delta <= 1))
        {
            throw new ArgumentException($"Delta must be in [0, 1] (got {Delta}).");
        }

        if (!(Confidence > 0 && Confidence < 1))
        {
            throw new ArgumentException($"Confidence must be in (0, 1) (got {Confidence}).");
        }

        if (!Enum.IsDefined(Guessing))
        {
            throw new ArgumentException($"Guessing is not a defined OneRunGuessing ({Guessing}).");
        }

        if (GuessCounts is { } counts)
        {
            if (counts.Count == 0)
            {
                throw new ArgumentException("GuessCounts is empty: give at least one k, or leave it null for the default.");
            }

            if (counts.Any(k => k < 1 || k > canaries))
            {
                throw new ArgumentException($"Every guess count must be in [1, m = {canaries}] (got {string.Join(", ", counts)}).");
            }

            if (counts.Distinct().Count() != counts.Count)
            {
                throw new ArgumentException("GuessCounts names a count twice.");
            }
        }
    }
}
