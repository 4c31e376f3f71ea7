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
}
