namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// The skew-normal distribution (Azzalini 1985) in scipy's parametrisation <c>skewnorm(a, loc, scale)</c>:
/// density f(x) = (2/ω)·φ(z)·Φ(α·z) with z = (x − ξ)/ω, shape α = <see cref="Shape"/>, location ξ =
/// <see cref="Location"/> and scale ω = <see cref="Scale"/>. α = 0 is the normal distribution N(ξ, ω²); α &gt; 0 skews
/// to the right. The Secret Sharer's extrapolated exposure fits this family to the scores of the reference candidates
/// (Carlini et al. 2019, §4.3; TF Privacy's <c>compute_exposure_extrapolation</c>).
/// </summary>
public sealed class SkewNormalDistribution
{
    private const double Ln2 = 0.69314718055994530942;

    // Below this value of Φ(z) − 2T(z, α) its absolute rounding error (≈ 1e-17) would cost more than 1e-13 relative
    // accuracy: the lower tail is integrated instead.
    private const double DirectCdfFloor = 1e-3;

    /// <summary>Creates a skew-normal distribution.</summary>
    /// <param name="shape">α, any finite real.</param>
    /// <param name="location">ξ, any finite real (in the units of the data).</param>
    /// <param name="scale">ω &gt; 0, finite (in the units of the data).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is not finite or ω ≤ 0.</exception>
    public SkewNormalDistribution(double shape, double location, double scale)
    {
        if (!double.IsFinite(shape))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "The shape α must be finite.");
        }

        if (!double.IsFinite(location))
        {
            throw new ArgumentOutOfRangeException(nameof(location), location, "The location ξ must be finite.");
        }

        if (!(scale > 0 && double.IsFinite(scale)))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale ω must be finite and > 0.");
        }

        Shape = shape;
        Location = location;
        Scale = scale;
    }

    /// <summary>α: the shape (skewness) parameter; 0 gives the normal distribution.</summary>
    public double Shape { get; }

    /// <summary>ξ: the location parameter (not the mean unless α = 0).</summary>
    public double Location { get; }

    /// <summary>ω &gt; 0: the scale parameter (not the standard deviation unless α = 0).</summary>
    public double Scale { get; }

    /// <summary>The mean ξ + ω·δ·√(2/π) with δ = α/√(1 + α²).</summary>
    public double Mean => Location + (Scale * Delta * Math.Sqrt(2.0 / Math.PI));

    /// <summary>The standard deviation ω·√(1 − 2δ²/π).</summary>
    public double StandardDeviation => Scale * Math.Sqrt(1.0 - (2.0 * Delta * Delta / Math.PI));

    private double Delta => Shape / Math.Sqrt(1.0 + (Shape * Shape));

    /// <summary>log f(x) = log 2 − log ω + log φ(z) + log Φ(α·z).</summary>
    public double LogPdf(double x)
    {
        var z = (x - Location) / Scale;
        return Ln2 - Math.Log(Scale) + NormalMath.LogPdf(z) + NormalMath.LogCdf(Shape * z);
    }

    /// <summary>f(x), the density (per unit of x).</summary>
    public double Pdf(double x) => Math.Exp(LogPdf(x));

    /// <summary>
    /// F(x) = P(X ≤ x) = Φ(z) − 2·T(z, α) with Owen's T; in the lower tail (F &lt; 10⁻³) by quadrature of the density,
    /// so F keeps its relative precision down to the smallest doubles (scipy likewise integrates the density where its
    /// Owen's T formula falls below 10⁻⁶).
    /// </summary>
    public double Cdf(double x)
    {
        var z = (x - Location) / Scale;
        var direct = DirectCdf(z);
        return direct >= DirectCdfFloor ? direct : Math.Exp(TailLogCdf(z));
    }

    /// <summary>log F(x), finite for every finite x (it does not underflow where F does).</summary>
    public double LogCdf(double x)
    {
        var z = (x - Location) / Scale;
        if (double.IsNegativeInfinity(z))
        {
            return double.NegativeInfinity;
        }

        var direct = DirectCdf(z);
        return direct >= DirectCdfFloor ? Math.Log(direct) : TailLogCdf(z);
    }

    /// <summary>Σᵢ log f(xᵢ), the log-likelihood of a sample.</summary>
    /// <param name="data">The sample.</param>
    public double LogLikelihood(IReadOnlyList<double> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var sum = 0.0;
        for (var i = 0; i < data.Count; i++)
        {
            sum += LogPdf(data[i]);
        }

        return sum;
    }

    /// <summary>
    /// The maximum-likelihood fit to a sample, as <c>scipy.stats.skewnorm.fit(data)</c> (the call in TF Privacy's
    /// <c>compute_exposure_extrapolation</c>): the same method-of-moments start (sample skewness clipped to ±0.99, biased
    /// moments), then Nelder–Mead on the mean negative log-likelihood over (α, ξ, log ω) of the standardised sample to
    /// scipy's tolerance, then Newton steps with the exact gradient and Hessian. scipy stops at its Nelder–Mead's
    /// xtol = ftol = 10⁻⁴ on (α, ξ, ω); this fit converges to machine precision, so it returns the maximum that scipy
    /// approximates to its optimiser's tolerance. When the sample skewness is beyond the family's limit
    /// (±0.9953) the likelihood grows as |α| → ∞ (the half-normal limit); the fit then returns |α| near 10⁶, the largest
    /// it searches.
    /// </summary>
    /// <param name="data">At least 3 finite values, not all equal.</param>
    /// <returns>The fitted distribution.</returns>
    /// <exception cref="ArgumentException">Fewer than 3 values, a non-finite value, or zero variance.</exception>
    public static SkewNormalDistribution Fit(IReadOnlyList<double> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var n = data.Count;
        if (n < 3)
        {
            throw new ArgumentException($"A skew-normal fit needs at least 3 values (got {n}).", nameof(data));
        }

        var mean = 0.0;
        for (var i = 0; i < n; i++)
        {
            if (!double.IsFinite(data[i]))
            {
                throw new ArgumentException($"Value {i} is not finite ({data[i]}).", nameof(data));
            }

            mean += data[i];
        }

        mean /= n;
        double m2 = 0, m3 = 0;
        for (var i = 0; i < n; i++)
        {
            var d = data[i] - mean;
            m2 += d * d;
            m3 += d * d * d;
        }

        m2 /= n;
        m3 /= n;
        if (!(m2 > 0))
        {
            throw new ArgumentException("A skew-normal fit needs values that are not all equal.", nameof(data));
        }

        // Standardise: the fit is equivariant under affine maps, and unit-scale data keeps the tolerances meaningful.
        var sd = Math.Sqrt(m2);
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            y[i] = (data[i] - mean) / sd;
        }

        // Method-of-moments start (scipy's skewnorm.fit): δ from the sample skewness, then scale and location from the
        // variance and mean (here 1 and 0).
        var skew = Math.Clamp(m3 / (m2 * sd), -0.99, 0.99);
        var s23 = Math.Pow(Math.Abs(skew), 2.0 / 3.0);
        var delta0 = Math.Sign(skew) * Math.Sqrt(Math.PI / 2.0 * s23 / (s23 + Math.Pow((4.0 - Math.PI) / 2.0, 2.0 / 3.0)));
        var shape0 = delta0 / Math.Sqrt(1.0 - (delta0 * delta0));
        var scale0 = Math.Sqrt(1.0 / (1.0 - (2.0 * delta0 * delta0 / Math.PI)));
        var location0 = -scale0 * delta0 * Math.Sqrt(2.0 / Math.PI);

        // Nelder–Mead into the basin of the maximum (scipy's own tolerances), then Newton's method with the exact
        // gradient and Hessian to converge to machine precision in a few steps.
        var (start, _, _) = NelderMead.Minimize(
            theta => SkewNormalLikelihood.MeanNegativeLogLikelihood(y, theta),
            [shape0, location0, Math.Log(scale0)],
            [0.25 + (0.25 * Math.Abs(shape0)), 0.1, 0.1],
            xTolerance: 1e-4,
            fTolerance: 1e-10,
            maxEvaluations: 5_000);
        var theta = SkewNormalLikelihood.NewtonPolish(y, start);
        return new SkewNormalDistribution(theta[0], mean + (sd * theta[1]), sd * Math.Exp(theta[2]));
    }

    /// <inheritdoc/>
    public override string ToString() => $"skewnorm(a = {Shape:G6}, loc = {Location:G6}, scale = {Scale:G6})";

    /// <summary>Φ(z) − 2T(z, α), clamped to [0, 1].</summary>
    private double DirectCdf(double z)
    {
        if (double.IsPositiveInfinity(z))
        {
            return 1.0;
        }

        var f = Shape == 0 ? NormalMath.Cdf(z) : NormalMath.Cdf(z) - (2.0 * OwensT.Evaluate(z, Shape));
        return Math.Clamp(f, 0.0, 1.0);
    }

    /// <summary>
    /// log F(z) for the standardised variable by quadrature: F(z) = e^{g(z)} ∫₀^∞ e^{g(z−u) − g(z)} du with
    /// g = log(2φ(t)Φ(αt)). The density is log-concave, so past the mode the integrand falls at least geometrically;
    /// panels are half the local length scale 1/max(g′, √(1 + α²)) wide, 20 Gauss–Legendre points each.
    /// </summary>
    private double TailLogCdf(double z)
    {
        var alpha = Shape;
        double G(double t) => Ln2 + NormalMath.LogPdf(t) + NormalMath.LogCdf(alpha * t);
        double Slope(double t) => -t + (alpha * NormalMath.PdfOverCdf(alpha * t));

        var g0 = G(z);
        if (double.IsNegativeInfinity(g0))
        {
            // z so far out that even log f(z) overflows (|z| ≳ 1e154).
            return double.NegativeInfinity;
        }

        var curvatureScale = Math.Sqrt(1.0 + (alpha * alpha));
        var total = 0.0;
        var u = 0.0;
        for (var panel = 0; panel < 100_000; panel++)
        {
            var slope = Slope(z - u);
            var width = 0.5 / Math.Max(Math.Abs(slope), curvatureScale);
            var part = GaussLegendre.Integrate(v => Math.Exp(G(z - v) - g0), u, u + width);
            total += part;
            u += width;
            if (slope > 0 && part <= 1e-17 * total)
            {
                break;
            }
        }

        return g0 + Math.Log(total);
    }
}
