using DiffPriv.Accounting.Events;

namespace DiffPriv.Accounting.Tests.Events;

/// <summary>One or more valid instances of every event type, for round-trip and accountant contract tests.</summary>
internal static class EventCatalogue
{
    /// <summary>Every event type, with typical and edge parameters (the type strings in <see cref="DpEvent"/>).</summary>
    public static IReadOnlyList<DpEvent> All { get; } =
    [
        new GaussianDpEvent(1.1),
        new GaussianDpEvent(0.0),
        new LaplaceDpEvent(2.5),
        new PoissonSampledDpEvent(256.0 / 60000, new GaussianDpEvent(1.1)),
        new SampledWithoutReplacementDpEvent(60000, 256, new GaussianDpEvent(0.7)),
        new SelfComposedDpEvent(new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0)), 14063),
        new ComposedDpEvent([new GaussianDpEvent(1.0), new SelfComposedDpEvent(new LaplaceDpEvent(1.0), 3), new ComposedDpEvent([new NoOpDpEvent()])]),
        new ComposedDpEvent([]),
        new NoOpDpEvent(),
        new NonPrivateDpEvent(),
        new SingleEpochTreeAggregationDpEvent(1.5, [234]),
        new SingleEpochTreeAggregationDpEvent(2.0, [100, 100, 37, 0]),
        new RepeatAndSelectDpEvent(new GaussianDpEvent(3.0), 10, 1),
        new RepeatAndSelectDpEvent(new PoissonSampledDpEvent(0.01, new GaussianDpEvent(1.0)), 5.5, double.PositiveInfinity),
        new RepeatAndSelectDpEvent(new SelfComposedDpEvent(new GaussianDpEvent(5.0), 20), 3, 0.5),
        new TruncatedSubsampledGaussianDpEvent(60000, 0.004, 300, 1.1),
        new MixtureOfGaussiansDpEvent(1.0, [0, 1, 2], [0.5, 0.3, 0.2]),
        new ZcdpDpEvent(0.125),
        new ZcdpDpEvent(0.5, 0.1),
        new DiscreteGaussianDpEvent(3.0),
        new DiscreteGaussianDpEvent(10.0, 2.0, 5),
        new DiscreteLaplaceDpEvent(0.5, 2),
        new RandomizedResponseDpEvent(0.5, 10),
        new EpsilonDeltaDpEvent(1.0, 1e-6),
        new EpsilonDeltaDpEvent(double.PositiveInfinity, 0),
        new ExponentialMechanismDpEvent(0.7),
        new PermuteAndFlipDpEvent(0.7),
        new SampledWithReplacementDpEvent(1000, 10, new GaussianDpEvent(2.0)),
    ];

    /// <summary><see cref="All"/> as theory data.</summary>
    public static TheoryData<DpEvent> AllTheoryData()
    {
        var data = new TheoryData<DpEvent>();
        foreach (var e in All)
        {
            data.Add(e);
        }

        return data;
    }
}
