using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>
/// Golden values for the PLD accountant. Sources: DPA = google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/ (stated values of
/// <c>pld/pld_privacy_accountant_test.py</c>; computed values of its PLDAccountant, <c>gaussian_mechanism.py</c> and
/// <c>pld/privacy_loss_distribution_basic_example.py</c>); TFP = tensorflow/privacy @
/// 03035d5d4a271ac795dab80f5bc1cef82fc3d462, <c>tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py</c>
/// and <c>compute_dp_sgd_privacy_lib.py</c> run with that DPA. The R7_n test names number the cases of
/// pld_privacy_accountant_test.py in the order they are ported.
/// </summary>
public sealed class PldAccountantTests
{
    private static Step Start(double interval = 1e-4) => new(new PldAccountant(interval));

    // Keeps the concrete type through chained composition (Compose returns the base class).
    private sealed record Step(PldAccountant Accountant)
    {
        public PldAccountant Then(DpEvent e, long count = 1)
        {
            Accountant.Compose(e, count);
            return Accountant;
        }
    }

    private static PldAccountant Compose(params (DpEvent Event, long Count)[] events)
    {
        var accountant = new PldAccountant();
        foreach (var (e, c) in events)
        {
            accountant.Compose(e, c);
        }

        return accountant;
    }

    // DPA pld_privacy_accountant_test.py test_gaussian_basic: √3 once then twice ≡ σ = 1; delta 1e-3.
    [Fact]
    public void R7_1_Gaussian()
    {
        var a = Compose((new GaussianDpEvent(Math.Sqrt(3)), 1), (new GaussianDpEvent(Math.Sqrt(3)), 2));
        Assert.Equal(0.126936, a.GetDelta(1.0), 1e-3);
        Assert.Equal(1.0, a.GetEpsilon(0.126936), 1e-3);
    }

    // DPA test_poisson_subsampled_gaussian: delta 1e-3.
    [Fact]
    public void R7_2_PoissonSubsampledGaussian()
    {
        var step = new PoissonSampledDpEvent(0.2, new GaussianDpEvent(0.5));
        foreach (var a in new[] { Compose((step, 1), (step, 2)), Compose((new SelfComposedDpEvent(step, 3), 1)) })
        {
            Assert.Equal(0.15594, a.GetDelta(1.0), 1e-3);
            Assert.Equal(1.0, a.GetEpsilon(0.15594), 1e-3);
        }
    }

    // DPA test_laplace: losses are bounded by 3·1 + 2·½ = 4, so δ(4) is only the truncated tail; delta 1e-6.
    [Fact]
    public void R7_3_Laplace()
    {
        var a = Compose((new LaplaceDpEvent(1), 3), (new LaplaceDpEvent(2), 2));
        Assert.Equal(1e-14, a.GetDelta(4.0), 1e-6);
        Assert.Equal(4.0, a.GetEpsilon(1e-14), 1e-6);
    }

    // DPA test_poisson_subsampled_laplace: δ(2.46964) ≈ 1e-14 (delta 1e-6), ε(1e-14) = 2.46964 (delta 1e-3).
    [Fact]
    public void R7_4_PoissonSubsampledLaplace()
    {
        var step = new PoissonSampledDpEvent(0.2, new LaplaceDpEvent(0.5));
        var a = Compose((step, 1), (step, 2));
        Assert.Equal(1e-14, a.GetDelta(2.46964), 1e-6);
        Assert.Equal(2.46964, a.GetEpsilon(1e-14), 1e-3);
    }

    public static TheoryData<DpEvent> NonPrivateEvents => new()
    {
        new GaussianDpEvent(0),
        new LaplaceDpEvent(0),
        new PoissonSampledDpEvent(0.1, new GaussianDpEvent(0)),
        new PoissonSampledDpEvent(0.1, new LaplaceDpEvent(0)),
        new NonPrivateDpEvent(),
    };

    // DPA test_non_private / zero noise: assertEqual.
    [Theory]
    [MemberData(nameof(NonPrivateEvents))]
    public void R7_13_ZeroNoiseIsNotPrivate(DpEvent e)
    {
        var a = Compose((e, 1));
        Assert.Equal(1.0, a.GetDelta(1.0));
        Assert.Equal(double.PositiveInfinity, a.GetEpsilon(0.01));
        Assert.Equal(new EpsilonInterval(double.PositiveInfinity, double.PositiveInfinity), a.GetEpsilonInterval(0.01));
    }

    // DPA, zero sampling probability: δ(0) = 0, ε(0) = 0.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void R7_14_ZeroSamplingCostsNothing(bool gaussian)
    {
        DpEvent inner = gaussian ? new GaussianDpEvent(1.0) : new LaplaceDpEvent(1.0);
        var a = Compose((new PoissonSampledDpEvent(0, inner), 3));
        Assert.Equal(0.0, a.GetDelta(0));
        Assert.Equal(0.0, a.GetEpsilon(0));
    }

    // DPA: count 0 or −1 is rejected.
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void R7_16_CountMustBePositive(long count)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Start().Then(new GaussianDpEvent(1), count));
    }

    [Fact]
    public void UnsupportedEventsAreRefused()
    {
        var a = new PldAccountant();
        Assert.False(a.Supports(new PoissonSampledDpEvent(0.1, new PoissonSampledDpEvent(0.5, new GaussianDpEvent(1)))));
        Assert.False(a.Supports(new ComposedDpEvent([new GaussianDpEvent(1), new SampledWithoutReplacementDpEvent(10, 1, new GaussianDpEvent(1))])));
        Assert.True(a.Supports(new ComposedDpEvent([new SelfComposedDpEvent(new PoissonSampledDpEvent(0.1, new LaplaceDpEvent(1)), 3), new NoOpDpEvent()])));
    }

    // Computed with DPA: PLDAccountant Gaussian(2.0) ε(1e-5) = 1.9930914079088082; gaussian_mechanism.py's exact
    // get_epsilon_gaussian(2.0, 1e-5) = 1.9930914044151176.
    [Fact]
    public void Gaussian2Epsilon()
    {
        var a = Compose((new GaussianDpEvent(2.0), 1));
        var interval = a.GetEpsilonInterval(1e-5);
        Assert.Equal(1.9930914079088082, interval.Upper, 1e-9 * 2);
        Assert.InRange(GaussianMechanism.GetEpsilon(2.0, 1e-5), interval.Lower, interval.Upper);
    }

    // Computed with DPA: privacy_loss_distribution_basic_example.py with interval 1e-3, here through the accountant
    // (which also composes with the identity PLD; that only truncates ≤ 1e-15 of tail mass).
    [Fact]
    public void BasicExampleLaplaceThenGaussian()
    {
        var a = Start(1e-3).Then(new LaplaceDpEvent(3), 40);
        Assert.Equal(1.7856053220202864e-06, a.GetDelta(10), 1e-6 * 1.7856053220202864e-06);
        a.Compose(new GaussianDpEvent(5));
        Assert.Equal(2.2397696464335686e-06, a.GetDelta(10), 1e-6 * 2.2397696464335686e-06);
        var interval = a.GetDeltaInterval(10);
        Assert.True(interval.Lower <= interval.Upper && interval.Lower > 0.9 * interval.Upper, interval.ToString());
    }

    // TFP compute_dp_sgd_privacy_test.py test_compute_dp_sgd_example_privacy, PLD rows (stated to places 7; the
    // full-precision values computed with _compute_dp_sgd_example_privacy): 1.2 epochs, σ 0.7 (halved with microbatching), δ 1e-5; with q the event is
    // SelfComposed(PoissonSampled(q, Gaussian), ceil(1.2/q)) = 120 steps, without q it is Gaussian ×ceil(1.2) = 2.
    [Theory]
    [InlineData(false, 0.01, 2.461238122698744)]
    [InlineData(true, 0.01, 18.697740739306447)]
    [InlineData(false, 0.0, 10.122494584709052)]
    [InlineData(true, 0.0, 24.71607786158376)]
    public void R2_2_DpSgdExamplePrivacy(bool microbatching, double q, double expected)
    {
        var sigma = microbatching ? 0.35 : 0.7;
        DpEvent e = q > 0
            ? new SelfComposedDpEvent(new PoissonSampledDpEvent(q, new GaussianDpEvent(sigma)), (long)Math.Ceiling(1.2 / q))
            : new SelfComposedDpEvent(new GaussianDpEvent(sigma), 2);
        var a = Start().Then(e);
        Assert.Equal(expected, a.GetEpsilon(1e-5), 5e-8);
    }

    // MNIST tutorial defaults, PLD 2.3817788079120428 (computed with DPA's PLDAccountant, interval 1e-4).
    [Fact]
    public void MnistTutorial()
    {
        const double expected = 2.3817788079120428;
        var a = Start().Then(new PoissonSampledDpEvent(256.0 / 60000, new GaussianDpEvent(1.1)), 14063);
        var interval = a.GetEpsilonInterval(1e-5);
        Assert.Equal(expected, a.GetEpsilon(1e-5), 1e-6 * expected);
        Assert.Equal(interval.Upper, a.GetEpsilon(1e-5));
        // dp_accounting's value is itself pessimistic; the lower end sits below it and close to it.
        Assert.InRange(interval.Lower, expected - 1e-3, expected);
    }

    // [Lower, Upper] brackets the exact ε (GaussianMechanism, the Balle–Wang oracle) and narrows with the interval.
    [Theory]
    [InlineData(0.5, 1e-3)]
    [InlineData(1.0, 1e-5)]
    [InlineData(3.0, 1e-2)]
    [InlineData(5.0, 1e-6)]
    public void IntervalBracketsExactGaussianEpsilon(double sigma, double delta)
    {
        var exact = GaussianMechanism.GetEpsilon(sigma, delta);
        var coarse = Start(1e-2).Then(new GaussianDpEvent(sigma)).GetEpsilonInterval(delta);
        var fine = Start(1e-4).Then(new GaussianDpEvent(sigma)).GetEpsilonInterval(delta);
        foreach (var i in new[] { coarse, fine })
        {
            Assert.True(i.Lower <= exact + 1e-12 && exact <= i.Upper + 1e-12, $"{i} does not bracket {exact}");
        }

        Assert.True(fine.Upper - fine.Lower < coarse.Upper - coarse.Lower, $"fine {fine} not narrower than coarse {coarse}");
        // gaussian_mechanism_test.py: PLD agrees with the exact value (rtol 1e-7 there at finer settings).
        Assert.Equal(exact, fine.Upper, 1e-4 * exact);
    }

    // Composition of Gaussians is a Gaussian: σ_total = σ/√k, so the bracket must contain the exact ε of that.
    [Fact]
    public void IntervalBracketsComposedGaussians()
    {
        var a = new PldAccountant();
        a.Compose(new SelfComposedDpEvent(new PoissonSampledDpEvent(1.0, new GaussianDpEvent(4.0)), 4));
        a.Compose(new GaussianDpEvent(4.0), 12);
        var exact = GaussianMechanism.GetEpsilon(1.0, 1e-5); // 4/√16 = 1
        var i = a.GetEpsilonInterval(1e-5);
        Assert.InRange(exact, i.Lower, i.Upper);
        var d = a.GetDeltaInterval(exact);
        Assert.InRange(GaussianMechanism.GetDelta(1.0, exact), d.Lower, d.Upper);
    }

    [Fact]
    public void IntervalNarrowsForSubsampledComposition()
    {
        var step = new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0));
        var coarse = Start(1e-3).Then(step, 500).GetEpsilonInterval(1e-5);
        var fine = Start(1e-4).Then(step, 500).GetEpsilonInterval(1e-5);
        Assert.True(fine.Upper - fine.Lower < coarse.Upper - coarse.Lower, $"{fine} vs {coarse}");
        // Nested: the finer interval lies within the coarser one (both bracket the same exact value).
        Assert.True(fine.Upper <= coarse.Upper + 1e-12 && fine.Lower >= coarse.Lower - 1e-12, $"{fine} vs {coarse}");
    }

    [Fact]
    public void InvalidDiscretizationIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PldAccountant(0.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PldAccountant(double.NaN));
    }
}
