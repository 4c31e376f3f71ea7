namespace DiffPriv.Auditing.MembershipInference;

/// <summary>
/// Exact (Clopper–Pearson, 1934) confidence intervals for a binomial proportion: the interval R's
/// <c>binom.test(k, n, conf.level = c)$conf.int</c> and statsmodels' <c>proportion_confint(k, n, 1 − c, method="beta")</c>
/// return. Its coverage is at least the nominal level for every true proportion.
/// </summary>
public static class ClopperPearson
{
    /// <summary>
    /// The two-sided interval [Beta⁻¹(α/2; k, n − k + 1), Beta⁻¹(1 − α/2; k + 1, n − k)] with α = 1 − confidence; the
    /// lower end is 0 when k = 0 and the upper end is 1 when k = n. Each end alone is a one-sided bound at confidence
    /// 1 − α/2.
    /// </summary>
    /// <param name="successes">k, 0 ≤ k ≤ n.</param>
    /// <param name="trials">n ≥ 1.</param>
    /// <param name="confidence">Two-sided confidence level in (0, 1), e.g. 0.95.</param>
    /// <returns>The interval (Lower, Upper) ⊆ [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 1, k outside [0, n], or the confidence outside (0, 1).</exception>
    public static (double Lower, double Upper) Interval(long successes, long trials, double confidence = 0.95)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);
        if (successes < 0 || successes > trials)
        {
            throw new ArgumentOutOfRangeException(nameof(successes), successes, $"successes must be in [0, {trials}].");
        }

        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be in (0, 1).");
        }

        var alpha = 1 - confidence;
        var lower = successes == 0
            ? 0
            : SpecialFunctions.InverseRegularizedIncompleteBeta(alpha / 2, successes, trials - successes + 1);
        var upper = successes == trials
            ? 1
            : SpecialFunctions.InverseRegularizedIncompleteBetaComplement(alpha / 2, successes + 1, trials - successes);
        return (lower, upper);
    }

    /// <summary>The upper end of <see cref="Interval"/> alone (1 when k = n).</summary>
    /// <param name="successes">k, 0 ≤ k ≤ n.</param>
    /// <param name="trials">n ≥ 1.</param>
    /// <param name="confidence">The two-sided confidence level of the interval whose upper end this is, in (0, 1).</param>
    /// <returns>The upper bound in (0, 1].</returns>
    public static double Upper(long successes, long trials, double confidence = 0.95)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);
        if (successes < 0 || successes > trials)
        {
            throw new ArgumentOutOfRangeException(nameof(successes), successes, $"successes must be in [0, {trials}].");
        }

        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be in (0, 1).");
        }

        return successes == trials
            ? 1
            : SpecialFunctions.InverseRegularizedIncompleteBetaComplement((1 - confidence) / 2, successes + 1, trials - successes);
    }
}
