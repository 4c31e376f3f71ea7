using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DiffPriv.Accounting.Pld;

/// <summary>
/// In-place iterative radix-2 complex FFT in double precision, with the twiddle factors and bit-reversal
/// permutation of each size computed once (directly from cos/sin, not by recurrence) and cached.
/// Real and imaginary parts live in separate arrays.
/// </summary>
internal sealed class Fft
{
    private static readonly ConcurrentDictionary<int, Fft> Cache = new();

    private readonly int _n;

    // Twiddles of the stage with half-size h (h = 1, 2, 4, …, n/2) at [h, 2h): w_j = e^{−2πij/(2h)}, contiguous so
    // each stage reads them sequentially (and four at a time with SIMD).
    private readonly double[] _twRe;
    private readonly double[] _twIm;
    private readonly int[] _bitReversed;

    private Fft(int n)
    {
        _n = n;
        _twRe = new double[Math.Max(2, n)];
        _twIm = new double[Math.Max(2, n)];
        for (var h = 1; h < n; h <<= 1)
        {
            for (var j = 0; j < h; j++)
            {
                var angle = -Math.PI * j / h;
                _twRe[h + j] = Math.Cos(angle);
                _twIm[h + j] = Math.Sin(angle);
            }
        }

        _bitReversed = new int[n];
        var bits = BitOperations.Log2((uint)n);
        for (var i = 0; i < n; i++)
        {
            _bitReversed[i] = bits == 0 ? 0 : (int)(BitReverse((uint)i) >> (32 - bits));
        }
    }

    private static uint BitReverse(uint v)
    {
        v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
        v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
        v = ((v >> 4) & 0x0F0F0F0Fu) | ((v & 0x0F0F0F0Fu) << 4);
        v = ((v >> 8) & 0x00FF00FFu) | ((v & 0x00FF00FFu) << 8);
        return (v >> 16) | (v << 16);
    }

    /// <summary>The plan for size n (a power of two).</summary>
    public static Fft ForSize(int n)
    {
        if (n < 1 || (n & (n - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "FFT size must be a power of two.");
        }

        return Cache.GetOrAdd(n, static size => new Fft(size));
    }

    /// <summary>The smallest power of two ≥ n.</summary>
    public static int NextPowerOfTwo(long n)
    {
        if (n > (1L << 30))
        {
            throw new InvalidOperationException($"FFT of length {n} is too large.");
        }

        return (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, n));
    }

    /// <summary>
    /// Transforms (re, im) in place: forward X_k = Σ x_j e^{−2πijk/n}; inverse uses e^{+2πijk/n} and divides by n
    /// (computed as the forward transform with real and imaginary parts swapped).
    /// </summary>
    public void Transform(double[] re, double[] im, bool inverse)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(re.Length, _n, nameof(re));
        ArgumentOutOfRangeException.ThrowIfLessThan(im.Length, _n, nameof(im));
        if (inverse)
        {
            Forward(im, re);
            var scale = 1.0 / _n;
            for (var i = 0; i < _n; i++)
            {
                re[i] *= scale;
                im[i] *= scale;
            }
        }
        else
        {
            Forward(re, im);
        }
    }

    private void Forward(double[] re, double[] im)
    {
        var n = _n;
        var rev = _bitReversed;
        for (var i = 0; i < n; i++)
        {
            var j = rev[i];
            if (j > i)
            {
                (re[i], re[j]) = (re[j], re[i]);
                (im[i], im[j]) = (im[j], im[i]);
            }
        }

        // After the bit-reversal permutation, the stages below half-size n/2 act on the two halves independently
        // (each half is an FFT of size n/2): run them on two cores for large sizes, then the last stage.
        if (n >= ParallelThreshold)
        {
            var halfN = n / 2;
            Parallel.Invoke(() => Stages(re, im, 0, halfN), () => Stages(re, im, halfN, halfN));
            var quarter = halfN / 2;
            Parallel.Invoke(() => Butterflies(re, im, halfN, 0, 0, quarter), () => Butterflies(re, im, halfN, 0, quarter, halfN));
        }
        else
        {
            Stages(re, im, 0, n);
        }
    }

    /// <summary>Sizes from which the FFT runs on two cores (settable for benchmarks).</summary>
    internal static int ParallelThreshold { get; set; } = 1 << 15;

    // All radix-2 stages of an FFT of size <paramref name="length"/> (a power of two) on re/im[offset, offset + length).
    private void Stages(double[] re, double[] im, int offset, int length)
    {
        var end = offset + length;

        // Half-size 1: twiddle 1.
        for (var i = offset; i + 1 < end; i += 2)
        {
            var ar = re[i];
            var ai = im[i];
            var br = re[i + 1];
            var bi = im[i + 1];
            re[i] = ar + br;
            im[i] = ai + bi;
            re[i + 1] = ar - br;
            im[i + 1] = ai - bi;
        }

        // Half-size 2: twiddles 1 and −i.
        for (var i = offset; i + 3 < end; i += 4)
        {
            var ar = re[i];
            var ai = im[i];
            var br = re[i + 2];
            var bi = im[i + 2];
            re[i] = ar + br;
            im[i] = ai + bi;
            re[i + 2] = ar - br;
            im[i + 2] = ai - bi;
            ar = re[i + 1];
            ai = im[i + 1];
            // (br + i·bi)·(−i) = bi − i·br.
            br = im[i + 3];
            bi = -re[i + 3];
            re[i + 1] = ar + br;
            im[i + 1] = ai + bi;
            re[i + 3] = ar - br;
            im[i + 3] = ai - bi;
        }

        for (var h = 4; h < length; h <<= 1)
        {
            for (var start = offset; start < end; start += 2 * h)
            {
                Butterflies(re, im, h, start, 0, h);
            }
        }
    }

    // The butterflies j ∈ [jFrom, jTo) of the block starting at <paramref name="start"/> in the stage with half-size h ≥ 4
    // (jFrom and jTo multiples of 4).
    private void Butterflies(double[] re, double[] im, int h, int start, int jFrom, int jTo)
    {
        if (Vector256.IsHardwareAccelerated && h >= 4)
        {
            ref var r0 = ref MemoryMarshal.GetArrayDataReference(re);
            ref var i0 = ref MemoryMarshal.GetArrayDataReference(im);
            ref var wr0 = ref MemoryMarshal.GetArrayDataReference(_twRe);
            ref var wi0 = ref MemoryMarshal.GetArrayDataReference(_twIm);
            for (var j = jFrom; j < jTo; j += 4)
            {
                var k = (nuint)(start + j);
                var m = k + (nuint)h;
                var wr = Vector256.LoadUnsafe(ref wr0, (nuint)(h + j));
                var wi = Vector256.LoadUnsafe(ref wi0, (nuint)(h + j));
                var xr = Vector256.LoadUnsafe(ref r0, m);
                var xi = Vector256.LoadUnsafe(ref i0, m);
                var tr = (xr * wr) - (xi * wi);
                var ti = (xr * wi) + (xi * wr);
                var ur = Vector256.LoadUnsafe(ref r0, k);
                var ui = Vector256.LoadUnsafe(ref i0, k);
                (ur + tr).StoreUnsafe(ref r0, k);
                (ui + ti).StoreUnsafe(ref i0, k);
                (ur - tr).StoreUnsafe(ref r0, m);
                (ui - ti).StoreUnsafe(ref i0, m);
            }

            return;
        }

        for (var j = jFrom; j < jTo; j++)
        {
            var k = start + j;
            var m = k + h;
            var wr = _twRe[h + j];
            var wi = _twIm[h + j];
            var xr = re[m];
            var xi = im[m];
            var tr = (xr * wr) - (xi * wi);
            var ti = (xr * wi) + (xi * wr);
            var ur = re[k];
            var ui = im[k];
            re[k] = ur + tr;
            im[k] = ui + ti;
            re[m] = ur - tr;
            im[m] = ui - ti;
        }
    }

    /// <summary>Linear convolution of two real sequences through one complex FFT pair (a in the real part, b in the imaginary part).</summary>
    public static double[] ConvolveReal(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var outLen = a.Length + b.Length - 1;
        var n = NextPowerOfTwo(outLen);
        var re = new double[n];
        var im = new double[n];
        a.CopyTo(re);
        b.CopyTo(im);
        var fft = ForSize(n);
        fft.Transform(re, im, inverse: false);

        // With z = a + ib: A_k = (Z_k + conj Z_{n−k})/2, B_k = (Z_k − conj Z_{n−k})/(2i); the product A_k·B_k
        // of two Hermitian spectra is Hermitian, so its inverse transform is real.
        var pr = new double[n];
        var pi = new double[n];
        for (var k = 0; k < n; k++)
        {
            var j = (n - k) & (n - 1);
            var zr = re[k];
            var zi = im[k];
            var cr = re[j];
            var ci = -im[j];
            var ar = 0.5 * (zr + cr);
            var ai = 0.5 * (zi + ci);
            // (z − c)/(2i) = (−i/2)(z − c).
            var br = 0.5 * (zi - ci);
            var bi = -0.5 * (zr - cr);
            pr[k] = (ar * br) - (ai * bi);
            pi[k] = (ar * bi) + (ai * br);
        }

        fft.Transform(pr, pi, inverse: true);
        var result = new double[outLen];
        Array.Copy(pr, result, outLen);
        return result;
    }

    /// <summary>
    /// Cyclic n-fold self-convolutions of two real sequences x and y (either may be empty) on a common length
    /// <paramref name="n"/>: one forward FFT of x + iy, split into the two spectra, raise each to the power
    /// <paramref name="times"/> pointwise (binary powering), recombine as Xⁿ + iYⁿ, one inverse FFT.
    /// </summary>
    public static (double[] X, double[] Y) SelfConvolveCyclic(ReadOnlySpan<double> x, ReadOnlySpan<double> y, long times, int n)
    {
        var re = new double[n];
        var im = new double[n];
        x.CopyTo(re);
        y.CopyTo(im);
        var fft = ForSize(n);
        fft.Transform(re, im, inverse: false);
        // Split into the spectra of x and y on k = 0..n/2 (the rest follows by Hermitian symmetry).
        var half = (n / 2) + 1;
        var xr = new double[half];
        var xi = new double[half];
        var yr = new double[half];
        var yi = new double[half];
        for (var k = 0; k < half; k++)
        {
            var j = (n - k) & (n - 1);
            var zr = re[k];
            var zi = im[k];
            var cr = re[j];
            var ci = -im[j];
            xr[k] = 0.5 * (zr + cr);
            xi[k] = 0.5 * (zi + ci);
            yr[k] = 0.5 * (zi - ci);
            yi[k] = -0.5 * (zr - cr);
        }

        PowerInPlace(xr, xi, times);
        if (!y.IsEmpty)
        {
            PowerInPlace(yr, yi, times);
        }
        else
        {
            Array.Clear(yr);
            Array.Clear(yi);
        }

        // W_k = Xⁿ_k + i·Yⁿ_k, and W_{n−k} = conj(Xⁿ_k) + i·conj(Yⁿ_k).
        for (var k = 0; k < half; k++)
        {
            var j = (n - k) & (n - 1);
            re[k] = xr[k] - yi[k];
            im[k] = xi[k] + yr[k];
            if (j != k)
            {
                re[j] = xr[k] + yi[k];
                im[j] = -xi[k] + yr[k];
            }
        }

        fft.Transform(re, im, inverse: true);
        return (re, im);
    }

    // (re + i·im)^e element-wise by binary powering (about 2·log2(e) complex multiplications), four lanes at a time.
    private static void PowerInPlace(double[] re, double[] im, long e)
    {
        var n = re.Length;
        var k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var r0 = ref MemoryMarshal.GetArrayDataReference(re);
            ref var i0 = ref MemoryMarshal.GetArrayDataReference(im);
            for (; k + 4 <= n; k += 4)
            {
                var bR = Vector256.LoadUnsafe(ref r0, (nuint)k);
                var bI = Vector256.LoadUnsafe(ref i0, (nuint)k);
                var accR = Vector256.Create(1.0);
                var accI = Vector256<double>.Zero;
                var rest = e;
                while (rest > 0)
                {
                    if ((rest & 1) != 0)
                    {
                        var t = (accR * bR) - (accI * bI);
                        accI = (accR * bI) + (accI * bR);
                        accR = t;
                    }

                    rest >>= 1;
                    if (rest > 0)
                    {
                        var t = (bR * bR) - (bI * bI);
                        bI = (bR + bR) * bI;
                        bR = t;
                    }
                }

                accR.StoreUnsafe(ref r0, (nuint)k);
                accI.StoreUnsafe(ref i0, (nuint)k);
            }
        }

        for (; k < n; k++)
        {
            (re[k], im[k]) = Power(re[k], im[k], e);
        }
    }

    // (r + i·m)^e by binary powering: about 2·log2(e) complex multiplications.
    private static (double Re, double Im) Power(double r, double m, long e)
    {
        double accR = 1.0, accI = 0.0;
        var bR = r;
        var bI = m;
        while (e > 0)
        {
            if ((e & 1) != 0)
            {
                var t = (accR * bR) - (accI * bI);
                accI = (accR * bI) + (accI * bR);
                accR = t;
            }

            e >>= 1;
            if (e > 0)
            {
                var t = (bR * bR) - (bI * bI);
                bI = 2.0 * bR * bI;
                bR = t;
            }
        }

        return (accR, accI);
    }
}
