using System.Runtime.Intrinsics;
using DiffPriv.Accounting.Numerics;

namespace DiffPriv.Accounting.Pld;

/// <summary>
/// Probability mass function of a discretised privacy loss distribution: mass <c>Probs[i]</c> at loss
/// <c>(LowerIndex + i)·Discretization</c>, plus <see cref="InfinityMass"/> at +∞ (dp_accounting's PLDPmf).
/// </summary>
/// <remarks>
/// Storage is always a dense array. dp_accounting switches between a sparse dictionary (≤ 1000 points) and a dense
/// array; what differs is only the algorithm used on small inputs, so <see cref="IsSparse"/> records which one
/// upstream would hold and selects the same algorithm: exact direct convolution for small sparse PMFs, FFT otherwise.
/// </remarks>
internal sealed class PldPmf
{
    /// <summary>Above this many points upstream stores a PMF densely.</summary>
    public const int MaxSparseSize = 1000;

    public PldPmf(double discretization, long lowerIndex, double[] probs, double infinityMass, bool pessimistic, bool isSparse, bool[]? present = null)
    {
        Discretization = discretization;
        LowerIndex = lowerIndex;
        Probs = probs;
        InfinityMass = infinityMass;
        Pessimistic = pessimistic;
        IsSparse = isSparse;
        Present = isSparse ? present : null;
        EntryCount = Present is null ? probs.Length : Present.Count(p => p);
    }

    /// <summary>Grid step of the losses.</summary>
    public double Discretization { get; }

    /// <summary>Index of the smallest loss on the grid.</summary>
    public long LowerIndex { get; }

    /// <summary>Masses of consecutive grid losses.</summary>
    public double[] Probs { get; }

    /// <summary>Mass of the loss +∞.</summary>
    public double InfinityMass { get; }

    /// <summary>Whether rounding is pessimistic (δ over-estimated) or optimistic (δ under-estimated).</summary>
    public bool Pessimistic { get; }

    /// <summary>Whether dp_accounting would store this PMF as a dictionary.</summary>
    public bool IsSparse { get; }

    /// <summary>Number of grid points.</summary>
    public int Size => Probs.Length;

    /// <summary>
    /// For a sparse PMF with gaps, which grid points upstream's dictionary holds (null: all of them). Only the
    /// choice between the sparse and dense algorithms depends on it.
    /// </summary>
    public bool[]? Present { get; }

    /// <summary>Number of entries upstream's dictionary (sparse) or array (dense) holds.</summary>
    public int EntryCount { get; }

    /// <summary>The PLD of a mechanism that reveals nothing: loss 0 with probability 1.</summary>
    public static PldPmf Identity(double discretization, bool pessimistic) =>
        new(discretization, 0, [1.0], 0.0, pessimistic, isSparse: true);

    /// <summary>Upstream's <c>create_pmf</c>: sparse when there are at most 1000 points.</summary>
    public static PldPmf Create(double discretization, long lowerIndex, double[] probs, double infinityMass, bool pessimistic) =>
        new(discretization, lowerIndex, probs, infinityMass, pessimistic, probs.Length <= MaxSparseSize);

    /// <summary>Upstream's <c>create_pmf</c> from a dictionary of grid index → mass (stored densely, with its keys remembered).</summary>
    public static PldPmf FromBuckets(double discretization, SortedDictionary<long, double> buckets, double infinityMass, bool pessimistic)
    {
        var lower = buckets.Keys.First();
        var length = checked((int)(buckets.Keys.Last() - lower + 1));
        var probs = new double[length];
        var present = new bool[length];
        foreach (var (index, mass) in buckets)
        {
            probs[index - lower] = mass;
            present[index - lower] = true;
        }

        return new PldPmf(discretization, lower, probs, infinityMass, pessimistic, buckets.Count <= MaxSparseSize, present);
    }

    /// <summary>selfWeight·this + (1 − selfWeight)·other, as a dense PMF (upstream's <c>compute_mixture</c>).</summary>
    public PldPmf ComputeMixture(PldPmf other, double selfWeight)
    {
        ValidateComposable(other);
        if (!(selfWeight >= 0 && selfWeight <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(selfWeight), selfWeight, "The weight must be in [0, 1].");
        }

        if (selfWeight == 0)
        {
            return other;
        }

        if (selfWeight == 1)
        {
            return this;
        }

        var lower = Math.Min(LowerIndex, other.LowerIndex);
        var upper = Math.Max(LowerIndex + Size, other.LowerIndex + other.Size);
        var probs = new double[checked((int)(upper - lower))];
        for (var i = 0; i < Size; i++)
        {
            probs[LowerIndex - lower + i] += selfWeight * Probs[i];
        }

        for (var i = 0; i < other.Size; i++)
        {
            probs[other.LowerIndex - lower + i] += (1 - selfWeight) * other.Probs[i];
        }

        var infinity = (InfinityMass * selfWeight) + (other.InfinityMass * (1 - selfWeight));
        return new PldPmf(Discretization, lower, probs, infinity, Pessimistic, isSparse: false);
    }

    private void ValidateComposable(PldPmf other)
    {
        if (Discretization != other.Discretization || Pessimistic != other.Pessimistic)
        {
            throw new InvalidOperationException("Only PMFs with the same discretization and estimate type can be composed.");
        }
    }

    /// <summary>The PMF of the composition (sum of independent losses), with tails truncated as upstream.</summary>
    public PldPmf Compose(PldPmf other, double tailMassTruncation)
    {
        ValidateComposable(other);
        var infinity = InfinityMass + other.InfinityMass - (InfinityMass * other.InfinityMass);
        var sparse = IsSparse && other.IsSparse && (long)EntryCount * other.EntryCount <= MaxSparseSize;
        double[] probs;
        bool[]? present = null;
        if (sparse)
        {
            (probs, present) = ConvolveSparse(this, other);
        }
        else
        {
            var (few, many) = CountNonZero(Probs) <= CountNonZero(other.Probs) ? (Probs, other.Probs) : (other.Probs, Probs);
            probs = CountNonZero(few) <= 32 ? ConvolveDirect(few, many) : Fft.ConvolveReal(Probs, other.Probs);
        }

        var (offset, truncated, rightMass) = TruncateTails(probs, tailMassTruncation, Pessimistic);
        present = present?[(int)offset..((int)offset + truncated.Length)];
        return new PldPmf(Discretization, LowerIndex + other.LowerIndex + offset, truncated, infinity + rightMass, Pessimistic, sparse, present);
    }

    private static int CountNonZero(double[] probs)
    {
        var n = 0;
        foreach (var p in probs)
        {
            if (p != 0)
            {
                n++;
            }
        }

        return n;
    }

    // Upstream's dictionary convolution: every pair of entries (even of mass 0) creates an entry at the sum.
    private static (double[] Probs, bool[] Present) ConvolveSparse(PldPmf a, PldPmf b)
    {
        var probs = new double[a.Size + b.Size - 1];
        var present = new bool[probs.Length];
        for (var i = 0; i < a.Size; i++)
        {
            if (a.Present is not null && !a.Present[i])
            {
                continue;
            }

            for (var j = 0; j < b.Size; j++)
            {
                if (b.Present is null || b.Present[j])
                {
                    probs[i + j] += a.Probs[i] * b.Probs[j];
                    present[i + j] = true;
                }
            }
        }

        return (probs, present);
    }

    /// <summary>The PMF of <paramref name="times"/> independent copies composed.</summary>
    public PldPmf SelfCompose(long times, double tailMassTruncation)
    {
        if (times <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(times), times, "times must be ≥ 1.");
        }

        if (IsSparse)
        {
            if (times == 1)
            {
                return this;
            }

            if (EntryCount == 1 && Size == 1)
            {
                // One finite loss: the composition is that loss times n with mass pⁿ (what repeated composition gives).
                var infinity = -LogMath.Expm1(times * LogMath.Log1p(-InfinityMass));
                return new PldPmf(Discretization, LowerIndex * times, [Math.Pow(Probs[0], times)], infinity, Pessimistic, isSparse: true);
            }

            if (Math.Pow(EntryCount, times) <= MaxSparseSize)
            {
                // Upstream's sparse path: repeated exact composition, truncating only at the last step.
                var result = this;
                for (long i = 2; i <= times; i++)
                {
                    result = result.Compose(this, i == times ? tailMassTruncation : 0);
                }

                return result;
            }
        }

        return SelfComposePair(this, null, times, tailMassTruncation).First;
    }

    /// <summary>
    /// Dense self-composition of one or two PMFs at once (dp_accounting's <c>common.self_convolve</c>):
    /// Chernoff bounds choose the output window whose outside mass is ≤ the truncation bound, the cyclic
    /// convolution is computed on a power-of-two length covering that window, and the window is read off.
    /// </summary>
    public static (PldPmf First, PldPmf? Second) SelfComposePair(PldPmf first, PldPmf? second, long times, double tailMassTruncation)
    {
        var (lo1, hi1) = SelfConvolveBounds(first.Probs, times, tailMassTruncation);
        var n = Fft.NextPowerOfTwo(Math.Max(hi1 - lo1 + 1, first.Size));
        long lo2 = 0, hi2 = 0;
        if (second is not null)
        {
            (lo2, hi2) = SelfConvolveBounds(second.Probs, times, tailMassTruncation);
            n = Math.Max(n, Fft.NextPowerOfTwo(Math.Max(hi2 - lo2 + 1, second.Size)));
        }

        var (x, y) = Fft.SelfConvolveCyclic(first.Probs, second is null ? [] : second.Probs, times, n);
        var a = first.FromCyclic(x, n, lo1, hi1, times, tailMassTruncation);
        var b = second?.FromCyclic(y, n, lo2, hi2, times, tailMassTruncation);
        return (a, b);
    }

    private PldPmf FromCyclic(double[] cyclic, int n, long lo, long hi, long times, double tailMassTruncation)
    {
        var len = (int)(hi - lo + 1);
        var probs = new double[len];
        var start = (int)(lo % n);
        for (var i = 0; i < len; i++)
        {
            var j = start + i;
            probs[i] = cyclic[j >= n ? j - n : j];
        }

        // 1 − (1 − p∞)^times, stably; upstream also books the truncated tail mass at +∞. That keeps the
        // pessimistic PMF pessimistic; the optimistic PMF must not gain mass at +∞, so it only drops the tails.
        var infinity = -LogMath.Expm1(times * LogMath.Log1p(-InfinityMass));
        if (Pessimistic)
        {
            infinity += tailMassTruncation;
        }

        return new PldPmf(Discretization, (LowerIndex * times) + lo, probs, infinity, Pessimistic, isSparse: false);
    }

    /// <summary>
    /// Chernoff bounds [lo, hi] on the index of the times-fold sum outside which at most tailMassTruncation lies:
    /// for an order t, P[S ≥ s] ≤ exp(times·ln M(t) − t·s) with M(t) = Σ pᵢ e^{t·i}, at orders ±1..±20 over the length.
    /// </summary>
    internal static (long Lo, long Hi) SelfConvolveBounds(double[] probs, long times, double tailMassTruncation)
    {
        long hi = (probs.Length - 1) * times;
        long lo = 0;
        if (tailMassTruncation == 0)
        {
            return (lo, hi);
        }

        var len = probs.Length;
        var logTwoOverTail = Math.Log(2 / tailMassTruncation);

        // Orders t = ±1..±20 over the length (upstream's choice). All 40 moment sums Σ pᵢ e^{t·i} are accumulated
        // in one pass over the PMF; |t·i| ≤ 20, so plain sums cannot overflow. e^{t·i} comes by recurrence,
        // refreshed from exp every 256 terms to keep rounding errors small.
        const int orderCount = 40;
        var orders = new double[orderCount];
        for (var o = 0; o < 20; o++)
        {
            orders[o] = (double)(o - 20) / len;
            orders[20 + o] = (double)(o + 1) / len;
        }

        var ratios = new double[orderCount];
        var powers = new double[orderCount];
        var sums = new double[orderCount];
        for (var o = 0; o < orderCount; o++)
        {
            ratios[o] = Math.Exp(orders[o]);
        }

        for (var i = 0; i < len; i++)
        {
            if ((i & 255) == 0)
            {
                for (var o = 0; o < orderCount; o++)
                {
                    powers[o] = Math.Exp(orders[o] * i);
                }
            }

            var p = probs[i];
            var o4 = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var pv = Vector256.Create(p);
                for (; o4 + 4 <= orderCount; o4 += 4)
                {
                    var w = Vector256.Create(powers[o4], powers[o4 + 1], powers[o4 + 2], powers[o4 + 3]);
                    var acc = Vector256.Create(sums[o4], sums[o4 + 1], sums[o4 + 2], sums[o4 + 3]) + (pv * w);
                    acc.CopyTo(sums, o4);
                    (w * Vector256.Create(ratios[o4], ratios[o4 + 1], ratios[o4 + 2], ratios[o4 + 3])).CopyTo(powers, o4);
                }
            }

            for (var o = o4; o < orderCount; o++)
            {
                sums[o] += p * powers[o];
                powers[o] *= ratios[o];
            }
        }

        for (var o = 0; o < orderCount; o++)
        {
            var order = orders[o];
            var bound = ((times * Math.Log(sums[o])) + logTwoOverTail) / order;
            if (!double.IsFinite(bound))
            {
                continue;
            }

            // Compare as doubles first: a bound far outside [lo, hi] must not overflow the conversion.
            if (order > 0 && bound < hi)
            {
                hi = (long)Math.Ceiling(bound);
            }
            else if (order < 0 && bound > lo)
            {
                lo = (long)Math.Floor(bound);
            }
        }

        return (lo, hi);
    }

    // Direct convolution; a's zero entries are skipped, so a PMF with few points and wide gaps costs little.
    private static double[] ConvolveDirect(double[] a, double[] b)
    {
        var result = new double[a.Length + b.Length - 1];
        for (var i = 0; i < a.Length; i++)
        {
            var ai = a[i];
            if (ai == 0)
            {
                continue;
            }

            for (var j = 0; j < b.Length; j++)
            {
                result[i + j] += ai * b[j];
            }
        }

        return result;
    }

    /// <summary>
    /// Drops the longest prefix and suffix each of mass ≤ tailMassTruncation/2. Pessimistic: the prefix mass moves
    /// up to the first kept point and the suffix mass goes to +∞ (returned). Optimistic: the prefix is discarded and
    /// the suffix mass moves down to the last kept point. Both keep the direction of the estimate.
    /// </summary>
    internal static (long Offset, double[] Probs, double RightMass) TruncateTails(double[] probs, double tailMassTruncation, bool pessimistic)
    {
        if (tailMassTruncation == 0)
        {
            return (0, probs, 0);
        }

        var threshold = tailMassTruncation / 2;
        var left = PrefixToTruncate(probs, threshold, fromEnd: false);
        var right = probs.Length - PrefixToTruncate(probs, threshold, fromEnd: true);
        left = Math.Min(left, probs.Length - 1);
        right = Math.Max(right, left + 1);
        var leftMass = 0.0;
        for (var i = 0; i < left; i++)
        {
            leftMass += probs[i];
        }

        var rightMass = 0.0;
        for (var i = right; i < probs.Length; i++)
        {
            rightMass += probs[i];
        }

        var kept = probs[left..right];
        if (pessimistic)
        {
            kept[0] += leftMass;
            return (left, kept, rightMass);
        }

        kept[^1] += rightMass;
        return (left, kept, 0);
    }

    private static int PrefixToTruncate(double[] probs, double threshold, bool fromEnd)
    {
        var s = 0.0;
        for (var k = 0; k < probs.Length; k++)
        {
            s += probs[fromEnd ? probs.Length - 1 - k : k];
            if (s > threshold)
            {
                return k;
            }
        }

        return probs.Length;
    }

    /// <summary>Loss of grid point i.</summary>
    private double Loss(int i) => (LowerIndex + i) * Discretization;

    /// <summary>The ε-hockey-stick divergence Σ_{ℓ&gt;ε} p(ℓ)(1 − e^{ε−ℓ}) + p(∞).</summary>
    public double GetDeltaForEpsilon(double epsilon)
    {
        var delta = 0.0;
        for (var i = Probs.Length - 1; i >= 0; i--)
        {
            var loss = Loss(i);
            if (!(loss > epsilon))
            {
                break;
            }

            delta += -LogMath.Expm1(epsilon - loss) * Probs[i];
        }

        return InfinityMass + delta;
    }

    /// <summary>
    /// The smallest ε ≥ 0 whose hockey-stick divergence is ≤ δ, exactly for this discrete PMF (upstream's method):
    /// scanning losses downwards, δ(ε) = U − e^ε·L on each gap with U = Σ p and L = Σ p·e^{−ℓ} over the losses above,
    /// so the answer is ln((U − δ)/L) in the first gap where that value lands.
    /// </summary>
    public double GetEpsilonForDelta(double delta)
    {
        if (InfinityMass > delta)
        {
            return double.PositiveInfinity;
        }

        var massUpper = InfinityMass;
        var massLower = 0.0;
        for (var i = Probs.Length - 1; i >= 0; i--)
        {
            var loss = Loss(i);
            if (massUpper > delta && massLower > 0 && Math.Log((massUpper - delta) / massLower) >= loss)
            {
                break;
            }

            var p = Probs[i];
            massUpper += p;
            massLower += Math.Exp(-loss) * p;
            if (massUpper >= delta && massLower == 0)
            {
                // Only when e^{−loss} underflows.
                return Math.Max(0, loss);
            }
        }

        if (massUpper <= massLower + delta)
        {
            return 0;
        }

        return Math.Log((massUpper - delta) / massLower);
    }
}
