using DiffPriv.Accounting.Events;

namespace DiffPriv.Accounting.Calibration;

/// <summary>
/// Finds the hyperparameter that meets a privacy budget: the smallest noise multiplier σ whose ε is within a
/// target, or the largest number of steps. Answers never exceed the target ε.
/// </summary>
public static class NoiseCalibration
{
    /// <summary>
    /// The smallest σ whose run event <paramref name="makeEvent"/>(σ) has ε ≤ <paramref name="targetEpsilon"/> at
    /// <paramref name="targetDelta"/> by <paramref name="accountant"/>. With <see cref="AccountantKind.Pld"/> the search
    /// starts from the (cheap) RDP answer, which usually already meets the target, so only a few PLD evaluations are needed.
    /// </summary>
    /// <param name="makeEvent">The whole run as one event for a given σ.</param>
    /// <param name="targetEpsilon">ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <param name="accountant">Which accountant decides.</param>
    /// <returns>σ and the ε it achieves (≤ target).</returns>
    public static NoiseCalibrationResult CalibrateNoiseMultiplier(Func<double, DpEvent> makeEvent, double targetEpsilon, double targetDelta, AccountantKind accountant)
    {
        var rdp = CalibrateNoiseMultiplier(() => PrivacyAccountants.Create(AccountantKind.Rdp), makeEvent, targetEpsilon, targetDelta);
        return accountant == AccountantKind.Rdp
            ? rdp
            : CalibrateNoiseMultiplier(() => PrivacyAccountants.Create(accountant), makeEvent, targetEpsilon, targetDelta, initialGuess: rdp.NoiseMultiplier);
    }

    /// <summary>
    /// The smallest σ (to within <paramref name="relativeTolerance"/>) such that the accountant's ε for
    /// <c>makeEvent(σ)</c> at <paramref name="targetDelta"/> is at most <paramref name="targetEpsilon"/>.
    /// </summary>
    /// <param name="makeAccountant">Creates a fresh accountant (called once per evaluation).</param>
    /// <param name="makeEvent">The whole training run as one event for a given σ, e.g.
    /// <c>σ => new SelfComposedDpEvent(new PoissonSampledDpEvent(q, new GaussianDpEvent(σ)), steps)</c>.</param>
    /// <param name="targetEpsilon">The budget ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <param name="relativeTolerance">The search stops when the bracket [σ_lo, σ_hi] satisfies σ_hi − σ_lo ≤ tolerance·σ_hi; in (0, 0.1].</param>
    /// <param name="initialGuess">Where the bracket search starts (e.g. an RDP answer when calibrating with PLD); &gt; 0.</param>
    /// <returns>σ_hi, the upper end of the final bracket: ε(σ_hi) ≤ target &lt; ε(σ_lo).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    /// <exception cref="InvalidOperationException">No σ up to 1e6 meets the target (e.g. a non-private event).</exception>
    /// <remarks>
    /// Bracketing by doubling/halving from <paramref name="initialGuess"/>, then a safeguarded regula falsi
    /// (Illinois variant) on log σ, which keeps the bracket invariant at every step.
    /// </remarks>
    public static NoiseCalibrationResult CalibrateNoiseMultiplier(
        Func<PrivacyAccountant> makeAccountant,
        Func<double, DpEvent> makeEvent,
        double targetEpsilon,
        double targetDelta,
        double relativeTolerance = 1e-4,
        double initialGuess = 1.0)
    {
        ArgumentNullException.ThrowIfNull(makeAccountant);
        ArgumentNullException.ThrowIfNull(makeEvent);
        ValidateBudget(targetEpsilon, targetDelta);
        if (!(relativeTolerance > 0 && relativeTolerance <= 0.1))
        {
            throw new ArgumentOutOfRangeException(nameof(relativeTolerance), relativeTolerance, "Relative tolerance must be in (0, 0.1].");
        }

        if (!(initialGuess > 0 && double.IsFinite(initialGuess)))
        {
            throw new ArgumentOutOfRangeException(nameof(initialGuess), initialGuess, "Initial guess must be a finite number > 0.");
        }

        var evaluations = 0;
        double Epsilon(double sigma)
        {
            evaluations++;
            return makeAccountant().Compose(makeEvent(sigma)).GetEpsilon(targetDelta);
        }

        const double MaxSigma = 1e6;
        const double MinSigma = 1e-6;

        // 1. Bracket: hi meets the target, lo does not.
        double hi = initialGuess, epsHi = Epsilon(hi);
        double lo, epsLo;
        if (epsHi <= targetEpsilon)
        {
            lo = hi;
            epsLo = epsHi;
            while (epsLo <= targetEpsilon)
            {
                hi = lo;
                epsHi = epsLo;
                lo = hi / 2;
                if (lo < MinSigma)
                {
                    // Even (almost) no noise meets the budget.
                    return new NoiseCalibrationResult(hi, epsHi, evaluations);
                }

                epsLo = Epsilon(lo);
            }
        }
        else
        {
            lo = hi;
            epsLo = epsHi;
            while (epsHi > targetEpsilon)
            {
                lo = hi;
                epsLo = epsHi;
                hi = lo * 2;
                if (hi > MaxSigma)
                {
                    throw new InvalidOperationException(
                        $"No noise multiplier up to {MaxSigma:G} reaches ε ≤ {targetEpsilon} at δ = {targetDelta}; the mechanism may not be private.");
                }

                epsHi = Epsilon(hi);
            }
        }

        // 2. Shrink the bracket. Work on x = log σ and f = ε − target (f(lo) > 0 ≥ f(hi); ε may be +∞ at lo).
        double xLo = Math.Log(lo), xHi = Math.Log(hi);
        double fLo = epsLo - targetEpsilon, fHi = epsHi - targetEpsilon;
        var side = 0;
        while (hi - lo > relativeTolerance * hi)
        {
            double x;
            if (double.IsFinite(fLo) && fLo - fHi > 0)
            {
                x = xHi - (fHi * (xHi - xLo) / (fHi - fLo));
                // Keep the step well inside the bracket so it always shrinks.
                var margin = 0.05 * (xHi - xLo);
                x = Math.Clamp(x, xLo + margin, xHi - margin);
            }
            else
            {
                x = 0.5 * (xLo + xHi);
            }

            var sigma = Math.Exp(x);
            var eps = Epsilon(sigma);
            var f = eps - targetEpsilon;
            if (f <= 0)
            {
                xHi = x;
                hi = sigma;
                fHi = f;
                epsHi = eps;
                if (side == -1)
                {
                    fLo /= 2; // Illinois: damp the stale end.
                }

                side = -1;
            }
            else
            {
                xLo = x;
                lo = sigma;
                fLo = f;
                if (side == 1)
                {
                    fHi /= 2;
                }

                side = 1;
            }
        }

        return new NoiseCalibrationResult(hi, epsHi, evaluations);
    }

    /// <summary>
    /// The largest number of repetitions of <paramref name="stepEvent"/> whose composed ε at
    /// <paramref name="targetDelta"/> is at most <paramref name="targetEpsilon"/>.
    /// </summary>
    /// <param name="makeAccountant">Creates a fresh accountant.</param>
    /// <param name="stepEvent">One training step, e.g. <c>PoissonSampledDpEvent(q, GaussianDpEvent(σ))</c>.</param>
    /// <param name="targetEpsilon">The budget ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <param name="maxSteps">The largest answer considered; ≥ 1.</param>
    /// <returns>Steps in [0, <paramref name="maxSteps"/>]; 0 when even one step exceeds the budget.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public static long MaxStepsWithinBudget(
        Func<PrivacyAccountant> makeAccountant,
        DpEvent stepEvent,
        double targetEpsilon,
        double targetDelta,
        long maxSteps = 100_000_000)
    {
        ArgumentNullException.ThrowIfNull(makeAccountant);
        ArgumentNullException.ThrowIfNull(stepEvent);
        ValidateBudget(targetEpsilon, targetDelta);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);

        bool Fits(long steps) => makeAccountant().Compose(stepEvent, steps).GetEpsilon(targetDelta) <= targetEpsilon;

        if (!Fits(1))
        {
            return 0;
        }

        // Exponential search for a failing count, then binary search: Fits(lo) holds, Fits(hi) does not.
        long lo = 1, hi = 2;
        while (hi <= maxSteps && Fits(hi))
        {
            lo = hi;
            hi *= 2;
        }

        if (hi > maxSteps)
        {
            if (Fits(maxSteps))
            {
                return maxSteps;
            }

            hi = maxSteps;
        }

        while (hi - lo > 1)
        {
            var mid = lo + ((hi - lo) / 2);
            if (Fits(mid))
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

    private static void ValidateBudget(double targetEpsilon, double targetDelta)
    {
        if (!(targetEpsilon > 0 && double.IsFinite(targetEpsilon)))
        {
            throw new ArgumentOutOfRangeException(nameof(targetEpsilon), targetEpsilon, "Target epsilon must be a finite number > 0.");
        }

        if (!(targetDelta > 0 && targetDelta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(targetDelta), targetDelta, "Target delta must be in (0, 1).");
        }
    }
}
