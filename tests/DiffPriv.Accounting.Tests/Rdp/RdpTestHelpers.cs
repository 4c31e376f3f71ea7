using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Rdp;

namespace DiffPriv.Accounting.Tests.Rdp;

/// <summary>Tolerances named after the upstream assertions they reproduce, and the DP-SGD set-ups of TF Privacy.</summary>
internal static class RdpTestHelpers
{
    /// <summary>Python unittest <c>assertAlmostEqual</c> (places 7): |a − b| &lt; 5e-8.</summary>
    public const double Places7 = 5e-8;

    /// <summary>
    /// The orders of TF Privacy's <c>compute_dp_sgd_privacy</c>
    /// (tensorflow/privacy @ 03035d5d4a271ac795dab80f5bc1cef82fc3d462,
    /// tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_lib.py): 1.25 … 4.5, 5 … 63, 128, 256, 512.
    /// </summary>
    public static readonly double[] TfPrivacyOrders =
        [1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5, .. Enumerable.Range(5, 59).Select(i => (double)i), 128, 256, 512];

    /// <summary>
    /// The orders of the TF Privacy tutorials' <c>compute_epsilon</c> (same commit, e.g.
    /// tutorials/mnist_dpsgd_tutorial_keras.py), and Opacus's <c>RDPAccountant.DEFAULT_ALPHAS</c>:
    /// [1 + x/10 for x in 1..99] + [12 … 63].
    /// </summary>
    public static readonly double[] TutorialOrders =
        [.. Enumerable.Range(1, 99).Select(x => 1 + (x / 10.0)), .. Enumerable.Range(12, 52).Select(i => (double)i)];

    /// <summary>The accountant after Poisson-sampled DP-SGD: q = batch/n, steps = ⌈epochs·n/batch⌉.</summary>
    public static RdpAccountant DpSgd(double n, double batch, double sigma, double epochs, IReadOnlyList<double>? orders = null)
    {
        var q = batch / n;
        var steps = (long)Math.Ceiling(epochs * n / batch);
        var accountant = new RdpAccountant(orders);
        accountant.Compose(new SelfComposedDpEvent(new PoissonSampledDpEvent(q, new GaussianDpEvent(sigma)), steps));
        return accountant;
    }

    /// <summary>TF Privacy's <c>compute_dp_sgd_privacy(n, batch, σ, epochs, δ)</c> → (ε, order).</summary>
    public static RdpEpsilonResult ComputeDpSgdPrivacy(double n, double batch, double sigma, double epochs, double delta) =>
        DpSgd(n, batch, sigma, epochs, TfPrivacyOrders).GetEpsilonAndOrder(delta);

    public static void AssertRelative(double expected, double actual, double rtol)
    {
        Assert.True(Math.Abs(actual - expected) <= rtol * Math.Abs(expected), $"expected {expected:R}, got {actual:R} (rtol {rtol})");
    }
}
