namespace DiffPriv.Experiments.UserLevel;

/// <summary>
/// What example-level DP-SGD guarantees one user with k examples: the classic group-privacy bound and a bound from the
/// RDP accountant (see docs/user-level.md for both derivations).
/// </summary>
/// <param name="User">Which user: "median user" or "largest user".</param>
/// <param name="Examples">k, the user's training examples.</param>
/// <param name="ClassicEpsilon">k·ε of the classic group-privacy bound (ε, δ) → (kε, k·e^{(k−1)ε}·δ).</param>
/// <param name="ClassicLog10Delta">log₁₀ of its δ, k·e^{(k−1)ε}·δ (a guarantee only when below 0, i.e. δ &lt; 1).</param>
/// <param name="AccountantEpsilon">
/// ε at the run's δ from the RDP accountant for the smaller of two valid bounds: the k·T-fold composition of
/// PoissonSampled(q, Gaussian(σ/√k)), and T steps of PoissonSampled(1 − (1 − q)^k, Gaussian(σ/k)); +∞ when it overflows.
/// </param>
/// <param name="AccountantBound">Which of the two gave <paramref name="AccountantEpsilon"/>: "composition" or "all-or-nothing".</param>
public sealed record GroupPrivacyBound(string User, int Examples, double ClassicEpsilon, double ClassicLog10Delta, double AccountantEpsilon, string AccountantBound);
