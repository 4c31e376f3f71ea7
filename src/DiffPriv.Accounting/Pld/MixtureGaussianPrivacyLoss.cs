using DiffPriv.Accounting.Numerics;

namespace DiffPriv.Accounting.Pld;

/// <summary>
/// Privacy loss of the mixture-of-Gaussians mechanism: Gaussian noise N(0, σ²) on a query whose sensitivity is
/// itself random, cᵢ with probability pᵢ (Choquette-Choo, Ganesh, Steinke &amp; Thakurta 2023, "Privacy
/// Amplification for Matrix Mechanisms", Corollary 4.7; dp_accounting's <c>MixtureGaussianPrivacyLoss</c>).
/// REMOVE: μ_upper = Σ pᵢ N(−cᵢ, σ²), μ_lower = N(0, σ²); ADD: μ_upper = N(0, σ²), μ_lower = Σ pᵢ N(cᵢ, σ²).
/// </summary>
/// <remarks>
/// L_REMOVE(x) = ln Σ pᵢ exp(−cᵢ²/(2σ²) − cᵢx/σ²) is a log-sum-exp of affine functions, hence convex and decreasing;
/// L_ADD(x) = −ln Σ pᵢ exp(−cᵢ²/(2σ²) + cᵢx/σ²) is concave and decreasing. The loss has no closed-form inverse:
/// dp_accounting bisects to a 1e-6 grid in x, here Newton's method converges to the root itself (monotonically,
/// from the side the convexity allows), safeguarded by a bracket. Sensitivities [1] with probabilities [1] are the
/// plain Gaussian; [0, 1] with [1 − q, q] the Poisson-subsampled one.
/// </remarks>
internal sealed class MixtureGaussianPrivacyLoss : MonotonePrivacyLoss
{
    private readonly double _sigma;
    private readonly double _variance;
    private readonly double[] _sensitivities;
    private readonly double[] _probabilities;
    private readonly double[] _logProbabilities;

    // ln pᵢ − cᵢ²/(2σ²): the loss is ±log-sum-exp of these plus ∓cᵢx/σ².
    private readonly double[] _constants;
    private readonly double _logMassTruncationBound;

    // q = Σ_{cᵢ>0} pᵢ, the probability that the record matters; ln(1 − q) bounds the losses as for subsampling.
    private readonly double _samplingProbability;
    private readonly double _minSensitivity;
    private readonly double _maxSensitivity;

    /// <summary>Creates the loss.</summary>
    /// <param name="standardDeviation">σ &gt; 0.</param>
    /// <param name="sensitivities">cᵢ ≥ 0, at least one &gt; 0 among those with pᵢ &gt; 0.</param>
    /// <param name="probabilities">pᵢ ∈ [0, 1] summing to 1 (to Python's isclose); entries with pᵢ = 0 are dropped.</param>
    /// <param name="adjacency">ADD or REMOVE.</param>
    /// <param name="logMassTruncationBound">ln of the noise mass left out of the finite grid (dp_accounting's default −50), ≤ 0.</param>
    public MixtureGaussianPrivacyLoss(double standardDeviation, IReadOnlyList<double> sensitivities, IReadOnlyList<double> probabilities, AdjacencyType adjacency = AdjacencyType.Remove, double logMassTruncationBound = -50)
        : base(adjacency)
    {
        if (adjacency == AdjacencyType.Replace)
        {
            throw new NotSupportedException("REPLACE adjacency is not supported by the mixture of Gaussians.");
        }

        if (!(standardDeviation > 0) || double.IsInfinity(standardDeviation))
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "σ must be finite and > 0.");
        }

        if (!(logMassTruncationBound <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(logMassTruncationBound), logMassTruncationBound, "The log mass truncation bound must be ≤ 0.");
        }

        if (sensitivities.Count != probabilities.Count)
        {
            throw new ArgumentException($"sensitivities ({sensitivities.Count}) and probabilities ({probabilities.Count}) must have the same length.", nameof(probabilities));
        }

        var c = new List<double>();
        var p = new List<double>();
        for (var i = 0; i < sensitivities.Count; i++)
        {
            if (!(probabilities[i] >= 0 && probabilities[i] <= 1))
            {
                throw new ArgumentOutOfRangeException(nameof(probabilities), probabilities[i], "Each probability must be in [0, 1].");
            }

            if (probabilities[i] == 0)
            {
                continue;
            }

            if (!(sensitivities[i] >= 0) || double.IsInfinity(sensitivities[i]))
            {
                throw new ArgumentOutOfRangeException(nameof(sensitivities), sensitivities[i], "Each sensitivity must be finite and ≥ 0.");
            }

            c.Add(sensitivities[i]);
            p.Add(probabilities[i]);
        }

        if (c.Count == 0 || c.Max() == 0)
        {
            throw new ArgumentException("At least one sensitivity with positive probability must be > 0.", nameof(sensitivities));
        }

        if (!PldMath.IsClose(p.Sum(), 1.0))
        {
            throw new ArgumentException($"The probabilities must add up to 1; they add up to {p.Sum()}.", nameof(probabilities));
        }

        _sigma = standardDeviation;
        _variance = standardDeviation * standardDeviation;
        _sensitivities = [.. c];
        _probabilities = [.. p];
        _logProbabilities = [.. p.Select(v => Math.Log(v))];
        _constants = new double[c.Count];
        for (var i = 0; i < c.Count; i++)
        {
            _constants[i] = _logProbabilities[i] - (c[i] * (0.5 * c[i]) / _variance);
        }

        _logMassTruncationBound = logMassTruncationBound;
        var q = 0.0;
        for (var i = 0; i < c.Count; i++)
        {
            if (c[i] > 0)
            {
                q += p[i];
            }
        }

        _samplingProbability = Math.Clamp(q, 0, 1);
        _minSensitivity = c.Where(v => v > 0).Min();
        _maxSensitivity = c.Max();
    }

    /// <summary>q = Σ pᵢ over the positive sensitivities.</summary>
    public double SamplingProbability => _samplingProbability;

    // ln(1 − q), −∞ when q = 1.
    private double Log1MinusQ => _samplingProbability < 1 ? LogMath.Log1p(-_samplingProbability) : double.NegativeInfinity;

    /// <inheritdoc />
    public override double PrivacyLoss(double x) => LossAndSlope(x).Loss;

    // L(x) and dL/dx = −Σ wᵢcᵢ/σ² with wᵢ the softmax weights of the log-sum-exp.
    private (double Loss, double Slope) LossAndSlope(double x)
    {
        var sign = Adjacency == AdjacencyType.Add ? 1.0 : -1.0;
        var max = double.NegativeInfinity;
        for (var i = 0; i < _constants.Length; i++)
        {
            max = Math.Max(max, _constants[i] + (sign * _sensitivities[i] * x / _variance));
        }

        if (double.IsInfinity(max))
        {
            // x = ±∞: the loss is ±∞ or the bound ∓ln(1 − q) set by the zero-sensitivity component.
            var limit = max > 0 ? double.PositiveInfinity : Log1MinusQ;
            return (Adjacency == AdjacencyType.Add ? -limit : limit, 0);
        }

        double sum = 0, weighted = 0;
        for (var i = 0; i < _constants.Length; i++)
        {
            var w = Math.Exp(_constants[i] + (sign * _sensitivities[i] * x / _variance) - max);
            sum += w;
            weighted += w * _sensitivities[i];
        }

        var lse = max + Math.Log(sum);
        return (Adjacency == AdjacencyType.Add ? -lse : lse, -weighted / sum / _variance);
    }

    /// <inheritdoc />
    public override double InversePrivacyLoss(double loss)
    {
        var log1MinusQ = Log1MinusQ;
        if (Adjacency == AdjacencyType.Add)
        {
            // ADD losses lie below −ln(1 − q).
            if (loss > -log1MinusQ || PldMath.IsClose(loss, -log1MinusQ))
            {
                return double.NegativeInfinity;
            }
        }
        else if (loss <= log1MinusQ || PldMath.IsClose(loss, log1MinusQ))
        {
            // REMOVE losses lie above ln(1 − q).
            return double.PositiveInfinity;
        }

        if (double.IsInfinity(loss))
        {
            return -loss;
        }

        var (lo, hi) = Bracket(loss);
        return SolveLoss(loss, lo, hi);
    }

    /// <summary>
    /// An interval holding L⁻¹(ℓ): the loss lies between those of the subsampled Gaussians that put all the mass of
    /// the positive sensitivities on the smallest or on the largest one (dp_accounting's bracket), whose inverses are closed-form.
    /// </summary>
    private (double Lo, double Hi) Bracket(double loss)
    {
        var q = _samplingProbability;

        // The unsampled loss ℓ' of a Gaussian subsampled with q that has loss ℓ.
        double unsampled = q == 1.0
            ? loss
            : Adjacency == AdjacencyType.Add
                ? -LogMath.Log1p(LogMath.Expm1(-loss) / q)
                : LogMath.Log1p(LogMath.Expm1(loss) / q);

        double Inverse(double c) =>
            (0.5 * c) - (unsampled * _variance / c) - (Adjacency == AdjacencyType.Remove ? c : 0);

        var a = Inverse(_minSensitivity);
        var b = Inverse(_maxSensitivity);
        var lo = Math.Min(a, b);
        var hi = Math.Max(a, b);
        if (!double.IsFinite(lo) || !double.IsFinite(hi))
        {
            var finite = double.IsFinite(lo) ? lo : double.IsFinite(hi) ? hi : 0.0;
            (lo, hi) = (finite, finite);
        }

        // Widen until the bracket is certain (rounding, or the ∞ fallback above).
        var width = Math.Max(1e-9 * (1 + Math.Abs(lo) + Math.Abs(hi)), 1e-9 * _sigma);
        lo -= width;
        hi += width;
        for (var step = Math.Max(hi - lo, _sigma); PrivacyLoss(lo) < loss; step *= 2)
        {
            lo -= step;
        }

        for (var step = Math.Max(hi - lo, _sigma); PrivacyLoss(hi) > loss; step *= 2)
        {
            hi += step;
        }

        return (lo, hi);
    }

    // Newton's method for L(x) = ℓ inside [lo, hi] with L(lo) ≥ ℓ ≥ L(hi). L is convex for REMOVE (start at lo)
    // and concave for ADD (start at hi): from that side every Newton step stays on it and approaches the root;
    // a bisection step is taken whenever rounding would push an iterate out of the bracket.
    private double SolveLoss(double loss, double lo, double hi)
    {
        var x = Adjacency == AdjacencyType.Remove ? lo : hi;
        for (var iteration = 0; iteration < 200; iteration++)
        {
            var (f, slope) = LossAndSlope(x);
            var g = f - loss;
            if (g == 0)
            {
                return x;
            }

            if (g > 0)
            {
                lo = x;
            }
            else
            {
                hi = x;
            }

            var next = slope < 0 ? x - (g / slope) : double.NaN;
            if (!(next > lo && next < hi))
            {
                next = 0.5 * (lo + hi);
            }

            if (Math.Abs(next - x) <= 2e-16 * Math.Max(Math.Abs(x), _sigma) || next == lo || next == hi)
            {
                return next;
            }

            x = next;
        }

        return x;
    }

    /// <summary>P[μ_upper ≤ x].</summary>
    public double MuUpperCdf(double x)
    {
        if (Adjacency == AdjacencyType.Add)
        {
            return NormalDistribution.Cdf(x / _sigma);
        }

        var sum = 0.0;
        for (var i = 0; i < _sensitivities.Length; i++)
        {
            sum += _probabilities[i] * NormalDistribution.Cdf((x + _sensitivities[i]) / _sigma);
        }

        return sum;
    }

    /// <summary>ln P[μ_lower ≤ x].</summary>
    public double MuLowerLogCdf(double x)
    {
        if (Adjacency == AdjacencyType.Remove)
        {
            return NormalDistribution.LogCdf(x / _sigma);
        }

        var result = double.NegativeInfinity;
        for (var i = 0; i < _sensitivities.Length; i++)
        {
            result = LogMath.LogAdd(result, _logProbabilities[i] + NormalDistribution.LogCdf((x - _sensitivities[i]) / _sigma));
        }

        return result;
    }

    /// <inheritdoc />
    public override double GetDeltaForEpsilon(double epsilon)
    {
        var log1MinusQ = Log1MinusQ;
        if (_samplingProbability < 1)
        {
            if (Adjacency == AdjacencyType.Add && epsilon >= -log1MinusQ)
            {
                return 0.0;
            }

            if (Adjacency == AdjacencyType.Remove && epsilon <= log1MinusQ)
            {
                return Math.Clamp(-LogMath.Expm1(epsilon), 0.0, 1.0);
            }
        }

        var x = InversePrivacyLoss(epsilon);
        return Math.Clamp(MuUpperCdf(x) - Math.Exp(epsilon + MuLowerLogCdf(x)), 0.0, 1.0);
    }

    /// <summary>
    /// δ on the grid, computed on all cores, then made non-increasing by raising each value to the largest one
    /// after it (dp_accounting's repair of rounding wiggles for this mechanism; raising keeps the PMF pessimistic).
    /// </summary>
    public override double[] GetDeltasOnGrid(long kLower, int count, double d)
    {
        var deltas = new double[count];
        Parallel.For(0, (count + 4095) / 4096, chunk =>
        {
            var end = Math.Min(count, (chunk + 1) * 4096);
            for (var i = chunk * 4096; i < end; i++)
            {
                deltas[i] = GetDeltaForEpsilon((kLower + i) * d);
            }
        });

        for (var i = count - 2; i >= 0; i--)
        {
            deltas[i] = Math.Max(deltas[i], deltas[i + 1]);
        }

        return deltas;
    }

    /// <summary>
    /// The x-range outside which μ_upper has mass ≤ ½e^bound on each side: upper x = −σ·Φ⁻¹(½e^bound); lower x the
    /// same point for ADD, and for REMOVE the point where the mixture's CDF reaches ½e^bound, found by bisection to
    /// 1e-4 on [z − max cᵢ, z] and taken from the conservative end (dp_accounting's <c>privacy_loss_tail</c>).
    /// </summary>
    public (double LowerX, double UpperX) TailBounds()
    {
        var logTail = Math.Log(0.5) + _logMassTruncationBound;
        var z = _sigma * NormalDistribution.InverseCdfFromLog(logTail);
        var upperX = -z;
        if (Adjacency == AdjacencyType.Add)
        {
            return (z, upperX);
        }

        var tail = Math.Exp(logTail);
        double lo = z - _maxSensitivity, hi = z;
        if (MuUpperCdf(lo) > tail)
        {
            return (z - _maxSensitivity, upperX);
        }

        while (hi - lo > 1e-4)
        {
            var mid = (lo + hi) / 2;
            if (MuUpperCdf(mid) <= tail)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return (lo, upperX);
    }

    /// <inheritdoc />
    public override (double Lower, double Upper) ConnectDotsBounds()
    {
        var (lowerX, upperX) = TailBounds();
        return (PrivacyLoss(upperX), PrivacyLoss(lowerX));
    }

    /// <inheritdoc />
    public override (double[] Upper, double[] Lower) CellMasses(double[] xs)
    {
        var n = xs.Length;
        var upper = new double[n - 1];
        var lower = new double[n - 1];
        var plain = new (double Cdf, double Sf)[n];
        var shifted = new (double Cdf, double Sf)[n];
        for (var i = 0; i < n; i++)
        {
            plain[i] = NormalDistribution.CdfAndSf(xs[i] / _sigma);
        }

        for (var i = 0; i + 1 < n; i++)
        {
            var m = PldMath.CellMass(plain[i], plain[i + 1]);
            if (Adjacency == AdjacencyType.Add)
            {
                upper[i] = m;
            }
            else
            {
                lower[i] = m;
            }
        }

        // The mixture side: Σ pᵢ N(∓cᵢ, σ²), one component at a time.
        var direction = Adjacency == AdjacencyType.Add ? -1.0 : 1.0;
        var mixture = Adjacency == AdjacencyType.Add ? lower : upper;
        for (var k = 0; k < _sensitivities.Length; k++)
        {
            for (var i = 0; i < n; i++)
            {
                shifted[i] = NormalDistribution.CdfAndSf((xs[i] + (direction * _sensitivities[k])) / _sigma);
            }

            for (var i = 0; i + 1 < n; i++)
            {
                mixture[i] += _probabilities[k] * PldMath.CellMass(shifted[i], shifted[i + 1]);
            }
        }

        return (upper, lower);
    }
}
