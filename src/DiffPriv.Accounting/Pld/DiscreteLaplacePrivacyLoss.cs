namespace DiffPriv.Accounting.Pld;

/// <summary>
/// Privacy loss of the discrete Laplace mechanism: an integer query with integer sensitivity Δ plus noise with mass
/// ∝ e^{−a|k|} on the integers k, optionally Poisson-subsampled (dp_accounting's <c>DiscreteLaplacePrivacyLoss</c>).
/// Without subsampling the REMOVE loss is a·(|x| − |x + Δ|).
/// </summary>
internal sealed class DiscreteLaplacePrivacyLoss : AdditiveNoisePrivacyLoss
{
    private readonly double _a;

    // r = e^{−a}.
    private readonly double _r;

    /// <summary>Creates the loss.</summary>
    /// <param name="parameter">a &gt; 0.</param>
    /// <param name="sensitivity">Δ, a positive integer.</param>
    /// <param name="samplingProbability">q ∈ (0, 1].</param>
    /// <param name="adjacency">ADD or REMOVE.</param>
    public DiscreteLaplacePrivacyLoss(double parameter, int sensitivity = 1, double samplingProbability = 1, AdjacencyType adjacency = AdjacencyType.Remove)
        : base(sensitivity, samplingProbability, adjacency)
    {
        if (!(parameter > 0) || double.IsInfinity(parameter))
        {
            throw new ArgumentOutOfRangeException(nameof(parameter), parameter, "The parameter must be finite and > 0.");
        }

        RejectReplace();
        _a = parameter;
        _r = Math.Exp(-parameter);
        IntegerSensitivity = sensitivity;
    }

    /// <summary>Δ as an integer.</summary>
    public int IntegerSensitivity { get; }

    // With r = e^{−a} and k = ⌊x⌋: P[X ≤ k] = r^{−k}/(1 + r) for k &lt; 0 and P[X &gt; k] = r^{k+1}/(1 + r) for k ≥ 0.
    protected override (double Cdf, double Sf) NoiseCdfSf(double x)
    {
        if (double.IsNegativeInfinity(x))
        {
            return (0, 1);
        }

        if (double.IsPositiveInfinity(x))
        {
            return (1, 0);
        }

        var k = Math.Floor(x);
        if (k < 0)
        {
            var c = Math.Exp(_a * k) / (1 + _r);
            return (c, 1 - c);
        }

        var s = Math.Exp(-_a * (k + 1)) / (1 + _r);
        return (1 - s, s);
    }

    protected override double LossWithoutSubsamplingRemove(double x) =>
        (Math.Abs(x) - Math.Abs(x + Sensitivity)) * _a;

    protected override double InverseLossWithoutSubsamplingRemove(double loss)
    {
        var threshold = loss / _a;
        if (threshold > Sensitivity)
        {
            return double.NegativeInfinity;
        }

        if (threshold <= -Sensitivity)
        {
            return double.PositiveInfinity;
        }

        return Math.Floor(0.5 * (-Sensitivity - threshold));
    }

    /// <summary>
    /// The integers [LowerX, UpperX] where the loss varies, and the two constant tails: loss L(LowerX − 1) with mass
    /// P[μ_upper ≤ LowerX − 1] and loss L(UpperX + 1) with mass 1 − P[μ_upper ≤ UpperX]
    /// (ADD: [1, Δ − 1]; REMOVE: [1 − Δ, −1]; dp_accounting's <c>privacy_loss_tail</c>).
    /// </summary>
    public (int LowerX, int UpperX, (double Loss, double Mass)[] Tail) PrivacyLossTail()
    {
        var (lowerX, upperX) = Adjacency == AdjacencyType.Add
            ? (1, IntegerSensitivity - 1)
            : (1 - IntegerSensitivity, -1);
        return (lowerX, upperX,
        [
            (PrivacyLoss(lowerX - 1), MuUpperCdf(lowerX - 1)),
            (PrivacyLoss(upperX + 1), 1 - MuUpperCdf(upperX)),
        ]);
    }

    /// <inheritdoc />
    public override (double Lower, double Upper) ConnectDotsBounds()
    {
        var (lowerX, upperX, _) = PrivacyLossTail();
        return (PrivacyLoss(upperX + 1), PrivacyLoss(lowerX - 1));
    }
}
