using DiffPriv.Accounting.Calibration;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace DiffPriv.Accounting.Tests;

/// <summary>
/// Properties every DP-SGD accountant must have, checked on random settings (FsCheck): ε does not decrease with more
/// steps or a larger sampling rate, does not increase with more noise, and a calibrated σ meets its budget tightly.
/// A failing case is printed with its parameters and FsCheck's seed (replay it with <c>[Property(Replay = "…")]</c>).
/// </summary>
public sealed class AccountingProperties
{
    /// <summary>One DP-SGD run: Poisson sampling rate, noise multiplier, number of steps, and the δ asked about.</summary>
    public sealed record Run(double Q, double Sigma, long Steps, double Delta)
    {
        public DpEvent Event => DpSgdCalibration.RunEvent(Q, Sigma, Steps);

        public Run WithSteps(long steps) => this with { Steps = steps };

        public Run WithQ(double q) => this with { Q = q };

        public Run WithSigma(double sigma) => this with { Sigma = sigma };
    }

    private static readonly double[] IntegerOrders = [.. Enumerable.Range(2, 63).Select(i => (double)i), 128, 256, 512, 1024];

    private static readonly Gen<double> Deltas = Gen.Elements(1e-3, 1e-5, 1e-7, 1e-9);

    // RDP is cheap: wide ranges, many cases. q ∈ [0.001, 1], σ ∈ [0.3, 5], 1 … 20 000 steps.
    private static readonly Gen<Run> RdpRuns =
        from q in Gen.Choose(1, 1000)
        from sigma in Gen.Choose(30, 500)
        from steps in Gen.Choose(1, 20_000)
        from delta in Deltas
        select new Run(q / 1000.0, sigma / 100.0, steps, delta);

    // PLD composes discretised distributions by FFT: keep the supports small enough for a quick test.
    // q ∈ [0.005, 0.2], σ ∈ [0.6, 3], 1 … 400 steps.
    private static readonly Gen<Run> PldRuns =
        from q in Gen.Choose(5, 200)
        from sigma in Gen.Choose(60, 300)
        from steps in Gen.Choose(1, 400)
        from delta in Deltas
        select new Run(q / 1000.0, sigma / 100.0, steps, delta);

    private static double RdpEpsilon(Run r) => new RdpAccountant().Compose(r.Event).GetEpsilon(r.Delta);

    private static double IntegerOrderRdpEpsilon(Run r) => new RdpAccountant(IntegerOrders).Compose(r.Event).GetEpsilon(r.Delta);

    private static double PldEpsilon(Run r) => new PldAccountant().Compose(r.Event).GetEpsilon(r.Delta);

    private static EpsilonInterval PldInterval(Run r)
    {
        var accountant = new PldAccountant();
        accountant.Compose(r.Event);
        return accountant.GetEpsilonInterval(r.Delta);
    }

    // a ≤ b up to rounding in the last bits (both may be +∞).
    private static bool NotAbove(double a, double b) => a <= b || a - b <= 1e-12 * Math.Abs(b);

    private static Arbitrary<(Run Run, long Other)> WithOtherSteps(Gen<Run> runs, int maxSteps) =>
        runs.SelectMany(_ => Gen.Choose(1, maxSteps), (r, s) => (r, (long)s)).ToArbitrary();

    // With every order, fractional ones included: RDP composes linearly, and which orders are dropped as not
    // convergent does not depend on the number of steps.
    [Property(MaxTest = 200)]
    public Property RdpEpsilonDoesNotDecreaseWithSteps() =>
        Prop.ForAll(WithOtherSteps(RdpRuns, 20_000), c =>
        {
            var (fewer, more) = (c.Run.WithSteps(Math.Min(c.Run.Steps, c.Other)), c.Run.WithSteps(Math.Max(c.Run.Steps, c.Other)));
            var (a, b) = (RdpEpsilon(fewer), RdpEpsilon(more));
            Assert.True(NotAbove(a, b), $"ε({fewer}) = {a:R} > ε({more}) = {b:R}");
        });

    // ε as a function of q or σ is checked with integer orders, where the sampled-Gaussian RDP is an exact binomial
    // sum, increasing in q and decreasing in σ. With the default (fractional) orders it need not be monotone: where
    // the fractional-order series of dp_accounting's _compute_log_a_frac does not converge, that order is dropped as
    // +∞, and the set of dropped orders can shrink as q grows or σ falls. Examples, here and in dp_accounting at
    // b5b0286e313b64a692abfc8c528d54ef47d960a0 alike: σ 1.6, 16 620 steps, δ 1e-7 gives ε 3482.93 at q 0.821 (orders
    // 1.1 … 1.4 dropped) but 2928.58 at q 0.87 (none dropped); q 0.317, 421 steps, δ 1e-3 gives ε 1405.35 at σ 0.34
    // (1.1 … 1.4 dropped) but 1400.68 at σ 0.32 (1.1 … 1.3 dropped). Only runs whose ε is in the hundreds or more have
    // their optimum among those small orders.
    [Property(MaxTest = 200)]
    public Property RdpEpsilonDoesNotDecreaseWithSamplingRate() =>
        Prop.ForAll(RdpRuns.SelectMany(_ => Gen.Choose(1, 1000), (r, q) => (Run: r, Other: q / 1000.0)).ToArbitrary(), c =>
        {
            var (lower, higher) = (c.Run.WithQ(Math.Min(c.Run.Q, c.Other)), c.Run.WithQ(Math.Max(c.Run.Q, c.Other)));
            var (a, b) = (IntegerOrderRdpEpsilon(lower), IntegerOrderRdpEpsilon(higher));
            Assert.True(NotAbove(a, b), $"ε({lower}) = {a:R} > ε({higher}) = {b:R}");
        });

    [Property(MaxTest = 200)]
    public Property RdpEpsilonDoesNotIncreaseWithNoise() =>
        Prop.ForAll(RdpRuns.SelectMany(_ => Gen.Choose(30, 500), (r, s) => (Run: r, Other: s / 100.0)).ToArbitrary(), c =>
        {
            var (less, more) = (c.Run.WithSigma(Math.Min(c.Run.Sigma, c.Other)), c.Run.WithSigma(Math.Max(c.Run.Sigma, c.Other)));
            var (a, b) = (IntegerOrderRdpEpsilon(less), IntegerOrderRdpEpsilon(more));
            Assert.True(NotAbove(b, a), $"ε({more}) = {b:R} > ε({less}) = {a:R}");
        });

    // Composing one more mechanism can only add privacy loss; for PLD this holds exactly for the pessimistic
    // estimate too (the extra factor is itself a valid privacy-loss distribution), up to FFT rounding.
    [Property(MaxTest = 25)]
    public Property PldEpsilonDoesNotDecreaseWithSteps() =>
        Prop.ForAll(WithOtherSteps(PldRuns, 400), c =>
        {
            var (fewer, more) = (c.Run.WithSteps(Math.Min(c.Run.Steps, c.Other)), c.Run.WithSteps(Math.Max(c.Run.Steps, c.Other)));
            var (a, b) = (PldEpsilon(fewer), PldEpsilon(more));
            Assert.True(a <= b + (1e-9 * b), $"ε({fewer}) = {a:R} > ε({more}) = {b:R}");
        });

    // Between two different mechanisms the discretisations differ, so compare what is proven: the true ε of the
    // more private run is at least its lower end and at most the true ε of the less private one, which is at most
    // that one's upper end. Reversing the dependence on q or σ breaks this as soon as ε moves by more than the
    // width of a bracket (about 1e-3 here).
    [Property(MaxTest = 25)]
    public Property PldEpsilonDoesNotDecreaseWithSamplingRate() =>
        Prop.ForAll(PldRuns.SelectMany(_ => Gen.Choose(5, 200), (r, q) => (Run: r, Other: q / 1000.0)).ToArbitrary(), c =>
        {
            var (lower, higher) = (c.Run.WithQ(Math.Min(c.Run.Q, c.Other)), c.Run.WithQ(Math.Max(c.Run.Q, c.Other)));
            var (a, b) = (PldInterval(lower), PldInterval(higher));
            Assert.True(a.Lower <= b.Upper, $"ε({lower}) ∈ {a} lies above ε({higher}) ∈ {b}");
        });

    [Property(MaxTest = 25)]
    public Property PldEpsilonDoesNotIncreaseWithNoise() =>
        Prop.ForAll(PldRuns.SelectMany(_ => Gen.Choose(60, 300), (r, s) => (Run: r, Other: s / 100.0)).ToArbitrary(), c =>
        {
            var (less, more) = (c.Run.WithSigma(Math.Min(c.Run.Sigma, c.Other)), c.Run.WithSigma(Math.Max(c.Run.Sigma, c.Other)));
            var (a, b) = (PldInterval(less), PldInterval(more));
            Assert.True(b.Lower <= a.Upper, $"ε({more}) ∈ {b} lies above ε({less}) ∈ {a}");
        });

    // The calibrated σ meets the budget, and 2·(relative tolerance) less noise does not: the answer is neither
    // over the budget nor needlessly noisy. Targets ε ∈ [0.5, 10], δ ∈ {1e-5, 1e-6}.
    [Property(MaxTest = 40)]
    public Property RdpCalibratedNoiseMeetsTheTargetTightly()
    {
        var budgets =
            from q in Gen.Choose(1, 100)
            from steps in Gen.Choose(1, 10_000)
            from target in Gen.Choose(5, 100)
            from delta in Gen.Elements(1e-5, 1e-6)
            select (Q: q / 1000.0, Steps: (long)steps, Target: target / 10.0, Delta: delta);
        return Prop.ForAll(budgets.ToArbitrary(), b =>
        {
            var result = NoiseCalibration.CalibrateNoiseMultiplier(
                () => new RdpAccountant(), s => DpSgdCalibration.RunEvent(b.Q, s, b.Steps), b.Target, b.Delta);
            double Eps(double s) => RdpEpsilon(new Run(b.Q, s, b.Steps, b.Delta));
            var sigma = result.NoiseMultiplier;
            Assert.True(Eps(sigma) <= b.Target, $"{b}: ε(σ = {sigma:R}) = {Eps(sigma):R} exceeds the target");
            Assert.Equal(Eps(sigma), result.Epsilon);
            Assert.True(Eps(sigma * (1 - 2e-4)) > b.Target, $"{b}: σ = {sigma:R} is not tight, ε(σ·(1 − 2e-4)) = {Eps(sigma * (1 - 2e-4)):R}");
        });
    }
}
