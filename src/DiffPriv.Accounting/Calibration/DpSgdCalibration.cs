using DiffPriv.Accounting.Events;

namespace DiffPriv.Accounting.Calibration;

/// <summary>Calibration for the common case: DP-SGD with Poisson sampling.</summary>
public static class DpSgdCalibration
{
    /// <summary>The whole run as one event: <paramref name="steps"/> × PoissonSampled(q, Gaussian(σ)).</summary>
    /// <param name="samplingProbability">q ∈ [0, 1].</param>
    /// <param name="noiseMultiplier">σ ≥ 0.</param>
    /// <param name="steps">≥ 0.</param>
    /// <returns>The event (a no-op for zero steps).</returns>
    public static DpEvent RunEvent(double samplingProbability, double noiseMultiplier, long steps) =>
        steps == 0
            ? new NoOpDpEvent()
            : new SelfComposedDpEvent(new PoissonSampledDpEvent(samplingProbability, new GaussianDpEvent(noiseMultiplier)), steps);

    /// <summary>
    /// The smallest noise multiplier whose ε for <paramref name="steps"/> Poisson-sampled Gaussian steps is at most
    /// <paramref name="targetEpsilon"/>. With <see cref="AccountantKind.Pld"/> the search starts from the (cheap) RDP
    /// answer, which usually already meets the target, so only a few PLD evaluations are needed.
    /// </summary>
    /// <param name="samplingProbability">q ∈ (0, 1].</param>
    /// <param name="steps">≥ 1.</param>
    /// <param name="targetEpsilon">ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <param name="accountant">Which accountant decides.</param>
    /// <returns>σ and the ε it achieves (≤ target).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public static NoiseCalibrationResult NoiseMultiplier(
        double samplingProbability, long steps, double targetEpsilon, double targetDelta, AccountantKind accountant = AccountantKind.Pld)
    {
        if (!(samplingProbability > 0 && samplingProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingProbability), samplingProbability, "Sampling probability must be in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return NoiseCalibration.CalibrateNoiseMultiplier(sigma => RunEvent(samplingProbability, sigma, steps), targetEpsilon, targetDelta, accountant);
    }
}
