using DiffPriv.Accounting.Calibration;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting.Tests.Calibration;

public sealed class NoiseCalibrationTests
{
    private static DpEvent DpSgdRun(double q, long steps, double sigma) => DpSgdCalibration.RunEvent(q, sigma, steps);

    public static TheoryData<double, double, long, double> Budgets() => new()
    {
        // target ε, q, steps, δ
        { 3.0, 256.0 / 60000, 14063, 1e-5 },
        { 1.0, 0.01, 1000, 1e-5 },
        { 8.0, 0.05, 500, 1e-6 },
        { 0.5, 0.001, 10000, 1e-5 },
        { 20.0, 1.0, 1, 1e-5 },
    };

    [Theory]
    [MemberData(nameof(Budgets))]
    public void RdpCalibratedSigmaMeetsTheTargetAndOnePercentLessDoesNot(double target, double q, long steps, double delta)
    {
        var result = NoiseCalibration.CalibrateNoiseMultiplier(() => new RdpAccountant(), s => DpSgdRun(q, steps, s), target, delta);
        double Eps(double s) => new RdpAccountant().Compose(DpSgdRun(q, steps, s)).GetEpsilon(delta);
        Assert.True(Eps(result.NoiseMultiplier) <= target, $"ε(σ={result.NoiseMultiplier}) = {Eps(result.NoiseMultiplier)} > {target}");
        Assert.Equal(Eps(result.NoiseMultiplier), result.Epsilon);
        Assert.True(Eps(0.99 * result.NoiseMultiplier) > target);
        // The bracket is tight: within the default relative tolerance 1e-4.
        Assert.True(Eps(result.NoiseMultiplier * (1 - 2e-4)) > target);
    }

    [Theory]
    [InlineData(3.0, 256.0 / 60000, 14063, 1e-5)]
    [InlineData(1.0, 0.01, 1000, 1e-5)]
    public void PldCalibratedSigmaMeetsTheTargetAndOnePercentLessDoesNot(double target, double q, long steps, double delta)
    {
        var result = NoiseCalibration.CalibrateNoiseMultiplier(() => new PldAccountant(), s => DpSgdRun(q, steps, s), target, delta, initialGuess: 1.0);
        double Eps(double s) => new PldAccountant().Compose(DpSgdRun(q, steps, s)).GetEpsilon(delta);
        Assert.True(Eps(result.NoiseMultiplier) <= target);
        Assert.True(Eps(0.99 * result.NoiseMultiplier) > target);
    }

    [Fact]
    public void MatchesTfPrivacyComputeNoiseForTheMnistTutorial()
    {
        // compute_noise(60000, 256, 2.92, 60, 1e-5, 1e-6) = 1.0304699439 (computed: tensorflow/privacy @
        // 03035d5d4a271ac795dab80f5bc1cef82fc3d462, tensorflow_privacy/privacy/analysis/compute_noise_from_budget_lib.py,
        // with dp_accounting from google/differential-privacy @ b5b0286e313b64a692abfc8c528d54ef47d960a0; the docstring's
        // historical 1.12 came from an older accountant): RDP with the orders of compute_dp_sgd_privacy,
        // calibrate_dp_mechanism returning the upper end of its final bracket.
        var result = NoiseCalibration.CalibrateNoiseMultiplier(
            () => new RdpAccountant(Rdp.RdpTestHelpers.TfPrivacyOrders), s => DpSgdRun(256.0 / 60000, 14063, s), 2.92, 1e-5, relativeTolerance: 1e-7);
        Assert.Equal(1.0304699439, result.NoiseMultiplier, 1e-6);
    }

    [Fact]
    public void MatchesTfPrivacyMultinomialLogisticCalibration()
    {
        // compute_dpsgd_noise_multiplier(num_train=5000, ε=10, δ=1e-5, epochs=40, batch=10, tol=1e-3) = 0.54329054935041
        // (computed: tensorflow/privacy @ 03035d5d…, tensorflow_privacy/privacy/logistic_regression/multinomial_logistic.py,
        // that function alone, with dp_accounting @ b5b0286e…): RDP with the orders of compute_dp_sgd_privacy, bisection
        // to an absolute bracket of 1e-3, returning the upper end. Ours narrows further (relative 1e-4), so it lies in
        // [upstream − 1e-3, upstream].
        var steps = (long)Math.Ceiling(40 * 5000 / 10.0);
        var result = NoiseCalibration.CalibrateNoiseMultiplier(
            () => new RdpAccountant(Rdp.RdpTestHelpers.TfPrivacyOrders), s => DpSgdRun(10.0 / 5000, steps, s), 10.0, 1e-5);
        Assert.InRange(result.NoiseMultiplier, 0.54329054935041 - 1e-3, 0.54329054935041 + 1e-9);
    }

    [Fact]
    public void MaxStepsIsTheLargestCountWithinBudget()
    {
        var step = new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0));
        var steps = NoiseCalibration.MaxStepsWithinBudget(() => new RdpAccountant(), step, 2.0, 1e-5);
        Assert.True(steps > 0);
        Assert.True(new RdpAccountant().Compose(step, steps).GetEpsilon(1e-5) <= 2.0);
        Assert.True(new RdpAccountant().Compose(step, steps + 1).GetEpsilon(1e-5) > 2.0);
    }

    [Fact]
    public void MaxStepsIsZeroWhenOneStepIsTooMuch()
    {
        var step = new GaussianDpEvent(0.5);
        Assert.Equal(0, NoiseCalibration.MaxStepsWithinBudget(() => new RdpAccountant(), step, 0.1, 1e-5));
    }

    [Fact]
    public void NonPrivateMechanismCannotBeCalibrated()
    {
        Assert.Throws<InvalidOperationException>(() =>
            NoiseCalibration.CalibrateNoiseMultiplier(() => new RdpAccountant(), _ => new NonPrivateDpEvent(), 1.0, 1e-5));
    }

    [Theory]
    [InlineData(0.0, 1e-5)]
    [InlineData(-1.0, 1e-5)]
    [InlineData(double.NaN, 1e-5)]
    [InlineData(1.0, 0.0)]
    [InlineData(1.0, 1.0)]
    public void InvalidBudgetIsRejected(double epsilon, double delta)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            NoiseCalibration.CalibrateNoiseMultiplier(() => new RdpAccountant(), s => new GaussianDpEvent(s), epsilon, delta));
    }
}
