using DiffPriv.Accounting.Numerics;
namespace DiffPriv.Accounting.Pld;

/// <summary>Discretisations of a mechanism's privacy loss onto the grid of multiples of the discretisation interval.</summary>
internal static class PmfBuilder
{
    /// <summary>
    /// Pessimistic "connect the dots" discretisation (Doroshenko, Ghazi, Kamath, Kumar &amp; Manurangsi 2022,
    /// Algorithm 1, fixed-gap form): with δᵢ the exact hockey-stick divergence at the grid losses εᵢ = i·d
    /// between the mechanism's connect-dots bounds, the PMF on those losses whose divergence curve passes through
    /// every (εᵢ, δᵢ) and interpolates between them; its divergence is ≥ the mechanism's for every ε, so
    /// every ε derived from it (also after composition) is an upper bound. The mass on +∞ is δ at the top point.
    /// </summary>
    public static PldPmf ConnectDots(MonotonePrivacyLoss loss, double d)
    {
        var (epsLower, epsUpper) = loss.ConnectDotsBounds();
        var kUpper = (long)Math.Ceiling(epsUpper / d);
        var kLower = (long)Math.Floor(epsLower / d);
        var count = checked((int)(kUpper - kLower + 1));
        var deltas = loss.GetDeltasOnGrid(kLower, count, d);

        if (count == 1)
        {
            return PldPmf.Create(d, kLower, [1 - deltas[0]], deltas[0], pessimistic: true);
        }

        // δ is non-increasing in ε; remove rounding wiggles as upstream does (running minimum).
        for (var i = 1; i < count; i++)
        {
            deltas[i] = Math.Min(deltas[i], deltas[i - 1]);
        }

        var expm1D = LogMath.Expm1(d);
        var expD = Math.Exp(d);
        var probs = new double[count];
        probs[0] = 1 - deltas[0] + ((deltas[1] - deltas[0]) / expm1D);
        for (var i = 1; i < count - 1; i++)
        {
            probs[i] = ((deltas[i + 1] - deltas[i]) - ((deltas[i] - deltas[i - 1]) * expD)) / expm1D;
        }

        probs[count - 1] = (deltas[count - 1] - deltas[count - 2]) / LogMath.Expm1(-d);
        for (var i = 0; i < count; i++)
        {
            probs[i] = Math.Max(0.0, probs[i]);
        }

        return PldPmf.Create(d, kLower, probs, deltas[count - 1], pessimistic: true);
    }

    /// <summary>
    /// Optimistic discretisation by randomised post-processing, so that every δ derived from it (also after
    /// composition) is a lower bound of the mechanism's.
    /// </summary>
    /// <remarks>
    /// <para>
    /// dp_accounting has no optimistic connect-the-dots (asking for one falls back to privacy buckets with losses
    /// rounded down, which under-estimates each loss by d/2 on average; after n compositions ε is under-estimated
    /// by about n·d/2). Here instead: cut x at the points where L(x) crosses a grid value, so every cell has its
    /// losses inside one grid gap, and merge each cell into one outcome (its loss is ln(μ_upper(cell)/μ_lower(cell))).
    /// Then walk the cells in increasing loss and emit outcomes whose loss is exactly a grid value by mixing the
    /// remainder of a cell below the grid value with the needed fraction β of the next cell above it.
    /// </para>
    /// <para>
    /// Merging outcomes and splitting an outcome at random are post-processing, so the resulting pair of
    /// distributions is a post-processing of (μ_upper, μ_lower) and its hockey-stick divergence is ≤ the true one for
    /// every ε (data-processing inequality); composition keeps this. The cell below the lowest grid cut (losses
    /// under the grid) is dropped, the top cell's loss is rounded down to the top grid value, and the last remainder is
    /// rounded down to the grid: dropping mass or lowering losses only lowers δ.
    /// </para>
    /// </remarks>
    public static PldPmf OptimisticMixing(MonotonePrivacyLoss loss, double d)
    {
        var (epsLower, epsUpper) = loss.ConnectDotsBounds();
        var kUpper = (long)Math.Ceiling(epsUpper / d);
        var kLower = (long)Math.Floor(epsLower / d);
        var gaps = checked((int)(kUpper - kLower + 1));

        // Cut points in increasing x: −∞, x(kUpper·d), …, x(kLower·d), +∞ with x(ℓ) the largest x where L(x) ≥ ℓ.
        var xs = new double[gaps + 2];
        xs[0] = double.NegativeInfinity;
        for (var i = 0; i < gaps; i++)
        {
            xs[i + 1] = loss.InversePrivacyLoss((kUpper - i) * d);
        }

        xs[gaps + 1] = double.PositiveInfinity;
        for (var i = 1; i < xs.Length; i++)
        {
            xs[i] = Math.Max(xs[i], xs[i - 1]);
        }

        var (upper, lower) = loss.CellMasses(xs);

        // Cell c (between xs[c] and xs[c+1]) has losses ≥ (kUpper − c)·d for c ≤ gaps − 1; the last cell (losses
        // below kLower·d) is dropped. Walk cells from high x (low loss) to low x.
        var outIndexLow = kLower;
        var outProbs = new double[gaps + 1];
        double carryP = 0, carryQ = 0;
        for (var c = gaps - 1; c >= 0; c--)
        {
            var p = upper[c];
            var q = lower[c];
            if (!(p > 0))
            {
                continue;
            }

            var floorLoss = (kUpper - c) * d;
            if (c == 0 || !(q > 0))
            {
                // Round the loss down to the cell's lower grid bound (the top cell may reach +∞).
                q = Math.Max(q, p * Math.Exp(-floorLoss));
            }

            if (carryP == 0)
            {
                (carryP, carryQ) = (p, q);
                continue;
            }

            var carryLoss = Math.Log(carryP / carryQ);
            var k = (long)Math.Ceiling(carryLoss / d);
            var g = k * d;
            var eg = Math.Exp(g);
            var cellExcess = p - (eg * q);       // ≥ 0 iff this cell's loss ≥ g
            var carryShortfall = (eg * carryQ) - carryP; // ≥ 0 since the carry's loss ≤ g
            if (cellExcess > 0 && carryShortfall <= cellExcess)
            {
                // Emit the carry plus the fraction β of this cell: (carryP + βp)/(carryQ + βq) = e^g exactly.
                var beta = Math.Max(0.0, carryShortfall / cellExcess);
                Add(ref outProbs, ref outIndexLow, k, carryP + (beta * p));
                (carryP, carryQ) = ((1 - beta) * p, (1 - beta) * q);
            }
            else
            {
                carryP += p;
                carryQ += q;
            }
        }

        if (carryP > 0)
        {
            Add(ref outProbs, ref outIndexLow, (long)Math.Floor(Math.Log(carryP / carryQ) / d), carryP);
        }

        // Trim zero ends.
        var first = 0;
        while (first < outProbs.Length - 1 && outProbs[first] == 0)
        {
            first++;
        }

        var last = outProbs.Length - 1;
        while (last > first && outProbs[last] == 0)
        {
            last--;
        }

        return PldPmf.Create(d, outIndexLow + first, outProbs[first..(last + 1)], 0.0, pessimistic: false);
    }

    /// <summary>
    /// "Privacy buckets" for a discrete mechanism (dp_accounting's algorithm for integer-valued noise): each integer
    /// outcome x where the loss varies, and each of the two constant tails, puts its μ_upper mass on its loss rounded
    /// up to the grid (pessimistic) or down (optimistic). Rounding losses up only raises δ(ε) for every ε, also after
    /// composition, and rounding down only lowers it, so the two bracket the mechanism.
    /// </summary>
    public static PldPmf PrivacyBuckets(DiscreteLaplacePrivacyLoss loss, double d, bool pessimistic)
    {
        var (lowerX, upperX, tail) = loss.PrivacyLossTail();
        var buckets = new SortedDictionary<long, double>();
        foreach (var (l, mass) in tail)
        {
            AddToBucket(buckets, Round(l / d, pessimistic), mass);
        }

        // Outcomes lowerX … upperX, each the mass between consecutive CDF values.
        var previous = loss.MuUpperCdf(lowerX - 1);
        for (var x = lowerX; x <= upperX; x++)
        {
            var cdf = loss.MuUpperCdf(x);
            AddToBucket(buckets, Round(loss.PrivacyLoss(x) / d, pessimistic), cdf - previous);
            previous = cdf;
        }

        return PldPmf.FromBuckets(d, buckets, 0.0, pessimistic);
    }

    /// <summary>Grid index of a loss: rounded up when pessimistic, down when optimistic.</summary>
    public static long Round(double scaledLoss, bool pessimistic) =>
        (long)(pessimistic ? Math.Ceiling(scaledLoss) : Math.Floor(scaledLoss));

    /// <summary>Adds mass to a bucket, creating it when absent (a present bucket of mass 0 still counts as an entry).</summary>
    public static void AddToBucket(SortedDictionary<long, double> buckets, long index, double mass) =>
        buckets[index] = buckets.GetValueOrDefault(index) + mass;

    private static void Add(ref double[] probs, ref long indexLow, long k, double mass)
    {
        if (k < indexLow)
        {
            var grow = checked((int)(indexLow - k));
            var bigger = new double[probs.Length + grow];
            Array.Copy(probs, 0, bigger, grow, probs.Length);
            probs = bigger;
            indexLow = k;
        }
        else if (k - indexLow >= probs.Length)
        {
            Array.Resize(ref probs, checked((int)(k - indexLow + 1)));
        }

        probs[k - indexLow] += mass;
    }
}
