using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Tests.Events;

namespace DiffPriv.Accounting.Tests;

/// <summary>
/// Behaviour every <see cref="PrivacyAccountant"/> must show, whatever its method. Each accountant's test class
/// inherits these tests by deriving from this class and saying how to create a fresh accountant.
/// </summary>
public abstract class PrivacyAccountantContractTests
{
    /// <summary>A fresh accountant under add/remove-one adjacency.</summary>
    protected abstract PrivacyAccountant Create();

    /// <summary>A fresh accountant under <paramref name="relation"/>, or null if this accountant does not offer it.</summary>
    /// <param name="relation">The neighbouring relation.</param>
    protected virtual PrivacyAccountant? Create(NeighboringRelation relation) =>
        relation == NeighboringRelation.AddOrRemoveOne ? Create() : null;

    /// <summary>An event this accountant cannot analyse under add/remove-one adjacency (sampling without replacement is a replace-one analysis).</summary>
    protected virtual DpEvent UnsupportedEvent => new SampledWithoutReplacementDpEvent(1000, 10, new GaussianDpEvent(1.0));

    /// <summary>How far apart two answers for the same composition may be (PLD discretisation is not bit-exact across orderings).</summary>
    protected virtual double CompositionTolerance => 1e-9;

    // Exact ε of the Gaussian mechanism with σ = 1 at δ = 1e-5 (Balle & Wang 2018), as dp_accounting's
    // gaussian_mechanism computes it (google/differential-privacy @ b5b0286e313b64a692abfc8c528d54ef47d960a0,
    // python/dp_accounting/dp_accounting/gaussian_mechanism.py, get_epsilon_gaussian(1, 1e-5)).
    private const double ExactGaussianEpsilonSigma1Delta1e5 = 4.377178095681133;

    [Fact]
    public void FreshAccountantSpendsNothing()
    {
        var accountant = Create();
        Assert.Equal(0.0, accountant.GetEpsilon(1e-5));
        Assert.Equal(0.0, accountant.GetDelta(0.5));
    }

    [Fact]
    public void NoOpCostsNothing()
    {
        var accountant = Create().Compose(new NoOpDpEvent(), 10);
        Assert.Equal(0.0, accountant.GetEpsilon(1e-5));
        Assert.Equal(0.0, accountant.GetDelta(0.0));
    }

    [Fact]
    public void NonPrivateEventMeansInfiniteEpsilon()
    {
        var accountant = Create().Compose(new GaussianDpEvent(1.0)).Compose(new NonPrivateDpEvent());
        Assert.Equal(double.PositiveInfinity, accountant.GetEpsilon(1e-5));
        Assert.Equal(1.0, accountant.GetDelta(10.0));
    }

    [Fact]
    public void ZeroNoiseMeansInfiniteEpsilon()
    {
        var accountant = Create().Compose(new GaussianDpEvent(0.0));
        Assert.Equal(double.PositiveInfinity, accountant.GetEpsilon(0.01));
    }

    [Fact]
    public void ZeroSamplingProbabilityCostsNothing()
    {
        var accountant = Create().Compose(new PoissonSampledDpEvent(0.0, new GaussianDpEvent(1.0)), 100);
        Assert.Equal(0.0, accountant.GetEpsilon(1e-5), 12);
    }

    [Fact]
    public void CountMustBePositive()
    {
        var accountant = Create();
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Compose(new GaussianDpEvent(1.0), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.Compose(new GaussianDpEvent(1.0), -1));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void InvalidDeltaIsRejected(double delta)
    {
        var accountant = Create().Compose(new GaussianDpEvent(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.GetEpsilon(delta));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void InvalidEpsilonIsRejected(double epsilon)
    {
        var accountant = Create().Compose(new GaussianDpEvent(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => accountant.GetDelta(epsilon));
    }

    [Fact]
    public void UnsupportedEventIsRefusedNotIgnored()
    {
        var accountant = Create();
        var unsupported = UnsupportedEvent;
        Assert.False(accountant.Supports(unsupported));
        Assert.Throws<UnsupportedDpEventException>(() => accountant.Compose(unsupported));
        Assert.Equal(0.0, accountant.GetEpsilon(1e-5));
    }

    [Fact]
    public void AllFormsOfTheSameCompositionAgree()
    {
        var step = new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0));
        double Eps(Action<PrivacyAccountant> compose)
        {
            var a = Create();
            compose(a);
            return a.GetEpsilon(1e-5);
        }

        var byCount = Eps(a => a.Compose(step, 30));
        var oneByOne = Eps(a =>
        {
            for (var i = 0; i < 30; i++)
            {
                a.Compose(step);
            }
        });
        var selfComposed = Eps(a => a.Compose(new SelfComposedDpEvent(step, 30)));
        var composed = Eps(a => a.Compose(new ComposedDpEvent([new SelfComposedDpEvent(step, 10), new SelfComposedDpEvent(step, 20)])));

        Assert.True(byCount > 0);
        Assert.Equal(byCount, oneByOne, CompositionTolerance * byCount);
        Assert.Equal(byCount, selfComposed, CompositionTolerance * byCount);
        Assert.Equal(byCount, composed, CompositionTolerance * byCount);
    }

    [Fact]
    public void FullSamplingEqualsTheUnsampledMechanism()
    {
        var sampled = Create().Compose(new PoissonSampledDpEvent(1.0, new GaussianDpEvent(2.0)), 3).GetEpsilon(1e-6);
        var plain = Create().Compose(new GaussianDpEvent(2.0), 3).GetEpsilon(1e-6);
        Assert.Equal(plain, sampled, 1e-6 * plain);
    }

    [Fact]
    public void NeverReportsLessThanTheExactGaussianEpsilon()
    {
        var epsilon = Create().Compose(new GaussianDpEvent(1.0)).GetEpsilon(1e-5);
        Assert.True(epsilon >= ExactGaussianEpsilonSigma1Delta1e5 - 1e-9, $"ε = {epsilon} is below the exact {ExactGaussianEpsilonSigma1Delta1e5}");
        // Both methods are within 10% of the truth for a single Gaussian.
        Assert.True(epsilon <= 1.1 * ExactGaussianEpsilonSigma1Delta1e5, $"ε = {epsilon} is far above the exact value");
    }

    [Fact]
    public void EpsilonGrowsWithStepsAndSamplingProbabilityAndFallsWithNoise()
    {
        double Eps(double q, double sigma, long steps) =>
            Create().Compose(new PoissonSampledDpEvent(q, new GaussianDpEvent(sigma)), steps).GetEpsilon(1e-5);

        double[] stepGrid = [1, 10, 100, 1000];
        var bySteps = stepGrid.Select(s => Eps(0.01, 1.0, (long)s)).ToArray();
        double[] qGrid = [0.001, 0.01, 0.05, 0.2];
        var byQ = qGrid.Select(q => Eps(q, 1.0, 100)).ToArray();
        double[] sigmaGrid = [0.7, 1.0, 1.5, 3.0];
        var bySigma = sigmaGrid.Select(s => Eps(0.01, s, 100)).ToArray();

        for (var i = 1; i < 4; i++)
        {
            Assert.True(bySteps[i] > bySteps[i - 1], $"ε({stepGrid[i]} steps) = {bySteps[i]} ≤ ε({stepGrid[i - 1]} steps) = {bySteps[i - 1]}");
            Assert.True(byQ[i] > byQ[i - 1], $"ε(q={qGrid[i]}) = {byQ[i]} ≤ ε(q={qGrid[i - 1]}) = {byQ[i - 1]}");
            Assert.True(bySigma[i] < bySigma[i - 1], $"ε(σ={sigmaGrid[i]}) = {bySigma[i]} ≥ ε(σ={sigmaGrid[i - 1]}) = {bySigma[i - 1]}");
        }
    }

    [Theory]
    [InlineData(1e-3)]
    [InlineData(1e-5)]
    [InlineData(1e-8)]
    public void EpsilonAndDeltaAreConsistent(double delta)
    {
        var accountant = Create().Compose(new PoissonSampledDpEvent(0.05, new GaussianDpEvent(1.2)), 200);
        var epsilon = accountant.GetEpsilon(delta);
        var deltaBack = accountant.GetDelta(epsilon);
        // The δ proven at the reported ε is no worse than the δ asked for (up to float error).
        Assert.True(deltaBack <= delta * (1 + 1e-6), $"δ(ε(δ)) = {deltaBack} > δ = {delta}");
        // And the reported ε is tight: a slightly smaller ε needs a larger δ.
        Assert.True(accountant.GetDelta(epsilon * 0.99) > delta * (1 - 1e-6));
    }

    [Fact]
    public void LedgerRecordsWhatWasComposed()
    {
        var step = new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0));
        var accountant = Create().Compose(step, 5).Compose(new GaussianDpEvent(3.0));
        Assert.Equal(new ComposedDpEvent([new SelfComposedDpEvent(step, 5), new GaussianDpEvent(3.0)]), accountant.LedgerEvent);
    }

    public static TheoryData<DpEvent, NeighboringRelation> EveryEventUnderEveryRelation()
    {
        var data = new TheoryData<DpEvent, NeighboringRelation>();
        foreach (var relation in Enum.GetValues<NeighboringRelation>())
        {
            foreach (var e in EventCatalogue.All)
            {
                data.Add(e, relation);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryEventUnderEveryRelation))]
    public void EveryEventIsEitherAnalysedOrRefused(DpEvent dpEvent, NeighboringRelation relation)
    {
        var accountant = Create(relation);
        if (accountant is null)
        {
            return; // This accountant is not offered under this relation.
        }

        Assert.Equal(relation, accountant.NeighboringRelation);
        var supported = accountant.Supports(dpEvent);

        // Nesting never changes the answer.
        Assert.Equal(supported, accountant.Supports(new SelfComposedDpEvent(dpEvent, 3)));
        Assert.Equal(supported, accountant.Supports(new ComposedDpEvent([new NoOpDpEvent(), dpEvent])));

        if (supported)
        {
            accountant.Compose(dpEvent, 2);
            var epsilon = accountant.GetEpsilon(1e-5);
            Assert.False(double.IsNaN(epsilon), $"ε is NaN for {dpEvent}");
            Assert.True(epsilon >= 0, $"ε = {epsilon} for {dpEvent}");
            var delta = accountant.GetDelta(1.0);
            Assert.True(delta >= 0 && delta <= 1, $"δ = {delta} for {dpEvent}");
            Assert.Equal(new ComposedDpEvent([new SelfComposedDpEvent(dpEvent, 2)]), accountant.LedgerEvent);
        }
        else
        {
            var ex = Assert.Throws<UnsupportedDpEventException>(() => accountant.Compose(dpEvent));
            Assert.Same(dpEvent, ex.Event);
            Assert.Throws<UnsupportedDpEventException>(() => accountant.Compose(new ComposedDpEvent([new GaussianDpEvent(1.0), dpEvent])));
            Assert.Equal(0.0, accountant.GetEpsilon(1e-5));
            Assert.Empty(accountant.LedgerEvent.Events);
        }
    }
}
