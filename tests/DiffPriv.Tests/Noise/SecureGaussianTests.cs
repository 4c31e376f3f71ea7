using DiffPriv.Accounting.Numerics;
using DiffPriv.Noise;

namespace DiffPriv.Tests.Noise;

// The secure sampler with a replayable byte source (System.Random with a fixed seed stands in for the CSPRNG, whose
// output no test can fix): every statistic below is deterministic, and its threshold is a quantile of the statistic
// under the exact distribution, so a wrong sampler fails rather than flakes.
public sealed class SecureGaussianTests
{
    private static SecureGaussian.RandomSource Replayable(int seed)
    {
        var random = new Random(seed);
        return random.NextBytes;
    }

    private static double Phi(double x) => 0.5 * LogMath.Erfc(-x / Math.Sqrt(2));

    // Upper α = 0.001 quantile of χ² with df degrees of freedom (Wilson–Hilferty; within 1% for df ≥ 5).
    private static double ChiSquareCritical(int df)
    {
        const double Z = 3.0902; // Φ⁻¹(0.999)
        var a = 2.0 / (9.0 * df);
        return df * Math.Pow(1 - a + (Z * Math.Sqrt(a)), 3);
    }

    [Fact]
    public void StandardNormalPassesKolmogorovSmirnovAndMoments()
    {
        const int N = 200_000;
        var z = new double[N];
        SecureGaussian.FillStandardNormal(z, Replayable(1));
        // Moments: standard errors of the mean 1/√n ≈ 0.0022 and of the variance √(2/n) ≈ 0.0032; 4 of them.
        var mean = z.Average();
        var variance = z.Sum(v => (v - mean) * (v - mean)) / (N - 1);
        Assert.InRange(mean, -4 / Math.Sqrt(N), 4 / Math.Sqrt(N));
        Assert.InRange(variance, 1 - (4 * Math.Sqrt(2.0 / N)), 1 + (4 * Math.Sqrt(2.0 / N)));
        // Kolmogorov–Smirnov against Φ: √n·D exceeds 1.949 with probability 0.001 under N(0, 1).
        Array.Sort(z);
        var d = 0.0;
        for (var i = 0; i < N; i++)
        {
            var f = Phi(z[i]);
            d = Math.Max(d, Math.Max(((i + 1.0) / N) - f, f - ((double)i / N)));
        }

        Assert.True(Math.Sqrt(N) * d < 1.949, $"KS statistic √n·D = {Math.Sqrt(N) * d:F3}");
        // Both tails: P(|z| > 3.5) = 4.6525e-4, binomial standard error √(p/n) ≈ 4.8e-5; 4 of them.
        var tail = z.Count(v => Math.Abs(v) > 3.5) / (double)N;
        Assert.InRange(tail, 4.6525e-4 - (4 * 4.8e-5), 4.6525e-4 + (4 * 4.8e-5));
    }

    [Theory]
    [InlineData(0.3, false)]
    [InlineData(-2.05, false)]
    [InlineData(0.3, true)]
    public void SnappedReleaseMatchesTheExactPmfOfTheRoundedGaussian(double centre, bool singlePrecision)
    {
        // A coarse grid (1 bit: std 1.5 → g = 0.5) so that each lattice point has visible mass. The exact distribution of
        // the release is P(m·g) = Φ(((m + ½)g − c)/s) − Φ(((m − ½)g − c)/s): the Gaussian mechanism rounded to the grid.
        const int N = 200_000;
        const double Std = 1.5;
        var g = SecureGaussian.GridStep(Std, gridBits: 1);
        Assert.Equal(0.5, g);
        var outputs = new double[N];
        if (singlePrecision)
        {
            var release = new float[N];
            SecureGaussian.AddSnapped(Enumerable.Repeat((float)centre, N).ToArray(), release, Std, Replayable(2), gridBits: 1);
            outputs = [.. release.Select(v => (double)v)];
        }
        else
        {
            SecureGaussian.AddSnapped(Enumerable.Repeat(centre, N).ToArray(), outputs, Std, Replayable(3), gridBits: 1);
        }

        var counts = new Dictionary<long, int>();
        foreach (var o in outputs)
        {
            var m = o / g;
            Assert.Equal(Math.Round(m), m); // on the grid
            counts[(long)m] = counts.GetValueOrDefault((long)m) + 1;
        }

        // χ² over the lattice points with expected count ≥ 20, the rest pooled into the two tails.
        double Mass(double lo, double hi) => Phi((hi - centre) / Std) - Phi((lo - centre) / Std);
        var cells = Enumerable.Range(-40, 81).Select(m => (long)Math.Round(centre / g) + m)
            .Where(m => N * Mass((m - 0.5) * g, (m + 0.5) * g) >= 20).ToList();
        var (first, last) = (cells.Min(), cells.Max());
        var observed = new List<double> { counts.Where(kv => kv.Key < first).Sum(kv => kv.Value) };
        var expected = new List<double> { N * Mass(double.NegativeInfinity, (first - 0.5) * g) };
        for (var m = first; m <= last; m++)
        {
            observed.Add(counts.GetValueOrDefault(m));
            expected.Add(N * Mass((m - 0.5) * g, (m + 0.5) * g));
        }

        observed.Add(counts.Where(kv => kv.Key > last).Sum(kv => kv.Value));
        expected.Add(N * Mass((last + 0.5) * g, double.PositiveInfinity));
        var chi2 = observed.Zip(expected, (o, e) => (o - e) * (o - e) / e).Sum();
        var df = observed.Count - 1;
        Assert.True(chi2 < ChiSquareCritical(df), $"χ² = {chi2:F1} with {df} degrees of freedom (critical {ChiSquareCritical(df):F1})");
        // The mean and variance of the rounded Gaussian: c and s² + g²/12 (Sheppard); standard errors s/√n and s²√(2/n).
        var mean = outputs.Average();
        var variance = outputs.Sum(v => (v - mean) * (v - mean)) / (N - 1);
        Assert.InRange(mean, centre - (4 * Std / Math.Sqrt(N)), centre + (4 * Std / Math.Sqrt(N)));
        var v0 = (Std * Std) + (g * g / 12);
        Assert.InRange(variance, v0 - (4 * Std * Std * Math.Sqrt(2.0 / N)), v0 + (4 * Std * Std * Math.Sqrt(2.0 / N)));
    }

    [Fact]
    public void ReleasesLieOnTheSameGridWhateverTheCentre()
    {
        // The default grid for std 1.1 is 2⁻¹²; every release is a multiple of it, for any centre and both element types.
        const double Std = 1.1;
        var g = SecureGaussian.GridStep(Std);
        Assert.Equal(Math.ScaleB(1.0, -12), g);
        foreach (var centre in new[] { 0.0, 1.0, 0.1, 1.0 / 3, -7.77, 12345.678, 3e-9 })
        {
            var doubles = new double[5000];
            SecureGaussian.AddSnapped(Enumerable.Repeat(centre, doubles.Length).ToArray(), doubles, Std, Replayable(4));
            Assert.All(doubles, o => Assert.Equal(Math.Round(o / g), o / g));
            var floats = new float[5000];
            SecureGaussian.AddSnapped(Enumerable.Repeat((float)centre, floats.Length).ToArray(), floats, Std, Replayable(5));
            Assert.All(floats, o => Assert.Equal(Math.Round(o / g), o / g));
        }
    }

    [Fact]
    public void LowBitsNoLongerRevealTheCentre()
    {
        // Mironov's observation on float32 releases: c + Z computed as fl(fl(Z) + c) near 0 is a multiple of 2⁻²⁴ when
        // c = 1 (the sum of Z ≈ −1 and 1 is exact), but rarely when c = 0 (fl(Z) itself has finer spacing). The test "is
        // the output a multiple of 2⁻²⁴?" on outputs in (−1/16, 1/16) tells the two centres apart on the unsnapped
        // release; on the snapped release it answers yes for both, so it no longer distinguishes them.
        const int N = 200_000;
        const double Std = 1.1;
        const double Ulp = 1.0 / (1 << 24);
        var z = new double[N];
        SecureGaussian.FillStandardNormal(z, Replayable(6));
        double Share(IEnumerable<float> outputs)
        {
            var near = outputs.Where(o => Math.Abs(o) < 1.0 / 16).ToList();
            Assert.True(near.Count > 1000, $"{near.Count} outputs near 0");
            return near.Count(o => Math.Round(o / Ulp) == o / Ulp) / (double)near.Count;
        }

        var naiveZero = Share(z.Select(v => (float)(v * Std) + 0f));
        var naiveOne = Share(z.Select(v => (float)(v * Std) + 1f));
        Assert.Equal(1.0, naiveOne);
        Assert.True(naiveZero < 0.5, $"unsnapped, centre 0: {naiveZero:P1} of the outputs are multiples of 2^-24");

        float[] Snapped(float centre, int seed)
        {
            var release = new float[N];
            SecureGaussian.AddSnapped(Enumerable.Repeat(centre, N).ToArray(), release, Std, Replayable(seed));
            return release;
        }

        Assert.Equal(1.0, Share(Snapped(0f, 7)));
        Assert.Equal(1.0, Share(Snapped(1f, 8)));
    }

    [Fact]
    public void PureNoiseAndSmallRequestsAreHandled()
    {
        // An empty centre means 0; lengths that are not a multiple of the vector width or of a chunk use the scalar tails.
        foreach (var n in new[] { 0, 1, 3, 7, 4097, 9001 })
        {
            var release = new double[n];
            SecureGaussian.AddSnapped(ReadOnlySpan<double>.Empty, release, 2.0, Replayable(n));
            var g = SecureGaussian.GridStep(2.0);
            Assert.All(release, o => Assert.Equal(Math.Round(o / g), o / g));
            if (n > 1)
            {
                Assert.True(release.Distinct().Count() > n / 2, "samples repeat");
            }
        }

        Assert.Throws<ArgumentException>(() => SecureGaussian.AddSnapped(new double[3], new double[4], 1.0, Replayable(1)));
    }
}
