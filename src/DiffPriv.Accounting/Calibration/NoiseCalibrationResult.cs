namespace DiffPriv.Accounting.Calibration;

/// <summary>The outcome of a noise calibration (<see cref="NoiseCalibration"/>).</summary>
/// <param name="NoiseMultiplier">The calibrated σ: its ε is at most the target.</param>
/// <param name="Epsilon">The ε the accountant reports at <paramref name="NoiseMultiplier"/> (≤ the target).</param>
/// <param name="Evaluations">How many times the accountant was evaluated.</param>
public sealed record NoiseCalibrationResult(double NoiseMultiplier, double Epsilon, int Evaluations);
