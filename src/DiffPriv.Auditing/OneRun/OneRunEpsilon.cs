using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.OneRun;

/// <summary>
/// The statistics of a one-run audit (Steinke, Nasr &amp; Jagielski, "Privacy Auditing with One (1) Training Run",
/// NeurIPS 2023): m canaries are each included independently with probability ½, the auditor guesses the membership of r
/// of them (abstaining on the rest) and v guesses are right. If training is (ε, δ)-DP, v is stochastically dominated by
/// Binomial(r, e^ε/(1 + e^ε)) up to a δ term (the paper's Theorem 3.3), so a large v rules out small ε.
/// </summary>
public static class OneRunEpsilon
{
    /// <summary>
    /// The p-value of v or more correct guesses under the hypothesis that training is (ε, δ)-DP: the paper's bound
    /// P[W ≥ v] ≤ β + α·2m·δ with q = e^ε/(1 + e^ε), β = P[Binomial(r, q) ≥ v] and
    /// α = max over i = 1 … v of P[v − i ≤ Binomial(r, q) &lt; v]/i (the paper's appendix algorithm; capped at 1).
    /// </summary>
    /// <param name="canaries">m ≥ 1, the canaries, each included independently with probability ½.</param>
    /// <param name="guesses">r ∈ [0, m], the guesses made (abstentions excluded).</param>
    /// <param name="correctGuesses">v ∈ [0, r].</param>
    /// <param name="epsilon">ε ≥ 0 of the hypothesis.</param>
    /// <param name="delta">δ ∈ [0, 1] of the hypothesis.</param>
    /// <returns>The p-value in [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count or parameter is out of range.</exception>
    public static double PValue(int canaries, int guesses, int correctGuesses, double epsilon, double delta)
    {
        Check(canaries, guesses, correctGuesses, delta);
        if (!(epsilon >= 0) || double.IsNaN(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be ≥ 0.");
        }

        return PValueCore(canaries, guesses, correctGuesses, epsilon, delta);
    }

    /// <summary>
    /// The largest ε whose (ε, δ)-DP hypothesis the guesses reject at the given confidence: a bisection on ε for
    /// <see cref="PValue"/> = 1 − <paramref name="confidence"/>, as in the paper's appendix (the end at which the p-value
    /// is still below the level is returned, so the bound never overshoots).
    /// </summary>
    /// <param name="canaries">m ≥ 1.</param>
    /// <param name="guesses">r ∈ [0, m].</param>
    /// <param name="correctGuesses">v ∈ [0, r].</param>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <param name="confidence">In (0, 1), e.g. 0.95.</param>
    /// <returns>The ε lower bound, ≥ 0 (0: the guesses reject no ε).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count or parameter is out of range.</exception>
    public static double LowerBound(int canaries, int guesses, int correctGuesses, double delta, double confidence)
    {
        Check(canaries, guesses, correctGuesses, delta);
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "The confidence must be in (0, 1).");
        }

        var level = 1 - confidence;
        if (guesses == 0 || PValueCore(canaries, guesses, correctGuesses, 0, delta) > level)
        {
            return 0;
        }

        // Invariant: p(lo) ≤ level < p(hi).
        double lo = 0, hi = 1;
        while (PValueCore(canaries, guesses, correctGuesses, hi, delta) <= level)
        {
            lo = hi;
            hi *= 2;
            if (hi > 1e4)
            {
                return double.PositiveInfinity; // unreachable for finite counts; guards the loop
            }
        }

        for (var i = 0; i < 100 && hi - lo > 1e-12 * Math.Max(1, hi); i++)
        {
            var mid = 0.5 * (lo + hi);
            if (PValueCore(canaries, guesses, correctGuesses, mid, delta) <= level)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// The largest bound an audit with <paramref name="canaries"/> canaries can certify: every canary guessed, every guess
    /// right. No training run, however leaky, gives more; with m = 1000, δ = 1e-5 and 95% confidence it is about 5.8.
    /// </summary>
    /// <param name="canaries">m ≥ 1.</param>
    /// <param name="delta">δ ∈ [0, 1].</param>
    /// <param name="confidence">In (0, 1).</param>
    /// <returns>The bound for m guesses all correct.</returns>
    public static double MaxCertifiable(int canaries, double delta, double confidence) =>
        LowerBound(canaries, canaries, canaries, delta, confidence);

    private static void Check(int canaries, int guesses, int correctGuesses, double delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(canaries, 1);
        if (guesses < 0 || guesses > canaries)
        {
            throw new ArgumentOutOfRangeException(nameof(guesses), guesses, $"The guesses must be in [0, m = {canaries}].");
        }

        if (correctGuesses < 0 || correctGuesses > guesses)
        {
            throw new ArgumentOutOfRangeException(nameof(correctGuesses), correctGuesses, $"The correct guesses must be in [0, r = {guesses}].");
        }

        if (!(delta >= 0 && delta <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in [0, 1].");
        }
    }

    private static double PValueCore(int m, int r, int v, double epsilon, double delta)
    {
        if (v == 0)
        {
            return 1;
        }

        // q = e^ε/(1 + e^ε), the accuracy of ε-DP randomized response; ln q and ln(1 − q) without cancellation.
        var logQ = -SpecialFunctions.Log1p(Math.Exp(-epsilon));
        var logNotQ = -epsilon + logQ;
        var q = Math.Exp(logQ);

        // β = P[Binomial(r, q) ≥ v] = I_q(v, r − v + 1).
        var beta = SpecialFunctions.RegularizedIncompleteBeta(q, v, r - v + 1).Value;
        if (delta == 0)
        {
            return Math.Min(beta, 1);
        }

        // α = max_i P[v − i ≤ Binomial(r, q) < v]/i, the running sum taken from pmf(v − 1) down to pmf(0).
        var logFactR = SpecialFunctions.LogGamma(r + 1.0);
        double alpha = 0, sum = 0;
        for (var i = 1; i <= v; i++)
        {
            var j = v - i;
            sum += Math.Exp(logFactR - SpecialFunctions.LogGamma(j + 1.0) - SpecialFunctions.LogGamma(r - j + 1.0) + (j * logQ) + ((r - j) * logNotQ));
            alpha = Math.Max(alpha, sum / i);
        }

        return Math.Min(beta + (alpha * delta * 2 * m), 1);
    }
}
