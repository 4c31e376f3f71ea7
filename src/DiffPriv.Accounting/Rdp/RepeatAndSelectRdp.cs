namespace DiffPriv.Accounting.Rdp;

/// <summary>
/// Rényi DP of running a mechanism a random number of times and releasing only the best run (Papernot &amp; Steinke
/// 2022, "Hyperparameter Tuning with Renyi Differential Privacy", arXiv 2110.03620v2), for the truncated negative
/// binomial family of run counts (shape 0 logarithmic, 1 geometric, +∞ Poisson). The formulas and the numerical
/// scheme are those of dp_accounting's RdpAccountant.
/// </summary>
internal static class RepeatAndSelectRdp
{
    /// <summary>Relative accuracy of γ found from the mean (dp_accounting's default).</summary>
    private const double GammaTolerance = 1e-9;

    /// <summary>
    /// The RDP curve of repeat-and-select, from the curve of one run at the same orders. Orders not above 1 get +∞
    /// (the formulas do not apply there).
    /// </summary>
    /// <param name="orders">The orders α.</param>
    /// <param name="rdp">One run's RDP at each order.</param>
    /// <param name="mean">The mean number of runs, ≥ 1.</param>
    /// <param name="shape">The shape, ≥ 0 or +∞.</param>
    public static double[] Compute(IReadOnlyList<double> orders, IReadOnlyList<double> rdp, double mean, double shape)
    {
        var n = orders.Count;
        var result = new double[n];
        Array.Fill(result, double.PositiveInfinity);
        if (double.IsPositiveInfinity(shape))
        {
            // Poisson number of runs (Theorem 6): ε(α) + μ·δ̂ + log(μ)/(α − 1), δ̂ the δ of one run at ε̂ = log(1 + 1/(α − 1)).
            for (var i = 0; i < n; i++)
            {
                var a = orders[i];
                if (!(a > 1))
                {
                    continue;
                }

                var epsHat = Numerics.LogMath.Log1p(1 / (a - 1));
                var (deltaHat, _) = RdpMath.Delta(orders, rdp, epsHat);
                result[i] = rdp[i] + (mean * deltaHat) + (Math.Log(mean) / (a - 1));
            }

            return result;
        }

        // Truncated negative binomial (Theorem 2): ε(α) + log(μ)/(α − 1) + (1 + η)·min over α̂ of
        // ((1 − 1/α̂)·ε(α̂) − log(γ)/α̂), with γ the distribution's parameter for mean μ and shape η.
        var gamma = GammaFromMean(shape, mean);
        var logGamma = Math.Log(gamma);
        var minimum = double.PositiveInfinity;
        for (var j = 0; j < n; j++)
        {
            var a = orders[j];
            minimum = Math.Min(minimum, ((1 - (1 / a)) * rdp[j]) - (logGamma / a));
        }

        var constant = (1 + shape) * minimum;
        for (var i = 0; i < n; i++)
        {
            if (orders[i] > 1)
            {
                result[i] = rdp[i] + (Math.Log(mean) / (orders[i] - 1)) + constant;
            }
        }

        // RDP does not decrease with the order, so a higher order's bound also holds at a lower one.
        var monotone = new double[n];
        for (var i = 0; i < n; i++)
        {
            var best = double.PositiveInfinity;
            for (var j = 0; j < n; j++)
            {
                if (orders[i] <= orders[j])
                {
                    best = Math.Min(best, result[j]);
                }
            }

            monotone[i] = best;
        }

        return monotone;
    }

    /// <summary>
    /// The mean of the truncated negative binomial distribution with parameter γ ∈ (0, 1] and shape η ≥ 0
    /// (Definition 1): η(1/γ − 1)/(1 − γ^η), 1/γ for η = 1, (1 − 1/γ)/log γ for η = 0, evaluated stably.
    /// </summary>
    public static double Mean(double gamma, double shape)
    {
        if (shape == 1)
        {
            return 1 / gamma;
        }

        if (shape == 0)
        {
            return 1 / (gamma * LogXOverXMinus1(gamma));
        }

        return 1 / (gamma * ExpM1OverX(shape * Math.Log(gamma)) * LogXOverXMinus1(gamma));
    }

    /// <summary>
    /// The parameter γ of the truncated negative binomial with the given shape and mean, by bisection to a relative
    /// 1e-9; the lower end (conservative: more runs) is returned.
    /// </summary>
    public static double GammaFromMean(double shape, double mean)
    {
        if (shape == 1)
        {
            return 1 / mean;
        }

        var lo = 0.0;
        var hi = Math.Min(1, 2 * (shape + 1) / mean);
        while (hi > lo * (1 + GammaTolerance))
        {
            var mid = (lo + hi) / 2;
            if (Mean(mid, shape) < mean)
            {
                hi = mid;
            }
            else
            {
                lo = mid;
            }
        }

        return lo;
    }

    /// <summary>(eˣ − 1)/x, by its Taylor series for |x| ≤ 0.1.</summary>
    public static double ExpM1OverX(double x)
    {
        if (x < -0.1 || x > 0.1)
        {
            return Numerics.LogMath.Expm1(x) / x;
        }

        // Σ_{k≥1} x^{k−1}/k!, the terms summed smallest first.
        var terms = new double[99];
        var y = 1.0;
        for (var k = 1; k < 100; k++)
        {
            y /= k;
            terms[k - 1] = y;
            y *= x;
        }

        return SumSmallestFirst(terms);
    }

    /// <summary>log(x)/(x − 1), by its Taylor series for 0.9 ≤ x ≤ 1.1.</summary>
    public static double LogXOverXMinus1(double x)
    {
        if (x < 0.9 || x > 1.1)
        {
            return Math.Log(x) / (x - 1);
        }

        // With y = 1 − x: −log(1 − y)/y = Σ_{k≥1} y^{k−1}/k.
        var y = 1 - x;
        var terms = new double[99];
        for (var k = 1; k < 100; k++)
        {
            terms[k - 1] = Math.Pow(y, k - 1) / k;
        }

        return SumSmallestFirst(terms);
    }

    private static double SumSmallestFirst(double[] terms)
    {
        var sorted = (double[])terms.Clone();
        Array.Sort(sorted, (a, b) => Math.Abs(a).CompareTo(Math.Abs(b)));
        var sum = 0.0;
        var compensation = 0.0;
        foreach (var t in sorted)
        {
            // Kahan–Babuška summation, near math.fsum's correctly rounded sum for these short series.
            var next = sum + t;
            compensation += Math.Abs(sum) >= Math.Abs(t) ? (sum - next) + t : (t - next) + sum;
            sum = next;
        }

        return sum + compensation;
    }
}
