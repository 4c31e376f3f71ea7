using DiffPriv.Accounting.Pld;

namespace DiffPriv.Accounting.Tests.Pld;

/// <summary>
/// Mechanism-level privacy losses: values stated in google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting/dp_accounting/pld/privacy_loss_mechanism_test.py
/// (assertAlmostEqual places 7, i.e. |Δ| &lt; 5e-8).
/// </summary>
public sealed class PrivacyLossMechanismTests
{
    private const int Places = 7;

    private static AdjacencyType Adj(string a) => a switch
    {
        "ADD" => AdjacencyType.Add,
        "REPLACE" => AdjacencyType.Replace,
        _ => AdjacencyType.Remove,
    };

    [Theory]
    // Unsampled: ADD and REMOVE agree.
    [InlineData(1.0, 1.0, 1.0, "ADD", 1.0, 0.12693674)]
    [InlineData(2.0, 2.0, 1.0, "REMOVE", 1.0, 0.12693674)]
    [InlineData(1.0, 3.0, 1.0, "ADD", 1.0, 0.78760074)]
    [InlineData(2.0, 6.0, 1.0, "REMOVE", 1.0, 0.78760074)]
    [InlineData(1.0, 1.0, 1.0, "REMOVE", 2.0, 0.02092364)]
    [InlineData(5.0, 5.0, 1.0, "ADD", 2.0, 0.02092364)]
    // Subsampled ADD.
    [InlineData(1.0, 1.0, 0.8, "ADD", 1.0, 0.0231362104090899)]
    [InlineData(2.0, 2.0, 0.8, "ADD", 1.0, 0.0231362104090899)]
    [InlineData(1.0, 3.0, 0.7, "ADD", 1.0, 0.1195051215523554)]
    [InlineData(2.0, 6.0, 0.4, "ADD", 1.0, 0.0)]
    [InlineData(1.0, 1.0, 0.3, "ADD", 2.0, 0.0)]
    [InlineData(5.0, 5.0, 0.2, "ADD", 2.0, 0.0)]
    // Subsampled REMOVE.
    [InlineData(1.0, 1.0, 0.8, "REMOVE", 1.0, 0.0816951786585355)]
    [InlineData(2.0, 2.0, 0.8, "REMOVE", 1.0, 0.0816951786585355)]
    [InlineData(1.0, 3.0, 0.7, "REMOVE", 1.0, 0.5356298793262404)]
    [InlineData(2.0, 6.0, 0.4, "REMOVE", 1.0, 0.2888308005139968)]
    [InlineData(1.0, 1.0, 0.3, "REMOVE", 2.0, 0.0003341102928869332)]
    [InlineData(5.0, 5.0, 0.2, "REMOVE", -0.25, 0.2211992169285951)]
    public void GaussianDeltaForEpsilon(double sigma, double sensitivity, double q, string adjacency, double epsilon, double expected)
    {
        var loss = new GaussianPrivacyLoss(sigma, sensitivity, q, Adj(adjacency));
        Assert.Equal(expected, loss.GetDeltaForEpsilon(epsilon), Places);
    }

    [Theory]
    [InlineData("ADD", 1.0, new[] { -2.0, -1, 0, 1, 2 }, new[] { 0.86749642, 0.67881797, 0.38292492, 0.12693674, 0.020923636 })]
    [InlineData("REMOVE", 1.0, new[] { -2.0, -1, 0, 1, 2 }, new[] { 0.86749642, 0.67881797, 0.38292492, 0.12693674, 0.020923636 })]
    [InlineData("ADD", 0.2, new[] { -0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3 }, new[] { 0.27768558, 0.21052945, 0.14204776, 0.076584985, 0.02337934, 0.00020196, 0.0 })]
    [InlineData("REMOVE", 0.2, new[] { -0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.5, 1.0 }, new[] { 0.25918178, 0.1814346, 0.11631708, 0.076584985, 0.051816131, 0.035738492, 0.012494629, 0.00229682 })]
    public void GaussianDeltaForEpsilonVectorized(string adjacency, double q, double[] epsilons, double[] expected)
    {
        var loss = new GaussianPrivacyLoss(1.0, 1.0, q, Adj(adjacency));
        for (var i = 0; i < epsilons.Length; i++)
        {
            Assert.Equal(expected[i], loss.GetDeltaForEpsilon(epsilons[i]), Places);
        }
    }

    [Theory]
    [InlineData(1.0, 1.0, 1.0, "ADD", 5.0, -4.5)]
    [InlineData(1.0, 1.0, 1.0, "ADD", -3.0, 3.5)]
    [InlineData(1.0, 2.0, 1.0, "ADD", 3.0, -4.0)]
    [InlineData(1.0, 1.0, 1.0, "REMOVE", 4.0, -4.5)]
    [InlineData(1.0, 1.0, 1.0, "REMOVE", -4.0, 3.5)]
    [InlineData(1.0, 2.0, 1.0, "REMOVE", 1.0, -4.0)]
    [InlineData(1.0, 1.0, 0.8, "ADD", 0.5, 0.0)]
    [InlineData(1.0, 1.0, 0.5, "ADD", -4.0, 0.6820994357113515)]
    [InlineData(1.0, 2.0, 0.7, "ADD", 0.0, 0.929541389699331)]
    [InlineData(4.0, 4.0, 0.3, "ADD", -16.0, 0.3519252431310541)]
    [InlineData(5.0, 5.0, 0.45, "ADD", 20.0, -2.737735427805667)]
    [InlineData(7.0, 14.0, 0.9, "ADD", -7.0, 2.150000710600199)]
    [InlineData(1.0, 1.0, 0.8, "REMOVE", -0.5, 0.0)]
    [InlineData(1.0, 1.0, 0.5, "REMOVE", 4.0, -0.6820994357113515)]
    [InlineData(1.0, 2.0, 0.7, "REMOVE", 0.0, -0.929541389699331)]
    [InlineData(4.0, 4.0, 0.3, "REMOVE", 16.0, -0.3519252431310541)]
    [InlineData(5.0, 5.0, 0.45, "REMOVE", -20.0, 2.737735427805667)]
    [InlineData(7.0, 14.0, 0.9, "REMOVE", 7.0, -2.150000710600199)]
    public void GaussianPrivacyLossValues(double sigma, double sensitivity, double q, string adjacency, double x, double expected)
    {
        var loss = new GaussianPrivacyLoss(sigma, sensitivity, q, Adj(adjacency));
        Assert.Equal(expected, loss.PrivacyLoss(x), Places);
        // The inverse lands where the loss is the given value.
        var inverse = loss.InversePrivacyLoss(expected);
        if (double.IsFinite(inverse))
        {
            Assert.Equal(expected, loss.PrivacyLoss(inverse), 1e-9);
        }
    }

    [Theory]
    [InlineData("ADD", 1.0, 1.0, new[] { 7.61985302416047e-24, 0.5, 0.8413447460685429, 1.0 })]
    [InlineData("ADD", 2.0, 0.5, new[] { 2.866515718791933e-07, 0.5, 0.6914624612740131, 0.9999997133484281 })]
    [InlineData("REMOVE", 1.0, 1.0, new[] { 1.1285884059538324e-19, 0.8413447460685429, 0.9772498680518208, 1.0 })]
    [InlineData("REMOVE", 1.0, 0.8, new[] { 9.028859644691143e-20, 0.7730757968548344, 0.9500688436551652, 1.0 })]
    public void MuUpperCdf(string adjacency, double sigma, double q, double[] expected)
    {
        var loss = new GaussianPrivacyLoss(sigma, 1.0, q, Adj(adjacency));
        double[] xs = [-10, 0, 1, 10];
        for (var i = 0; i < xs.Length; i++)
        {
            // Relative for the tiny tail values (places 7 would make them vacuous).
            Assert.Equal(expected[i], loss.MuUpperCdf(xs[i]), Math.Max(1e-12 * expected[i], expected[i] < 1e-6 ? 0 : 5e-8));
        }
    }

    // REPLACE (replace-one): μ_upper = (1−q)μ + qμ(· + Δ), μ_lower = (1−q)μ + qμ(· − Δ). Values stated in
    // test_gaussian_privacy_loss, test_gaussian_inverse_privacy_loss (as the same pairs read backwards) and
    // test_gaussian_get_delta_for_epsilon.
    [Theory]
    [InlineData(1.0, 1.0, 1.0, 4.0, -8.0)]
    [InlineData(1.0, 1.0, 1.0, -4.0, 8.0)]
    [InlineData(1.0, 2.0, 1.0, 1.0, -4.0)]
    [InlineData(4.0, 4.0, 1.0, 16.0, -8.0)]
    [InlineData(5.0, 5.0, 1.0, -20.0, 8.0)]
    [InlineData(7.0, 14.0, 1.0, 7.0, -4.0)]
    [InlineData(1.0, 1.0, 0.8, -0.5, 0.7046054708796524)]
    [InlineData(1.0, 1.0, 0.5, 4.0, -3.5187026734240265)]
    [InlineData(1.0, 2.0, 0.7, 0.0, 0.0)]
    [InlineData(4.0, 4.0, 0.3, 16.0, -2.7160414258090357)]
    [InlineData(5.0, 5.0, 0.45, -20.0, 3.3265243075613813)]
    [InlineData(7.0, 14.0, 0.9, 7.0, -2.1500007106001986)]
    public void GaussianReplacePrivacyLossAndInverse(double sigma, double sensitivity, double q, double x, double expected)
    {
        var loss = new GaussianPrivacyLoss(sigma, sensitivity, q, AdjacencyType.Replace);
        Assert.Equal(expected, loss.PrivacyLoss(x), Places);
        Assert.Equal(x, loss.InversePrivacyLoss(expected), Places);
    }

    [Theory]
    [InlineData(2.0, 1.0, 0.8, 1.0, 0.05808665654484252)]
    [InlineData(3.0, 2.0, 0.8, 1.0, 0.13711260900644096)]
    [InlineData(2.0, 3.0, 0.7, 1.0, 0.4013057526509164)]
    [InlineData(3.0, 6.0, 0.4, 1.0, 0.20752885274183325)]
    [InlineData(2.0, 1.0, 0.3, 2.0, 2.4770380148941894e-09)]
    [InlineData(10.0, 5.0, 0.2, -0.25, 0.22989794629827498)]
    [InlineData(1.0, 1.0, 1.0, -2.0, 0.90958223)]
    [InlineData(1.0, 1.0, 1.0, 0.0, 0.68268949)]
    [InlineData(1.0, 1.0, 1.0, 2.0, 0.331897999)]
    [InlineData(1.0, 1.0, 0.2, -0.3, 0.29584154)]
    [InlineData(1.0, 1.0, 0.2, 0.0, 0.13653790)]
    [InlineData(1.0, 1.0, 0.2, 0.5, 0.0250311655)]
    [InlineData(1.0, 1.0, 0.2, 1.0, 0.004734828)]
    public void GaussianReplaceDeltaForEpsilon(double sigma, double sensitivity, double q, double epsilon, double expected)
    {
        var loss = new GaussianPrivacyLoss(sigma, sensitivity, q, AdjacencyType.Replace);
        Assert.Equal(expected, loss.GetDeltaForEpsilon(epsilon), Places);
    }

    // test_gaussian_connect_dots_bounds, REPLACE rows: log_mass_truncation_bound = ln 2 + ln Φ(−1).
    [Theory]
    [InlineData(1.0, 1.0, 1.0, 4.0, -2.0)]
    [InlineData(3.0, 3.0, 1.0, 4.0, -2.0)]
    [InlineData(1.0, 2.0, 1.0, 12.0, -4.0)]
    [InlineData(1.0, 1.0, 0.8, 2.6566465589644865, -1.3895653925023248)]
    [InlineData(1.0, 2.0, 0.5, 4.017814521544914, -0.6749972526421355)]
    [InlineData(4.0, 8.0, 0.6, 4.41709852073334, -0.8891878961255205)]
    public void GaussianReplaceConnectDotsBounds(double sigma, double sensitivity, double q, double upper, double lower)
    {
        var loss = new GaussianPrivacyLoss(sigma, sensitivity, q, AdjacencyType.Replace, Math.Log(2) + NormalDistribution.LogCdf(-1));
        var (l, u) = loss.ConnectDotsBounds();
        Assert.Equal(upper, u, Places);
        Assert.Equal(lower, l, Places);
    }

    [Fact]
    public void LaplaceRejectsReplace() =>
        Assert.Throws<NotSupportedException>(() => new LaplacePrivacyLoss(1.0, 1.0, 1.0, AdjacencyType.Replace));

    [Theory]
    [InlineData(1.0, 1.0, 1.0, "ADD", 1.0, 0.0)]
    [InlineData(2.0, 4.0, 1.0, "REMOVE", 0.5, 0.52763345)]
    [InlineData(1.0, 1.0, 1.0, "ADD", 0.0, 0.39346934)]
    [InlineData(1.0, 1.0, 1.0, "REMOVE", -2.0, 0.86466472)]
    [InlineData(2.0, 4.0, 0.8, "ADD", 0.5, 0.3243606497234246)]
    [InlineData(1.0, 1.0, 0.6, "ADD", 0.2, 0.1401134521354217)]
    [InlineData(2.0, 2.0, 0.3, "ADD", 0.0, 0.1180408020862099)]
    [InlineData(2.0, 4.0, 0.8, "REMOVE", 0.5, 0.4039564635032081)]
    [InlineData(1.0, 1.0, 0.6, "REMOVE", 0.2, 0.1741992102060086)]
    [InlineData(5.0, 5.0, 0.2, "REMOVE", -0.25, 0.2211992169285951)]
    public void LaplaceDeltaForEpsilon(double b, double sensitivity, double q, string adjacency, double epsilon, double expected)
    {
        var loss = new LaplacePrivacyLoss(b, sensitivity, q, Adj(adjacency));
        Assert.Equal(expected, loss.GetDeltaForEpsilon(epsilon), Places);
    }

    [Theory]
    [InlineData(-40.0)]
    [InlineData(-10.0)]
    [InlineData(-1.0)]
    [InlineData(0.3)]
    [InlineData(5.0)]
    public void NormalLogCdfAgreesWithCdf(double x)
    {
        var logCdf = NormalDistribution.LogCdf(x);
        var cdf = NormalDistribution.Cdf(x);
        if (cdf > 1e-300)
        {
            Assert.Equal(Math.Log(cdf), logCdf, 1e-13 * Math.Max(1, Math.Abs(logCdf)));
        }

        // Φ(−40) = 3.655893540915e-350 underflows; log Φ must not: ln Φ(−40) = −804.6084420137538 (mpmath at 50
        // digits; scipy 1.10.1's norm.logcdf agrees to 1e-13; reference_values.py).
        if (x == -40.0)
        {
            Assert.Equal(-804.6084420137538, logCdf, 1e-10);
        }
    }
}
