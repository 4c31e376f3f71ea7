using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Experiments.UserLevel;

/// <summary>
/// Per-user guarantees of example-level DP-SGD (Poisson rate q per example, noise multiplier σ, T steps) for a user with
/// k examples. Both bounds below are valid for every k; the accountant's is what the report puts first.
/// </summary>
/// <remarks>
/// <para>Classic group privacy (Dwork &amp; Roth 2014, Thm. 2.2 and its (ε, δ) form): an (ε, δ)-DP mechanism is
/// (kε, k·e^{(k−1)ε}·δ)-DP for groups of k.</para>
/// <para>Composition: a step's noise N(0, σ²C²) is the sum of k independent N(0, σ²C²/k), so the step's output is a
/// post-processing (a sum) of k independent mechanisms, each the Poisson-subsampled Gaussian of ONE of the user's
/// examples (sensitivity C, noise multiplier σ/√k). The user is therefore protected at least as well as by
/// k·T compositions of PoissonSampled(q, Gaussian(σ/√k)).</para>
/// <para>All or nothing: the user's contribution to a step is Σ_{j sampled} c_j·g_j with ‖·‖ ≤ J·C, J ~ Binomial(k, q).
/// Mapping N(kC) to N(jC) (scale by j/k, add the missing noise) sends N(0) to N(0), so the mixture over J is a
/// post-processing of PoissonSampled(1 − (1 − q)^k, Gaussian(σ/k)) against N(0): T such steps bound the user.</para>
/// <para>The tight per-user accounting is the mixture of Gaussians Σ_j Binomial(k, q)(j)·N(jC, σ²C²) against N(0, σ²C²)
/// (dp_accounting's MixtureOfGaussiansDpEvent); DiffPriv's accountants do not take that event yet.</para>
/// </remarks>
internal static class GroupPrivacy
{
    /// <summary>(kε, log₁₀ δ_k) of the classic bound, δ_k = k·e^{(k−1)ε}·δ (its logarithm, which may be far above 0).</summary>
    public static (double Epsilon, double Log10Delta) Classic(double epsilon, double delta, int k) =>
        (k * epsilon, (Math.Log(k) + ((k - 1) * epsilon) + Math.Log(delta)) / Math.Log(10));

    /// <summary>ε at δ of the smaller of the composition and all-or-nothing bounds (RDP accountant), and which one it is.</summary>
    public static (double Epsilon, string Bound) Accountant(double samplingProbability, double noiseMultiplier, long steps, int k, double delta)
    {
        var composition = Composition(samplingProbability, noiseMultiplier, steps, k, delta);
        var allOrNothing = AllOrNothing(samplingProbability, noiseMultiplier, steps, k, delta);
        return composition <= allOrNothing ? (composition, "composition") : (allOrNothing, "all-or-nothing");
    }

    /// <summary>ε at δ of k·T compositions of PoissonSampled(q, Gaussian(σ/√k)) (RDP accountant).</summary>
    public static double Composition(double samplingProbability, double noiseMultiplier, long steps, int k, double delta) =>
        Epsilon(new SelfComposedDpEvent(new PoissonSampledDpEvent(samplingProbability, new GaussianDpEvent(noiseMultiplier / Math.Sqrt(k))), steps * k), delta);

    /// <summary>ε at δ of T steps of PoissonSampled(1 − (1 − q)^k, Gaussian(σ/k)) (RDP accountant).</summary>
    public static double AllOrNothing(double samplingProbability, double noiseMultiplier, long steps, int k, double delta)
    {
        // 1 − (1 − q)^k = −expm1(k·log(1 − q)), the series when k·q is tiny (1 − e^x cancels there).
        var logNone = k * Math.Log(1 - samplingProbability);
        var anySampled = logNone < -1e-5 ? 1 - Math.Exp(logNone) : -logNone - (logNone * logNone / 2);
        return Epsilon(new SelfComposedDpEvent(new PoissonSampledDpEvent(Math.Min(1.0, anySampled), new GaussianDpEvent(noiseMultiplier / k)), steps), delta);
    }

    /// <summary>The bounds for a user with <paramref name="k"/> examples.</summary>
    public static GroupPrivacyBound For(string user, int k, double epsilon, double delta, double samplingProbability, double noiseMultiplier, long steps)
    {
        var (classicEpsilon, log10Delta) = Classic(epsilon, delta, k);
        var (accountantEpsilon, bound) = Accountant(samplingProbability, noiseMultiplier, steps, k, delta);
        return new GroupPrivacyBound(user, k, classicEpsilon, log10Delta, accountantEpsilon, bound);
    }

    private static double Epsilon(DpEvent dpEvent, double delta)
    {
        var accountant = new RdpAccountant();
        accountant.Compose(dpEvent);
        var epsilon = accountant.GetEpsilon(delta);
        return double.IsNaN(epsilon) ? double.PositiveInfinity : epsilon;
    }
}
