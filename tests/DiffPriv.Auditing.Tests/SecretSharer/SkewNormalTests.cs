using DiffPriv.Auditing.SecretSharer;

namespace DiffPriv.Auditing.Tests.SecretSharer;

/// <summary>
/// The skew-normal distribution behind the extrapolated exposure. Reference values are mpmath's (50 digits; the CDF at
/// 400–500), printed by skewnormal_goldens.py in this folder: first with mpmath 1.3.0, re-run with Debian 12's
/// python3-mpmath 1.2.1 with identical output. They are not scipy's: the script's cross-check shows scipy 1.10.1
/// (Debian 12's python3-scipy) agreeing to 1e-15 for Owen's T and most CDF values, but only to ~1e-6 relative at
/// F(−6; α 4) and F(−0.3; α 20), and its skewnorm.fit (Nelder–Mead) to ~2e-5. Owen's T cases (0.0625, 0.25) …
/// (1, 0.9999975) are the classic test points of Patefield and Tandy, J. Stat. Softw. 5(5), 2000.
/// </summary>
public sealed class SkewNormalTests
{
    public static TheoryData<double, double, double> OwensTValues => new()
    {
        { 0.0625, 0.25, 0.038911930234701366897 },
        { 6.5, 0.4375, 2.000577304850831541e-11 },
        { 7, 0.96875, 6.3990627193898685308e-13 },
        { 4.78125, 0.0625, 1.0632974804687463806e-7 },
        { 2, 0.5, 0.0086250779855215071311 },
        { 1, 0.9999975, 0.066741808978228592292 },
        { 0, 0.7, 0.097200056107107389998 },
        { 0.5, 1, 0.10667106296144851629 },
        { 1.5, 2, 0.033383245362167338326 },
        { 3, 10, 0.00067494901581504726333 },
        { 0.3, 100, 0.19104428890552368346 },
        { 2.5, 1.5, 0.0031046570510844967158 },
    };

    [Theory]
    [MemberData(nameof(OwensTValues))]
    public void OwensTMatchesMpmath(double h, double a, double expected)
    {
        Assert.Equal(expected, OwensT.Evaluate(h, a), expected * 1e-13);
        // T is even in h and odd in a.
        Assert.Equal(expected, OwensT.Evaluate(-h, a), expected * 1e-13);
        Assert.Equal(-expected, OwensT.Evaluate(h, -a), expected * 1e-13);
    }

    [Fact]
    public void OwensTClosedForms()
    {
        // T(0, a) = atan(a)/(2π); T(h, 1) = Φ(h)(1 − Φ(h))/2; T(h, ∞) = (1 − Φ(|h|))/2 (Owen 1956).
        foreach (var a in new[] { 0.1, 0.5, 1.0, 3.0, 50.0 })
        {
            Assert.Equal(Math.Atan(a) / (2 * Math.PI), OwensT.Evaluate(0, a), 1e-16);
        }

        foreach (var h in new[] { 0.0, 0.3, 1.0, 2.5, 6.0 })
        {
            var phi = NormalMath.Cdf(h);
            var expected = 0.5 * phi * NormalMath.Cdf(-h);
            Assert.Equal(expected, OwensT.Evaluate(h, 1.0), expected * 1e-13);
            Assert.Equal(0.5 * NormalMath.Cdf(-h), OwensT.Evaluate(h, double.PositiveInfinity), 1e-17);
        }
    }

    public static TheoryData<double, double, double, double, double> CdfValues => new()
    {
        { 0.5, 0, 0, 1, 0.69146246127401310364 },
        { -1, 4, 0, 1, 8.1796903390645501249e-7 },
        { 0.3, 4, 0, 1, 0.24609057814013361247 },
        { 2, 4, 0, 1, 0.95449973610364158752 },
        { -0.2, -3, 0, 1, 0.7999607245330172431 },
        { 1.7, -3, 0, 1, 0.99999999823256583426 },
        { -2, 0.5, 0, 1, 0.005499975977136192938 },
        { -3, 4, 0, 1, 3.0484041704205369983e-37 },
        { -6, 4, 0, 1, 1.6510740873391987195e-137 },
        { -0.3, 20, 0, 1, 5.9490908270262035109e-12 },
        { -4, -2, 0, 1, 0.000063342483666239834378 },
        { 0.8, 2, 1.5, 0.5, 0.000093973882612050139253 },
        { 2.5, 3, 2, 1.5, 0.28070841983354595842 },
    };

    [Theory]
    [MemberData(nameof(CdfValues))]
    public void CdfMatchesMpmathDownToTheFarLowerTail(double x, double shape, double location, double scale, double expected)
    {
        var d = new SkewNormalDistribution(shape, location, scale);
        Assert.Equal(expected, d.Cdf(x), expected * 1e-12);
        Assert.Equal(Math.Log(expected), d.LogCdf(x), Math.Abs(Math.Log(expected)) * 1e-13);
    }

    [Fact]
    public void LogCdfStaysFiniteWhereTheCdfUnderflows()
    {
        // F(−40; α = −2) = 7.3117870818300594075e-350 (mpmath), below the smallest double.
        var d = new SkewNormalDistribution(-2, 0, 1);
        var expectedLog = Math.Log(7.3117870818300594075) - (350 * Math.Log(10));
        Assert.Equal(0.0, d.Cdf(-40));
        Assert.Equal(expectedLog, d.LogCdf(-40), Math.Abs(expectedLog) * 1e-13);
    }

    [Fact]
    public void ShapeZeroIsTheNormalDistribution()
    {
        // Φ at a few points (mpmath ncdf): the skew-normal with α = 0 is N(ξ, ω²).
        var d = new SkewNormalDistribution(0, 1.0, 2.0);
        Assert.Equal(0.5, d.Cdf(1.0), 1e-16);
        Assert.Equal(0.84134474606854293, d.Cdf(3.0), 1e-15);
        Assert.Equal(0.0013498980316300946, d.Cdf(-5.0), 0.0013498980316300946 * 1e-13);
        Assert.Equal(Math.Exp(-0.5) / (2.0 * Math.Sqrt(2 * Math.PI)), d.Pdf(3.0), 1e-16);
    }

    [Fact]
    public void PdfIntegratesToTheCdf()
    {
        // ∫ f from the left tail to x equals F(x): ties the density (used by the fit) to the CDF (used by exposures).
        var d = new SkewNormalDistribution(3, 0.5, 1.2);
        double Simpson(double lo, double hi, int n)
        {
            var h = (hi - lo) / n;
            var s = d.Pdf(lo) + d.Pdf(hi);
            for (var i = 1; i < n; i++)
            {
                s += d.Pdf(lo + (i * h)) * (i % 2 == 1 ? 4 : 2);
            }

            return s * h / 3;
        }

        foreach (var x in new[] { -0.5, 0.5, 1.0, 3.0 })
        {
            Assert.Equal(d.Cdf(x), Simpson(-6.0, x, 4000), 1e-12);
        }
    }

    [Fact]
    public void FitFindsTheMaximumLikelihoodComputedByMpmath()
    {
        // skewnorm_sample(400, a=3, loc=2, scale=1.5, seed=20190801) in skewnormal_goldens.py; its exact maximiser
        // (score equations solved at 50 digits) is (a, loc, scale) = (2.8262…, 2.0344…, 1.5403…).
        var data = new Lcg(20190801).SkewNormal(400, 3.0, 2.0, 1.5);
        Assert.Equal(2.7889669435154243, data[0], 1e-15);
        var fit = SkewNormalDistribution.Fit(data);
        Assert.Equal(2.8262252324118718419, fit.Shape, 1e-9);
        Assert.Equal(2.0344121393678198727, fit.Location, 1e-9);
        Assert.Equal(1.5402813936166427309, fit.Scale, 1e-9);
        Assert.Equal(-559.06486681631590802, fit.LogLikelihood(data), 1e-9);
    }

    [Fact]
    public void FitRecoversTheParametersOfALargeSampleWithinFourStandardErrors()
    {
        // Also TF Privacy's exposures_test.test_exposure_extrapolation setting (tensorflow/privacy @
        // 03035d5d4a271ac795dab80f5bc1cef82fc3d462): 10 000 draws of skewnorm(4, 0, 1).
        var truth = (Shape: 4.0, Location: 0.0, Scale: 1.0);
        var data = new Lcg(7).SkewNormal(10_000, truth.Shape, truth.Location, truth.Scale);
        var fit = SkewNormalDistribution.Fit(data);
        var theta = new[] { fit.Shape, fit.Location, fit.Scale };

        // Observed information: the Hessian of −log L at the fit by central differences; standard errors from its inverse.
        double NegLogLik(double[] t) => -new SkewNormalDistribution(t[0], t[1], t[2]).LogLikelihood(data);
        var h = new[] { 1e-3, 1e-4, 1e-4 };
        var hessian = new double[3, 3];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                double At(int si, int sj)
                {
                    var t = (double[])theta.Clone();
                    t[i] += si * h[i];
                    t[j] += sj * h[j];
                    return NegLogLik(t);
                }

                hessian[i, j] = (At(1, 1) - At(1, -1) - At(-1, 1) + At(-1, -1)) / (4 * h[i] * h[j]);
            }
        }

        var covariance = Invert3(hessian);
        var expected = new[] { truth.Shape, truth.Location, truth.Scale };
        for (var i = 0; i < 3; i++)
        {
            var se = Math.Sqrt(covariance[i, i]);
            Assert.True(se > 0 && se < 0.2, $"standard error {i} = {se}");
            Assert.True(Math.Abs(theta[i] - expected[i]) <= 4 * se, $"parameter {i}: {theta[i]} vs {expected[i]} ± {se}");
        }

        // The fit is a maximum: no coordinate step of 1e-4 standard errors' size improves the likelihood.
        var best = NegLogLik(theta);
        for (var i = 0; i < 3; i++)
        {
            foreach (var sign in new[] { -1.0, 1.0 })
            {
                var t = (double[])theta.Clone();
                t[i] += sign * 1e-3 * Math.Sqrt(covariance[i, i]);
                Assert.True(NegLogLik(t) >= best - 1e-9, $"a step in parameter {i} improves the fit");
            }
        }
    }

    [Fact]
    public void FitIsEquivariantUnderAffineMapsOfTheData()
    {
        // Exposures must not depend on units (nats vs bits, mean vs total per sequence): fit(c·x + b) = (α, c·ξ + b, c·ω).
        var data = new Lcg(11).SkewNormal(2000, -2.5, 1.0, 0.7);
        var fit = SkewNormalDistribution.Fit(data);
        var scaled = SkewNormalDistribution.Fit([.. data.Select(x => (x / Math.Log(2)) + 5.0)]);
        Assert.Equal(fit.Shape, scaled.Shape, 1e-6);
        Assert.Equal((fit.Location / Math.Log(2)) + 5.0, scaled.Location, 1e-6);
        Assert.Equal(fit.Scale / Math.Log(2), scaled.Scale, 1e-6);
        Assert.True(fit.Shape < 0);
    }

    [Fact]
    public void LikelihoodDerivativesMatchFiniteDifferences()
    {
        // The Newton steps of the fit use the exact gradient and Hessian of the mean negative log-likelihood in
        // (α, ξ, log ω); check both against central differences at a point away from the optimum.
        var y = new Lcg(4).SkewNormal(300, 2.0, -0.5, 1.0);
        double[] theta = [1.3, -0.2, 0.1];
        var (gradient, hessian) = SkewNormalLikelihood.Derivatives(y, theta);
        const double h = 1e-5;
        for (var i = 0; i < 3; i++)
        {
            var plus = (double[])theta.Clone();
            var minus = (double[])theta.Clone();
            plus[i] += h;
            minus[i] -= h;
            var numeric = (SkewNormalLikelihood.MeanNegativeLogLikelihood(y, plus) - SkewNormalLikelihood.MeanNegativeLogLikelihood(y, minus)) / (2 * h);
            Assert.Equal(numeric, gradient[i], 1e-8);
            var (gPlus, _) = SkewNormalLikelihood.Derivatives(y, plus);
            var (gMinus, _) = SkewNormalLikelihood.Derivatives(y, minus);
            for (var j = 0; j < 3; j++)
            {
                Assert.Equal((gPlus[j] - gMinus[j]) / (2 * h), hessian[j, i], 1e-7);
            }
        }
    }

    [Fact]
    public void FitOfDataMoreSkewedThanTheFamilyTendsToTheHalfNormalLimit()
    {
        // Exponential data (skewness 2 > the skew-normal's limit 0.9953): the likelihood increases as α → ∞, where the
        // skew-normal becomes a half-normal starting at ξ. The fit stays finite, with α at the search bound (10⁶) and ξ at
        // the sample minimum.
        var rng = new Lcg(9);
        var data = Enumerable.Range(0, 5000).Select(_ => -Math.Log(rng.NextUniform())).ToArray();
        var fit = SkewNormalDistribution.Fit(data);
        Assert.InRange(fit.Shape, 1e3, SkewNormalLikelihood.MaxShape);
        Assert.InRange(fit.Location, data.Min() - 0.01, data.Min() + 1e-9);
        Assert.True(double.IsFinite(Exposure.ByExtrapolation(data.Min() - 0.1, fit)));
    }

    [Fact]
    public void FitRejectsDegenerateSamples()
    {
        Assert.Throws<ArgumentException>(() => SkewNormalDistribution.Fit([1.0, 2.0]));
        Assert.Throws<ArgumentException>(() => SkewNormalDistribution.Fit([3.0, 3.0, 3.0, 3.0]));
        Assert.Throws<ArgumentException>(() => SkewNormalDistribution.Fit([1.0, double.NaN, 2.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SkewNormalDistribution(1, 0, 0));
    }

    private static double[,] Invert3(double[,] m)
    {
        var det = (m[0, 0] * ((m[1, 1] * m[2, 2]) - (m[1, 2] * m[2, 1])))
            - (m[0, 1] * ((m[1, 0] * m[2, 2]) - (m[1, 2] * m[2, 0])))
            + (m[0, 2] * ((m[1, 0] * m[2, 1]) - (m[1, 1] * m[2, 0])));
        var inv = new double[3, 3];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                // Cofactor of (j, i) over the determinant.
                var r0 = (j + 1) % 3;
                var r1 = (j + 2) % 3;
                var c0 = (i + 1) % 3;
                var c1 = (i + 2) % 3;
                inv[i, j] = ((m[r0, c0] * m[r1, c1]) - (m[r0, c1] * m[r1, c0])) / det;
            }
        }

        return inv;
    }
}
