using DiffPriv.Accounting;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;

namespace DiffPriv.Experiments.Tabular;

/// <summary>
/// The differentially private statistics <c>diffpriv train csv</c> takes from the private training table when the schema
/// does not declare them, and the events that account for them. Every mechanism counts records, and one record adds 1 to
/// one count of each column, so a column's vector of counts has L2 sensitivity 1 under add/remove-one neighbours (the
/// relation DP-SGD with Poisson sampling is analysed under); each column's release is a Gaussian mechanism
/// (<see cref="GaussianDpEvent"/>(σ)).
/// <list type="bullet">
/// <item>Numeric range: a histogram over <see cref="GridEdges"/>, a fixed public grid (0 and ±m·10^k, m ∈ {1, 2, 5},
/// k ∈ [−3, 9]), each bin's count noised with N(0, σ²). The range runs from the lowest to the highest bin whose noisy count
/// exceeds <see cref="NumericThresholdSigmas"/>·σ (always including the bin with the largest noisy count): the bulk of the
/// values, the sparse tails clipped. Post-processing of the noisy counts; costs one Gaussian(σ).</item>
/// <item>Category list (and the target's classes): the thresholded Gaussian histogram (Korolova et al., WWW 2009;
/// Wilson et al., "Differentially private SQL with bounded user contribution", PoPETs 2020): every value that occurs is
/// counted, its count noised with N(0, σ²), and released when the noisy count exceeds τ = 1 + σ·Φ⁻¹(1 − δ_τ). Neighbours
/// that share every value differ by one count (a Gaussian mechanism); a value held by one record only is released with
/// probability P(1 + N(0, σ²) &gt; τ) = δ_τ, a (0, δ_τ) event. The release is dominated by their composition, recorded as
/// <see cref="GaussianDpEvent"/>(σ) and <see cref="EpsilonDeltaDpEvent"/>(0, δ_τ).</item>
/// </list>
/// All columns use one σ, calibrated so that their composition stays within the preprocessing budget (PLD accountant).
/// </summary>
internal static class TabularMechanisms
{
    /// <summary>A grid bin is part of a numeric range when its noisy count exceeds this many σ (a pure-noise bin does so
    /// with probability 3·10⁻⁵).</summary>
    public const double NumericThresholdSigmas = 4.0;

    /// <summary>The share of δ that all thresholded histograms together may spend on releasing a value held by one record.</summary>
    public const double ThresholdDeltaShare = 0.1;

    /// <summary>The public grid's 79 edges in increasing order; bin b (0 … 79) is [edge[b − 1], edge[b]) with edge[−1] = −∞ and edge[79] = +∞.</summary>
    public static IReadOnlyList<double> GridEdges { get; } = MakeGrid();

    /// <summary>The number of bins of the public grid.</summary>
    public static int GridBins => GridEdges.Count + 1;

    /// <summary>The grid bin of a finite value: the number of edges ≤ <paramref name="value"/>.</summary>
    public static int BinOf(double value)
    {
        var edges = (List<double>)GridEdges;
        var i = edges.BinarySearch(value);
        return i >= 0 ? i + 1 : ~i;
    }

    /// <summary>The finite lower and upper ends of grid bins <paramref name="low"/> … <paramref name="high"/> (the unbounded
    /// outer bins end at twice the outermost edge).</summary>
    public static (double Low, double High) RangeOf(int low, int high)
    {
        var e = GridEdges;
        return (low == 0 ? 2 * e[0] : e[low - 1], high == e.Count ? 2 * e[^1] : e[high]);
    }

    /// <summary>τ = 1 + σ·Φ⁻¹(1 − δ_τ): a value held by one record passes with probability δ_τ.</summary>
    /// <param name="sigma">σ &gt; 0.</param>
    /// <param name="deltaPerColumn">δ_τ ∈ (0, 0.5).</param>
    public static double CategoryThreshold(double sigma, double deltaPerColumn) =>
        1 - (sigma * NormalDistribution.InverseCdfFromLog(Math.Log(deltaPerColumn)));

    /// <summary>The events of <paramref name="numeric"/> noisy grid histograms and <paramref name="categorical"/> thresholded
    /// histograms, all with noise σ (empty when there are none).</summary>
    public static IReadOnlyList<DpEvent> Events(int numeric, int categorical, double sigma, double deltaPerColumn)
    {
        var events = new List<DpEvent>();
        if (numeric + categorical > 0)
        {
            events.Add(Repeat(new GaussianDpEvent(sigma), numeric + categorical));
        }

        if (categorical > 0)
        {
            events.Add(Repeat(new EpsilonDeltaDpEvent(0, deltaPerColumn), categorical));
        }

        return events;
    }

    /// <summary>δ_τ of each thresholded histogram: <see cref="ThresholdDeltaShare"/>·δ shared equally.</summary>
    public static double DeltaPerColumn(int categorical, double delta) => ThresholdDeltaShare * delta / Math.Max(1, categorical);

    /// <summary>The smallest σ whose <see cref="Events"/> have ε ≤ <paramref name="epsilon"/> at <paramref name="delta"/> (PLD).</summary>
    /// <param name="numeric">Noisy grid histograms, ≥ 0.</param>
    /// <param name="categorical">Thresholded histograms, ≥ 0; numeric + categorical ≥ 1.</param>
    /// <param name="epsilon">The preprocessing budget ε &gt; 0.</param>
    /// <param name="delta">δ of the whole run.</param>
    /// <returns>σ and the ε it reaches.</returns>
    public static NoiseCalibrationResult CalibrateSigma(int numeric, int categorical, double epsilon, double delta)
    {
        var deltaPerColumn = DeltaPerColumn(categorical, delta);
        var k = numeric + categorical;
        // k Gaussians at σ compose to one Gaussian at σ/√k: start the search there.
        var guess = Math.Sqrt(k) * GaussianMechanism.GetNoiseMultiplier(epsilon, (1 - ThresholdDeltaShare) * delta);
        return NoiseCalibration.CalibrateNoiseMultiplier(
            () => new PldAccountant(), sigma => new ComposedDpEvent(Events(numeric, categorical, sigma, deltaPerColumn)), epsilon, delta, initialGuess: guess);
    }

    /// <summary>The noisy grid histogram of <paramref name="values"/> and the range it selects.</summary>
    /// <param name="values">The column's non-missing training values.</param>
    /// <param name="sigma">Noise σ of every count, &gt; 0 (0 only in tests: exact counts).</param>
    /// <param name="gaussian">Draws n independent N(0, std²) values: (n, std) → values.</param>
    /// <returns>The range [Low, High] (Low &lt; High) and the noisy counts.</returns>
    public static (double Low, double High, double[] NoisyCounts) NumericRange(IEnumerable<double> values, double sigma, Func<int, double, double[]> gaussian)
    {
        var counts = new double[GridBins];
        foreach (var v in values)
        {
            counts[BinOf(v)]++;
        }

        var noise = gaussian(counts.Length, sigma);
        for (var b = 0; b < counts.Length; b++)
        {
            counts[b] += noise[b];
        }

        var threshold = NumericThresholdSigmas * sigma;
        var best = Array.IndexOf(counts, counts.Max());
        int low = best, high = best;
        for (var b = 0; b < counts.Length; b++)
        {
            if (counts[b] > threshold)
            {
                low = Math.Min(low, b);
                high = Math.Max(high, b);
            }
        }

        var (lo, hi) = RangeOf(low, high);
        return (lo, hi, counts);
    }

    /// <summary>The thresholded Gaussian histogram: the values whose noisy count exceeds <paramref name="threshold"/>, in ordinal order.</summary>
    /// <param name="values">The column's non-missing training values.</param>
    /// <param name="sigma">Noise σ of every count.</param>
    /// <param name="threshold">τ from <see cref="CategoryThreshold"/>.</param>
    /// <param name="gaussian">Draws n independent N(0, std²) values.</param>
    /// <returns>The released values with their noisy counts.</returns>
    public static IReadOnlyList<(string Value, double NoisyCount)> ReleasedCategories(IEnumerable<string> values, double sigma, double threshold, Func<int, double, double[]> gaussian)
    {
        var counts = values.CountBy(v => v, StringComparer.Ordinal).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var noise = gaussian(counts.Count, sigma);
        return [.. counts.Select((p, i) => (p.Key, p.Value + noise[i])).Where(p => p.Item2 > threshold)];
    }

    private static DpEvent Repeat(DpEvent e, int count) => count == 1 ? e : new SelfComposedDpEvent(e, count);

    private static List<double> MakeGrid()
    {
        var positive = new List<double>();
        for (var k = -3; k <= 9; k++)
        {
            foreach (var m in new[] { 1.0, 2.0, 5.0 })
            {
                positive.Add(double.Parse($"{m}e{k}", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return [.. positive.Select(p => -p).Reverse(), 0.0, .. positive];
    }
}
