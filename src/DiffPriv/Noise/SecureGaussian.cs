using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace DiffPriv.Noise;

/// <summary>
/// The secure gate's Gaussian sampler: random words from a cryptographically secure byte source, Box–Muller in float64
/// four lanes at a time, written straight into the destination memory, in parallel over chunks for large tensors.
/// </summary>
/// <remarks>
/// <para>
/// Box–Muller (1958) on one pair of 64-bit words (w₁, w₂): u₁ = (w₁ + ½)·2⁻⁶⁴ ∈ (0, 1] keeps full relative precision near
/// 0 (so the radius √(−2 ln u₁) reaches 9.5 and its tail is resolved finely), θ = 2π·⌊w₂/2¹¹⌋·2⁻⁵³; the pair gives the two
/// independent N(0, 1) samples r·cos θ and r·sin θ. Every sampled value consumes 8 fresh random bytes.
/// </para>
/// <para>
/// The floating-point defence (<see cref="AddSnapped(ReadOnlySpan{double}, Span{double}, double, RandomSource, int)"/>)
/// is the snapping idea of Mironov (2012, "On significance of the least significant bits for differential privacy", §5)
/// applied to the Gaussian: the release is v + Z rounded to the power-of-two grid g = 2^(⌊log₂ s⌋ − 12) for noise std s,
/// computed as g·(⌊v/g⌋ + round(frac(v/g) + Z/g)). Every step is exact in float64 except Z, its scaling to grid units
/// and one addition of numbers below 2¹⁷, so the output is a deterministic function of the exact lattice value round((v + Z)/g), which is
/// post-processing of the Gaussian mechanism: its privacy is that of N(0, s²) noise, and the set of outputs is g·ℤ for
/// every v, so the low bits no longer depend on v.
/// </para>
/// </remarks>
internal static class SecureGaussian
{
    /// <summary>The grid is 2^(⌊log₂ s⌋ − GridBits): between s/2¹³ and s/2¹² for noise std s.</summary>
    internal const int GridBits = 12;

    private const int ChunkPairs = 2048; // 4 096 values per chunk: 32 KB of random words, 32 KB of samples
    private const int ParallelThreshold = 1 << 16;
    private const double TwoPi = 2 * Math.PI;

    /// <summary>Fills a span with random bytes; the default is the operating system's CSPRNG.</summary>
    /// <param name="destination">The bytes to overwrite.</param>
    internal delegate void RandomSource(Span<byte> destination);

    /// <summary>The operating system's cryptographically secure generator (thread-safe).</summary>
    internal static RandomSource Os { get; } = RandomNumberGenerator.Fill;

    /// <summary>The snapping grid for noise std <paramref name="standardDeviation"/> &gt; 0: a power of two in (s·2^−(bits+1), s·2^−bits].</summary>
    /// <param name="standardDeviation">The noise std s, finite and &gt; 0.</param>
    /// <param name="gridBits">Bits of the grid below the std's leading bit.</param>
    /// <returns>The grid step g.</returns>
    internal static double GridStep(double standardDeviation, int gridBits = GridBits) =>
        Math.ScaleB(1.0, Math.ILogB(standardDeviation) - gridBits);

    /// <summary>Independent N(0, 1) samples into <paramref name="destination"/>.</summary>
    /// <param name="destination">The samples to write.</param>
    /// <param name="source">The random bytes; the OS source is thread-safe and lets large requests run in parallel.</param>
    internal static void FillStandardNormal(Span<double> destination, RandomSource source)
    {
        var scratch = new Scratch();
        try
        {
            for (var start = 0; start < destination.Length; start += 2 * ChunkPairs)
            {
                var chunk = destination.Slice(start, Math.Min(2 * ChunkPairs, destination.Length - start));
                scratch.Normals(chunk.Length, source).CopyTo(chunk);
            }
        }
        finally
        {
            scratch.Dispose();
        }
    }

    /// <summary>destination[i] = N(0, 1)·s (rounded once to float32), for pure noise.</summary>
    /// <param name="destination">The native memory to write.</param>
    /// <param name="standardDeviation">The std s.</param>
    /// <param name="source">The random bytes.</param>
    internal static unsafe void FillScaled(Span<float> destination, double standardDeviation, RandomSource source)
    {
        var s = standardDeviation;
        fixed (float* pointer = destination)
        {
            var d = (nint)pointer;
            ForChunks(destination.Length, source, (start, length, scratch) =>
            {
                var z = scratch.Normals(length, source);
                Narrow(z, s, new Span<float>((float*)d + start, length));
            });
        }
    }

    /// <summary>destination[i] = N(0, 1)·s, for pure noise.</summary>
    /// <param name="destination">The native memory to write.</param>
    /// <param name="standardDeviation">The std s.</param>
    /// <param name="source">The random bytes.</param>
    internal static unsafe void FillScaled(Span<double> destination, double standardDeviation, RandomSource source)
    {
        var s = standardDeviation;
        fixed (double* pointer = destination)
        {
            var d = (nint)pointer;
            ForChunks(destination.Length, source, (start, length, scratch) =>
            {
                var z = scratch.Normals(length, source);
                var target = new Span<double>((double*)d + start, length);
                for (var i = 0; i < length; i++)
                {
                    target[i] = z[i] * s;
                }
            });
        }
    }

    /// <summary>
    /// destination[i] = snap(centre[i] + N(0, s²)) on the grid <see cref="GridStep"/>; an empty centre means 0.
    /// </summary>
    /// <param name="centre">The values to release (float32), or empty for pure noise.</param>
    /// <param name="destination">The release, rounded once from the exact lattice value to float32.</param>
    /// <param name="standardDeviation">The std s &gt; 0.</param>
    /// <param name="source">The random bytes.</param>
    /// <param name="gridBits">Bits of the grid below the std's leading bit (tests use coarse grids).</param>
    internal static unsafe void AddSnapped(ReadOnlySpan<float> centre, Span<float> destination, double standardDeviation, RandomSource source, int gridBits = GridBits)
    {
        var hasCentre = CheckCentre(centre.Length, destination.Length);
        var g = GridStep(standardDeviation, gridBits);
        var s = standardDeviation;
        fixed (float* centrePointer = centre)
        fixed (float* destinationPointer = destination)
        {
            var (from, to) = ((nint)centrePointer, (nint)destinationPointer);
            ForChunks(destination.Length, source, (start, length, scratch) =>
            {
                var z = scratch.Normals(length, source);
                var c = scratch.Centre(length);
                if (hasCentre)
                {
                    Widen(new ReadOnlySpan<float>((float*)from + start, length), c);
                }
                else
                {
                    c.Clear();
                }

                Snap(c, z, s, g);
                Narrow(z, 1.0, new Span<float>((float*)to + start, length));
            });
        }
    }

    /// <summary>
    /// destination[i] = snap(centre[i] + N(0, s²)) on the grid <see cref="GridStep"/>; an empty centre means 0.
    /// </summary>
    /// <param name="centre">The values to release (float64), or empty for pure noise.</param>
    /// <param name="destination">The release, exactly on the grid.</param>
    /// <param name="standardDeviation">The std s &gt; 0.</param>
    /// <param name="source">The random bytes.</param>
    /// <param name="gridBits">Bits of the grid below the std's leading bit (tests use coarse grids).</param>
    internal static unsafe void AddSnapped(ReadOnlySpan<double> centre, Span<double> destination, double standardDeviation, RandomSource source, int gridBits = GridBits)
    {
        var hasCentre = CheckCentre(centre.Length, destination.Length);
        var g = GridStep(standardDeviation, gridBits);
        var s = standardDeviation;
        fixed (double* centrePointer = centre)
        fixed (double* destinationPointer = destination)
        {
            var (from, to) = ((nint)centrePointer, (nint)destinationPointer);
            ForChunks(destination.Length, source, (start, length, scratch) =>
            {
                var z = scratch.Normals(length, source);
                var c = scratch.Centre(length);
                if (hasCentre)
                {
                    new ReadOnlySpan<double>((double*)from + start, length).CopyTo(c);
                }
                else
                {
                    c.Clear();
                }

                Snap(c, z, s, g);
                z.CopyTo(new Span<double>((double*)to + start, length));
            });
        }
    }

    private static bool CheckCentre(int centreLength, int destinationLength)
    {
        if (centreLength != 0 && centreLength != destinationLength)
        {
            throw new ArgumentException($"The centre has {centreLength} values for {destinationLength} outputs.");
        }

        return centreLength != 0;
    }

    // z[i] ← g·(⌊c/g⌋ + round(frac(c/g) + z·s/g)). c/g and the split into floor and fraction are exact (g is a power of
    // two); the integer part is added after rounding, so the one inexact sum involves only numbers below 2¹⁷.
    private static void Snap(Span<double> c, Span<double> z, double s, double g)
    {
        var inverse = 1.0 / g;
        var scale = s * inverse;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vInverse = Vector256.Create(inverse);
            var vScale = Vector256.Create(scale);
            var vG = Vector256.Create(g);
            for (; i <= z.Length - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                var sg = Vector256.Create<double>(c[i..]) * vInverse;
                var whole = Vector256.Floor(sg);
                var k = Vector256.Round((sg - whole) + (Vector256.Create<double>(z[i..]) * vScale));
                ((whole + k) * vG).CopyTo(z[i..]);
            }
        }

        for (; i < z.Length; i++)
        {
            var sg = c[i] * inverse;
            var whole = Math.Floor(sg);
            z[i] = (whole + Math.Round((sg - whole) + (z[i] * scale))) * g;
        }
    }

    private static void Widen(ReadOnlySpan<float> source, Span<double> destination)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= source.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create<float>(source[i..]));
                lower.CopyTo(destination[i..]);
                upper.CopyTo(destination[(i + Vector256<double>.Count)..]);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = source[i];
        }
    }

    private static void Narrow(ReadOnlySpan<double> source, double scale, Span<float> destination)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vScale = Vector256.Create(scale);
            for (; i <= source.Length - (2 * Vector256<double>.Count); i += 2 * Vector256<double>.Count)
            {
                var lower = Vector256.Create<double>(source[i..]) * vScale;
                var upper = Vector256.Create<double>(source[(i + Vector256<double>.Count)..]) * vScale;
                Vector256.Narrow(lower, upper).CopyTo(destination[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            destination[i] = (float)(source[i] * scale);
        }
    }

    private delegate void ChunkAction(int start, int length, Scratch scratch);

    // Runs body over chunks of ≤ 4 096 values; in parallel (one range per processor) when the request is large and the
    // source is the thread-safe OS generator. A custom source (tests) runs in order, so that it replays.
    private static void ForChunks(int count, RandomSource source, ChunkAction body)
    {
        var chunk = 2 * ChunkPairs;
        var chunks = (count + chunk - 1) / chunk;
        var workers = ReferenceEquals(source, Os) && count >= ParallelThreshold ? Math.Min(Environment.ProcessorCount, chunks) : 1;
        void Range(int worker)
        {
            var scratch = new Scratch();
            try
            {
                for (var k = (int)((long)chunks * worker / workers); k < (int)((long)chunks * (worker + 1) / workers); k++)
                {
                    var start = k * chunk;
                    body(start, Math.Min(chunk, count - start), scratch);
                }
            }
            finally
            {
                scratch.Dispose();
            }
        }

        if (workers <= 1)
        {
            Range(0);
        }
        else
        {
            System.Threading.Tasks.Parallel.For(0, workers, Range);
        }
    }

    // Pooled per-worker buffers, cleared when returned: they hold noise and random words, which must not linger.
    private sealed class Scratch : IDisposable
    {
        private readonly ulong[] _words = ArrayPool<ulong>.Shared.Rent(2 * ChunkPairs);
        private readonly double[] _normals = ArrayPool<double>.Shared.Rent(2 * ChunkPairs);
        private readonly double[] _centre = ArrayPool<double>.Shared.Rent(2 * ChunkPairs);

        public Span<double> Centre(int length) => _centre.AsSpan(0, length);

        // `length` (≤ 4 096) fresh N(0, 1) samples: pairs = ⌈length/2⌉ pairs of words, the cosines first, then the sines.
        public Span<double> Normals(int length, RandomSource source)
        {
            var pairs = (length + 1) / 2;
            var u = _words.AsSpan(0, pairs);
            var v = _words.AsSpan(pairs, pairs);
            source(MemoryMarshal.AsBytes(_words.AsSpan(0, 2 * pairs)));
            var cosines = _normals.AsSpan(0, pairs);
            var sines = _normals.AsSpan(pairs, pairs);
            const double Two64 = 1.0 / 18446744073709551616.0; // 2⁻⁶⁴
            const double Two53 = 1.0 / 9007199254740992.0; // 2⁻⁵³
            var i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var half = Vector256.Create(0.5 * Two64);
                var unit = Vector256.Create(Two64);
                var angle = Vector256.Create(TwoPi * Two53);
                var minusTwo = Vector256.Create(-2.0);
                for (; i <= pairs - Vector256<double>.Count; i += Vector256<double>.Count)
                {
                    var u1 = (Vector256.ConvertToDouble(Vector256.Create<ulong>(u[i..])) * unit) + half;
                    var theta = Vector256.ConvertToDouble(Vector256.ShiftRightLogical(Vector256.Create<ulong>(v[i..]), 11).AsInt64()) * angle;
                    var r = Vector256.Sqrt(minusTwo * Vector256.Log(u1));
                    var (sin, cos) = Vector256.SinCos(theta);
                    (r * cos).CopyTo(cosines[i..]);
                    (r * sin).CopyTo(sines[i..]);
                }
            }

            for (; i < pairs; i++)
            {
                var u1 = (u[i] * Two64) + (0.5 * Two64);
                var theta = (v[i] >> 11) * (TwoPi * Two53);
                var r = Math.Sqrt(-2.0 * Math.Log(u1));
                var (sin, cos) = Math.SinCos(theta);
                cosines[i] = r * cos;
                sines[i] = r * sin;
            }

            return _normals.AsSpan(0, length);
        }

        public void Dispose()
        {
            ArrayPool<ulong>.Shared.Return(_words, clearArray: true);
            ArrayPool<double>.Shared.Return(_normals, clearArray: true);
            ArrayPool<double>.Shared.Return(_centre, clearArray: true);
        }
    }
}
