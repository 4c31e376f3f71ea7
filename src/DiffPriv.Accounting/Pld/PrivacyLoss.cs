using DiffPriv.Accounting.Numerics;
namespace DiffPriv.Accounting.Pld;

/// <summary>Which pair of neighbouring datasets a privacy loss describes (dp_accounting's AdjacencyType).</summary>
internal enum AdjacencyType
{
    /// <summary>The neighbour has one more record: μ_upper = μ, μ_lower = (1−q)μ + q·μ(· − Δ).</summary>
    Add,

    /// <summary>The neighbour has one record fewer: μ_upper = (1−q)μ + q·μ(· + Δ), μ_lower = μ.</summary>
    Remove,

    /// <summary>One record is replaced by another: μ_upper = (1−q)μ + q·μ(· + Δ), μ_lower = (1−q)μ + q·μ(· − Δ).</summary>
    Replace,
}

/// <summary>
/// A privacy loss L(x) = ln(μ_upper(x)/μ_lower(x)) that is non-increasing in x (dp_accounting's
/// <c>MonotonePrivacyLoss</c>): everything the PMF builders need from a mechanism.
/// </summary>
internal abstract class MonotonePrivacyLoss
{
    protected MonotonePrivacyLoss(AdjacencyType adjacency)
    {
        Adjacency = adjacency;
    }

    /// <summary>ADD, REMOVE or REPLACE.</summary>
    public AdjacencyType Adjacency { get; }

    /// <summary>L(x) = ln(μ_upper(x)/μ_lower(x)).</summary>
    public abstract double PrivacyLoss(double x);

    /// <summary>The largest x with L(x) ≥ <paramref name="loss"/>; ±∞ when no finite x is the answer.</summary>
    public abstract double InversePrivacyLoss(double loss);

    /// <summary>Range [ε_lower, ε_upper] of losses the connect-the-dots grid must cover.</summary>
    public abstract (double Lower, double Upper) ConnectDotsBounds();

    /// <summary>
    /// The exact hockey-stick divergence δ(ε) = sup_S μ_upper(S) − e^ε μ_lower(S) of the mechanism
    /// (the set S = {x ≤ L⁻¹(ε)} attains it since L is monotone).
    /// </summary>
    /// <param name="epsilon">ε, any real (negative allowed).</param>
    /// <returns>δ ∈ [0, 1].</returns>
    public abstract double GetDeltaForEpsilon(double epsilon);

    /// <summary>δ at the grid losses (kLower + i)·d for i = 0 … count − 1, non-increasing.</summary>
    public virtual double[] GetDeltasOnGrid(long kLower, int count, double d)
    {
        var deltas = new double[count];
        for (var i = 0; i < count; i++)
        {
            deltas[i] = GetDeltaForEpsilon((kLower + i) * d);
        }

        return deltas;
    }

    /// <summary>
    /// Masses of μ_upper and μ_lower on the cells (xs[i], xs[i+1]] of an increasing list of cut points (±∞ allowed),
    /// each computed from the side of the distribution where it is small so tiny cells keep their relative accuracy.
    /// </summary>
    public abstract (double[] Upper, double[] Lower) CellMasses(double[] xs);
}

/// <summary>
/// Privacy loss of an additive-noise mechanism with symmetric noise μ, sensitivity Δ and Poisson subsampling
/// with probability q (Meiser &amp; Mohammadi 2018; Koskela et al. 2020; the layout of dp_accounting's
/// <c>AdditiveNoisePrivacyLoss</c>). The loss L(x) = ln(μ_upper(x)/μ_lower(x)) is non-increasing in x.
/// </summary>
internal abstract class AdditiveNoisePrivacyLoss : MonotonePrivacyLoss
{
    protected AdditiveNoisePrivacyLoss(double sensitivity, double samplingProbability, AdjacencyType adjacency)
        : base(adjacency)
    {
        if (!(sensitivity > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(sensitivity), sensitivity, "Sensitivity must be > 0.");
        }

        if (!(samplingProbability > 0 && samplingProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingProbability), samplingProbability, "Sampling probability must be in (0, 1].");
        }

        Sensitivity = sensitivity;
        SamplingProbability = samplingProbability;
        _log1MinusQ = LogMath.Log1p(-samplingProbability);
    }

    // ln(1 − q): REMOVE losses lie above it, ADD losses below its negation.
    private readonly double _log1MinusQ;

    /// <summary>Δ.</summary>
    public double Sensitivity { get; }

    /// <summary>q ∈ (0, 1].</summary>
    public double SamplingProbability { get; }

    /// <summary>CDF and survival function of the noise μ at x, each accurate on its small side.</summary>
    protected abstract (double Cdf, double Sf) NoiseCdfSf(double x);

    /// <summary>Loss without subsampling for REMOVE: ln(μ(x + Δ)/μ(x)).</summary>
    protected abstract double LossWithoutSubsamplingRemove(double x);

    /// <summary>Largest x whose REMOVE loss without subsampling is ≥ <paramref name="loss"/> (±∞ allowed).</summary>
    protected abstract double InverseLossWithoutSubsamplingRemove(double loss);

    /// <summary>Largest x whose REPLACE loss is ≥ <paramref name="loss"/>; only mechanisms that support REPLACE override it.</summary>
    protected virtual double InverseLossReplace(double loss) =>
        throw new NotSupportedException($"REPLACE adjacency is not supported by {GetType().Name}.");

    /// <summary>Throws when REPLACE is asked of a mechanism that has no inverse for it (as dp_accounting's constructor).</summary>
    protected void RejectReplace()
    {
        if (Adjacency == AdjacencyType.Replace)
        {
            throw new NotSupportedException($"REPLACE adjacency is not supported by {GetType().Name}.");
        }
    }

    /// <inheritdoc />
    public override double PrivacyLoss(double x) => Adjacency switch
    {
        AdjacencyType.Add => -LossRemove(-x),
        AdjacencyType.Remove => LossRemove(x),
        _ => LossRemove(x) - LossRemove(-x),
    };

    private double LossRemove(double x)
    {
        var plain = LossWithoutSubsamplingRemove(x);
        var q = SamplingProbability;
        return q == 1.0 ? plain : PldMath.LogATimesExpBPlusC(q, plain, 1 - q);
    }

    /// <inheritdoc />
    public override double InversePrivacyLoss(double loss)
    {
        var q = SamplingProbability;
        if (Adjacency == AdjacencyType.Replace)
        {
            return InverseLossReplace(loss);
        }

        if (Adjacency == AdjacencyType.Add)
        {
            if (q == 1.0)
            {
                return Sensitivity + InverseLossWithoutSubsamplingRemove(loss);
            }

            var cap = -_log1MinusQ;
            if (loss > cap)
            {
                // ADD losses never reach −ln(1−q).
                return double.NegativeInfinity;
            }

            if (PldMath.IsClose(loss, cap))
            {
                return Sensitivity + InverseLossWithoutSubsamplingRemove(double.PositiveInfinity);
            }

            // Solve −ln(1 − q + q·e^{−ℓ'}) = ℓ for the unsampled loss ℓ' = −ln(1 + (e^{−ℓ} − 1)/q).
            return Sensitivity + InverseLossWithoutSubsamplingRemove(-LogMath.Log1p(LogMath.Expm1(-loss) / q));
        }

        if (q == 1.0)
        {
            return InverseLossWithoutSubsamplingRemove(loss);
        }

        var floor = _log1MinusQ;
        if (loss <= floor || PldMath.IsClose(loss, floor))
        {
            // Every REMOVE loss exceeds ln(1−q).
            return double.PositiveInfinity;
        }

        // Solve ln(1 − q + q·e^{ℓ'}) = ℓ for ℓ' = ln(1 + (e^ℓ − 1)/q).
        return InverseLossWithoutSubsamplingRemove(LogMath.Log1p(LogMath.Expm1(loss) / q));
    }

    /// <summary>P[μ_upper ≤ x].</summary>
    public double MuUpperCdf(double x) => CdfPair(x).Upper;

    /// <summary>P[μ_lower ≤ x].</summary>
    public double MuLowerCdf(double x) => CdfPair(x).Lower;

    // Both CDFs at x from the noise CDF at x − Δ, x and x + Δ (as needed).
    private (double Upper, double Lower) CdfPair(double x)
    {
        var q = SamplingProbability;
        var plain = NoiseCdfSf(x).Cdf;
        var upper = Adjacency == AdjacencyType.Add ? plain : Mix(plain, NoiseCdfSf(x + Sensitivity).Cdf);
        var lower = Adjacency == AdjacencyType.Remove ? plain : Mix(plain, NoiseCdfSf(x - Sensitivity).Cdf);
        return (upper, lower);

        double Mix(double unshifted, double shifted) => q == 1.0 ? shifted : ((1 - q) * unshifted) + (q * shifted);
    }

    /// <summary>ln P[μ_lower ≤ x]; overridden where the CDF can underflow.</summary>
    public virtual double MuLowerLogCdf(double x) => Math.Log(MuLowerCdf(x));

    /// <inheritdoc />
    public override double GetDeltaForEpsilon(double epsilon)
    {
        var q = SamplingProbability;
        if (q < 1.0)
        {
            if (Adjacency == AdjacencyType.Add && epsilon >= -_log1MinusQ)
            {
                return 0.0;
            }

            if (Adjacency == AdjacencyType.Remove && epsilon <= _log1MinusQ)
            {
                return Math.Clamp(-LogMath.Expm1(epsilon), 0.0, 1.0);
            }
        }

        var x = InversePrivacyLoss(epsilon);
        var (upper, lower) = CdfPair(x);
        var scaled = lower > 1e-290 && epsilon < 700 ? Math.Exp(epsilon) * lower : Math.Exp(epsilon + MuLowerLogCdf(x));
        return Math.Clamp(upper - scaled, 0.0, 1.0);
    }

    /// <inheritdoc />
    public override (double[] Upper, double[] Lower) CellMasses(double[] xs)
    {
        var n = xs.Length;
        var at0 = new (double Cdf, double Sf)[n];
        var atPlus = new (double Cdf, double Sf)[n];
        var atMinus = new (double Cdf, double Sf)[n];
        var q = SamplingProbability;
        for (var i = 0; i < n; i++)
        {
            at0[i] = NoiseCdfSf(xs[i]);
            if (Adjacency != AdjacencyType.Add)
            {
                atPlus[i] = NoiseCdfSf(xs[i] + Sensitivity);
            }

            if (Adjacency != AdjacencyType.Remove)
            {
                atMinus[i] = NoiseCdfSf(xs[i] - Sensitivity);
            }
        }

        var upper = new double[n - 1];
        var lower = new double[n - 1];
        for (var i = 0; i + 1 < n; i++)
        {
            var plain = PldMath.CellMass(at0[i], at0[i + 1]);
            upper[i] = Adjacency == AdjacencyType.Add ? plain : Mix(plain, PldMath.CellMass(atPlus[i], atPlus[i + 1]));
            lower[i] = Adjacency == AdjacencyType.Remove ? plain : Mix(plain, PldMath.CellMass(atMinus[i], atMinus[i + 1]));
        }

        return (upper, lower);

        double Mix(double unshifted, double shifted) => q == 1.0 ? shifted : ((1 - q) * unshifted) + (q * shifted);
    }
}

/// <summary>Privacy loss of the Gaussian mechanism N(0, σ²) with sensitivity Δ, optionally Poisson-subsampled.</summary>
internal sealed class GaussianPrivacyLoss : AdditiveNoisePrivacyLoss
{
    private readonly double _sigma;
    private readonly double _logMassTruncationBound;

    /// <summary>Creates the loss.</summary>
    /// <param name="standardDeviation">σ &gt; 0.</param>
    /// <param name="sensitivity">Δ &gt; 0.</param>
    /// <param name="samplingProbability">q ∈ (0, 1].</param>
    /// <param name="adjacency">ADD, REMOVE or REPLACE.</param>
    /// <param name="logMassTruncationBound">ln of the noise mass left out of the finite grid (dp_accounting's default −50).</param>
    public GaussianPrivacyLoss(double standardDeviation, double sensitivity = 1, double samplingProbability = 1, AdjacencyType adjacency = AdjacencyType.Remove, double logMassTruncationBound = -50)
        : base(sensitivity, samplingProbability, adjacency)
    {
        if (!(standardDeviation > 0) || double.IsInfinity(standardDeviation))
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "σ must be finite and > 0.");
        }

        _sigma = standardDeviation;
        _logMassTruncationBound = logMassTruncationBound;
    }

    protected override (double Cdf, double Sf) NoiseCdfSf(double x) => NormalDistribution.CdfAndSf(x / _sigma);

    protected override double LossWithoutSubsamplingRemove(double x) =>
        Sensitivity * ((-0.5 * Sensitivity) - x) / (_sigma * _sigma);

    protected override double InverseLossWithoutSubsamplingRemove(double loss) =>
        (-0.5 * Sensitivity) - (loss * _sigma * _sigma / Sensitivity);

    /// <summary>
    /// REPLACE: with α = e^{Δ²/(2σ²)}·(1 − q)/q the loss ℓ is attained at x = σ²/Δ·(asinh(−sinh(ℓ/2)·α) − ℓ/2)
    /// (dp_accounting's supplementary material), computed in log space so large α or ℓ do not overflow.
    /// </summary>
    protected override double InverseLossReplace(double loss)
    {
        var variance = _sigma * _sigma;
        if (loss == 0)
        {
            return 0.0;
        }

        var q = SamplingProbability;
        if (q == 1.0)
        {
            return -loss * variance / Sensitivity / 2;
        }

        if (double.IsInfinity(loss))
        {
            return -loss;
        }

        var logAlpha = (0.5 * (Sensitivity / _sigma) * (Sensitivity / _sigma)) + LogMath.Log1p(-q) - Math.Log(q);
        var logSinhTerm = logAlpha + PldMath.LogSinh(Math.Abs(loss) / 2);
        var asinhTerm = PldMath.AsinhExp(logSinhTerm, loss >= 0 ? -1.0 : 1.0);
        return variance / Sensitivity * (asinhTerm - (loss / 2));
    }

    /// <inheritdoc />
    public override double MuLowerLogCdf(double x)
    {
        var q = SamplingProbability;
        if (Adjacency == AdjacencyType.Remove)
        {
            return NormalDistribution.LogCdf(x / _sigma);
        }

        var shifted = NormalDistribution.LogCdf((x - Sensitivity) / _sigma);
        return q == 1.0 ? shifted : LogMath.LogAdd(LogMath.Log1p(-q) + NormalDistribution.LogCdf(x / _sigma), Math.Log(q) + shifted);
    }

    /// <summary>
    /// The x-range outside which the noise mass is below exp(logMassTruncationBound):
    /// ±σ·Φ⁻¹(½e^bound), widened by Δ on the side the shifted component lives.
    /// </summary>
    public (double LowerX, double UpperX) TailBounds()
    {
        var lowerX = _sigma * NormalDistribution.InverseCdfFromLog(Math.Log(0.5) + _logMassTruncationBound);
        var upperX = -lowerX;
        if (Adjacency == AdjacencyType.Add)
        {
            upperX += Sensitivity;
        }
        else
        {
            lowerX -= Sensitivity;
        }

        return (lowerX, upperX);
    }

    /// <inheritdoc />
    public override (double Lower, double Upper) ConnectDotsBounds()
    {
        var (lowerX, upperX) = TailBounds();
        return (PrivacyLoss(upperX), PrivacyLoss(lowerX));
    }
}

/// <summary>Privacy loss of the Laplace mechanism Lap(0, b) with sensitivity Δ, optionally Poisson-subsampled.</summary>
internal sealed class LaplacePrivacyLoss : AdditiveNoisePrivacyLoss
{
    private readonly double _b;

    /// <summary>Creates the loss.</summary>
    /// <param name="parameter">b &gt; 0, the Laplace scale.</param>
    /// <param name="sensitivity">Δ &gt; 0.</param>
    /// <param name="samplingProbability">q ∈ (0, 1].</param>
    /// <param name="adjacency">ADD or REMOVE.</param>
    public LaplacePrivacyLoss(double parameter, double sensitivity = 1, double samplingProbability = 1, AdjacencyType adjacency = AdjacencyType.Remove)
        : base(sensitivity, samplingProbability, adjacency)
    {
        if (!(parameter > 0) || double.IsInfinity(parameter))
        {
            throw new ArgumentOutOfRangeException(nameof(parameter), parameter, "b must be finite and > 0.");
        }

        _b = parameter;
        RejectReplace();
    }

    protected override (double Cdf, double Sf) NoiseCdfSf(double x)
    {
        if (x <= 0)
        {
            var c = 0.5 * Math.Exp(x / _b);
            return (c, 1.0 - c);
        }

        var s = 0.5 * Math.Exp(-x / _b);
        return (1.0 - s, s);
    }

    protected override double LossWithoutSubsamplingRemove(double x) =>
        (Math.Abs(x) - Math.Abs(x + Sensitivity)) / _b;

    protected override double InverseLossWithoutSubsamplingRemove(double loss)
    {
        var threshold = loss * _b;
        if (threshold > Sensitivity)
        {
            return double.NegativeInfinity;
        }

        if (threshold <= -Sensitivity)
        {
            return double.PositiveInfinity;
        }

        return 0.5 * (-Sensitivity - threshold);
    }

    /// <inheritdoc />
    public override (double Lower, double Upper) ConnectDotsBounds()
    {
        var maxLoss = Sensitivity / _b;
        var q = SamplingProbability;
        if (q == 1.0)
        {
            return (-maxLoss, maxLoss);
        }

        return Adjacency == AdjacencyType.Add
            ? (-Math.Log(1 - q + (q * Math.Exp(maxLoss))), -Math.Log(1 - q + (q * Math.Exp(-maxLoss))))
            : (Math.Log(1 - q + (q * Math.Exp(-maxLoss))), Math.Log(1 - q + (q * Math.Exp(maxLoss))));
    }
}
