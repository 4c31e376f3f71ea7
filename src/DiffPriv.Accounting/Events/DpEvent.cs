using System.Text.Json.Serialization;

namespace DiffPriv.Accounting.Events;

/// <summary>
/// An immutable description of a differentially private mechanism, or of how mechanisms were combined.
/// Code that adds noise returns the event it caused; accountants only read events
/// (the design of Google's dp_accounting library).
/// </summary>
/// <remarks>
/// Every event validates its parameters on construction and round-trips through JSON with
/// <see cref="DpEventJson"/>. Equality is structural.
/// </remarks>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(GaussianDpEvent), "gaussian")]
[JsonDerivedType(typeof(LaplaceDpEvent), "laplace")]
[JsonDerivedType(typeof(PoissonSampledDpEvent), "poisson_sampled")]
[JsonDerivedType(typeof(SampledWithoutReplacementDpEvent), "sampled_without_replacement")]
[JsonDerivedType(typeof(SelfComposedDpEvent), "self_composed")]
[JsonDerivedType(typeof(ComposedDpEvent), "composed")]
[JsonDerivedType(typeof(NoOpDpEvent), "no_op")]
[JsonDerivedType(typeof(NonPrivateDpEvent), "non_private")]
[JsonDerivedType(typeof(SingleEpochTreeAggregationDpEvent), "single_epoch_tree_aggregation")]
[JsonDerivedType(typeof(RepeatAndSelectDpEvent), "repeat_and_select")]
[JsonDerivedType(typeof(TruncatedSubsampledGaussianDpEvent), "truncated_subsampled_gaussian")]
[JsonDerivedType(typeof(MixtureOfGaussiansDpEvent), "mixture_of_gaussians")]
[JsonDerivedType(typeof(ZcdpDpEvent), "zcdp")]
[JsonDerivedType(typeof(DiscreteGaussianDpEvent), "discrete_gaussian")]
[JsonDerivedType(typeof(DiscreteLaplaceDpEvent), "discrete_laplace")]
[JsonDerivedType(typeof(RandomizedResponseDpEvent), "randomized_response")]
[JsonDerivedType(typeof(EpsilonDeltaDpEvent), "epsilon_delta")]
[JsonDerivedType(typeof(ExponentialMechanismDpEvent), "exponential_mechanism")]
[JsonDerivedType(typeof(PermuteAndFlipDpEvent), "permute_and_flip")]
[JsonDerivedType(typeof(SampledWithReplacementDpEvent), "sampled_with_replacement")]
public abstract record DpEvent
{
    private protected DpEvent()
    {
    }

    internal static void RequireFiniteNonNegative(double value, string name)
    {
        if (double.IsNaN(value) || double.IsInfinity(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number ≥ 0.");
        }
    }

    internal static void RequireNonNegativeOrInfinity(double value, string name)
    {
        if (!(value >= 0))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a number ≥ 0 (+∞ allowed).");
        }
    }

    internal static void RequireProbability(double value, string name)
    {
        if (!(value >= 0 && value <= 1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1].");
        }
    }

    internal static void RequireNonNegative(long value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be ≥ 0.");
        }
    }
}
