using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Experiments.Features;

/// <summary>
/// The 2-D wavelet scattering transform of order 2 (Mallat 2012; Bruna &amp; Mallat 2013) with Morlet wavelets, the
/// fixed, data-independent feature extractor of Tramèr &amp; Boneh (2021), "Differentially Private Learning Needs Better
/// Features": J scales, L orientations. For [B, C, H, W] images it returns [B, C·K, H/2^J, W/2^J] with
/// K = 1 + J·L + L²·J(J−1)/2 channels per input channel (81 for J = 2, L = 8; [B, 81, 7, 7] for a 28×28 image).
/// </summary>
/// <remarks>
/// <para>
/// The filter bank and the algorithm follow the definitions of Kymatio's <c>Scattering2D</c> (Andreux et al. 2020), so
/// that the features are the ones the paper trained on: the image is reflect-padded to a multiple of 2^J with at least
/// 2^(J−1)+… pixels each side; the filters are built in space from their formulas (a Gabor or Morlet function summed over
/// 5×5 periods, so it is periodic on the padded grid), and applied as products in the Fourier domain; each modulus is
/// taken at the coarsest resolution that its wavelet allows (subsampling in Fourier by averaging the folded spectrum);
/// the result is low-passed by φ (a Gaussian at scale 2^J), subsampled to a total factor 2^J and cropped by one
/// coefficient on each side.
/// </para>
/// <para>
/// Channel order: S₀ = x ⋆ φ; then S₁[j₁, θ₁] = |x ⋆ ψ_{j₁,θ₁}| ⋆ φ (j₁ major); then S₂[j₁, θ₁, j₂, θ₂] =
/// ||x ⋆ ψ_{j₁,θ₁}| ⋆ ψ_{j₂,θ₂}| ⋆ φ for j₂ &gt; j₁ (in that nesting order).
/// </para>
/// </remarks>
internal sealed class ScatteringTransform : IDisposable
{
    private readonly int _scales;
    private readonly int _orientations;
    private readonly int _height;
    private readonly int _width;
    private readonly int _paddedHeight;
    private readonly int _paddedWidth;
    private readonly int _padTop;
    private readonly int _padLeft;

    // _psi[j]: [L, Hp, Wp] real Fourier transforms of the wavelets at scale j (full resolution).
    private readonly Tensor[] _psi;

    // _phi[r]: [Hp/2^r, Wp/2^r] real Fourier transform of the low-pass filter, periodised to resolution r.
    private readonly Tensor[] _phi;

    /// <summary>Builds the filter bank for images of <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="height">Image height H; H/2^J must be an integer.</param>
    /// <param name="width">Image width W; W/2^J must be an integer.</param>
    /// <param name="scales">J ≥ 1, the number of scales (2 in the paper).</param>
    /// <param name="orientations">L ≥ 1, the number of orientations in [0, π) (8 in the paper).</param>
    public ScatteringTransform(int height, int width, int scales = 2, int orientations = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scales, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(orientations, 1);
        var step = 1 << scales;
        if (height < step || width < step || height % step != 0 || width % step != 0)
        {
            throw new ArgumentException($"the image size {height}×{width} must be a positive multiple of 2^J = {step}");
        }

        _scales = scales;
        _orientations = orientations;
        _height = height;
        _width = width;

        // Pad to the next multiple of 2^J strictly above H + 2^J (so that at least 2^(J-1) pixels of reflection surround the
        // image on each side and the coarsest grid keeps one coefficient of margin, cropped at the end).
        _paddedHeight = ((height + step) / step + 1) * step;
        _paddedWidth = ((width + step) / step + 1) * step;
        _padTop = (_paddedHeight - height) / 2;
        _padLeft = (_paddedWidth - width) / 2;

        using var scope = torch.NewDisposeScope();
        _psi = new Tensor[scales];
        for (var j = 0; j < scales; j++)
        {
            var bank = new Tensor[orientations];
            for (var t = 0; t < orientations; t++)
            {
                // θ runs from (L − L/2 − 1)·π/L downwards in steps of π/L; σ = 0.8·2^j, ξ = 3π/(4·2^j), slant 4/L.
                var theta = ((int)(orientations - orientations / 2.0 - 1) - t) * Math.PI / orientations;
                bank[t] = FourierReal(Morlet(_paddedHeight, _paddedWidth, 0.8 * (1 << j), theta, 3.0 * Math.PI / 4.0 / (1 << j), 4.0 / orientations));
            }

            _psi[j] = torch.stack(bank).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
        }

        using var phiFull = FourierReal(Gabor(_paddedHeight, _paddedWidth, 0.8 * (1 << (scales - 1)), 0, 0, 1));
        _phi = new Tensor[scales];
        for (var r = 0; r < scales; r++)
        {
            _phi[r] = LowFrequencies(phiFull, 1 << r).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
        }
    }

    /// <summary>K, the output channels per input channel: 1 + J·L + L²·J(J−1)/2.</summary>
    public int ChannelsPerInput => 1 + (_scales * _orientations) + (_orientations * _orientations * _scales * (_scales - 1) / 2);

    /// <summary>The output height H/2^J.</summary>
    public int OutputHeight => _height >> _scales;

    /// <summary>The output width W/2^J.</summary>
    public int OutputWidth => _width >> _scales;

    /// <summary>The scattering coefficients of a batch.</summary>
    /// <param name="images">float32 [B, C, H, W].</param>
    /// <returns>float32 [B, C·K, H/2^J, W/2^J]: for each input channel its K coefficients, in the order of the class remarks.</returns>
    public Tensor Transform(Tensor images)
    {
        if (images.dim() != 4 || images.shape[2] != _height || images.shape[3] != _width)
        {
            throw new ArgumentException($"expected images [B, C, {_height}, {_width}], got [{string.Join(", ", images.shape)}]", nameof(images));
        }

        using var scope = torch.NewDisposeScope();
        var b = images.shape[0];
        var c = images.shape[1];
        var l = (long)_orientations;
        var x = images.to_type(ScalarType.Float32).reshape(b * c, 1, _height, _width);
        var padded = F.pad(x, [_padLeft, _paddedWidth - _width - _padLeft, _padTop, _paddedHeight - _height - _padTop], PaddingModes.Reflect)
            .reshape(b * c, _paddedHeight, _paddedWidth);
        var u0 = torch.fft.fft2(padded);                                  // [N, Hp, Wp]

        var outputs = new List<Tensor> { LowPass(u0, 0).unsqueeze(1) };   // S0: [N, 1, h, w]
        var firstOrder = new List<Tensor>();
        var secondOrder = new List<Tensor>();
        for (var j1 = 0; j1 < _scales; j1++)
        {
            // U1 = |x ⋆ ψ_{j1,θ1}| for all θ1 at once, at resolution j1.
            var u1 = Subsample(u0.unsqueeze(1) * _psi[j1], 1 << j1);      // [N, L, Hp/2^j1, Wp/2^j1]
            var u1Fourier = torch.fft.fft2(torch.fft.ifft2(u1).abs());
            firstOrder.Add(LowPass(u1Fourier, j1));                        // [N, L, h, w]
            for (var j2 = j1 + 1; j2 < _scales; j2++)
            {
                // U2 = ||x ⋆ ψ1| ⋆ ψ_{j2,θ2}|, at resolution j2: ψ_{j2} periodised to resolution j1, then subsampled by 2^(j2−j1).
                var psi2 = LowFrequencies(_psi[j2], 1 << j1);              // [L, Hp/2^j1, Wp/2^j1]
                var u2 = Subsample(u1Fourier.unsqueeze(2) * psi2, 1 << (j2 - j1));   // [N, L, L, ., .]
                var s2 = LowPass(torch.fft.fft2(torch.fft.ifft2(u2).abs()), j2);     // [N, L, L, h, w]
                secondOrder.Add(s2.reshape(b * c, l * l, s2.shape[^2], s2.shape[^1]));
            }
        }

        outputs.AddRange(firstOrder);
        outputs.AddRange(SecondOrderInOrder(secondOrder, b * c));
        var all = torch.cat(outputs, 1);                                   // [N, K, h, w]
        return all.reshape(b, c * ChannelsPerInput, OutputHeight, OutputWidth).MoveToOuterDisposeScope();
    }

    /// <summary>The scattering coefficients of many images, <paramref name="chunk"/> at a time without gradients.</summary>
    /// <param name="images">float32 [N, C, H, W].</param>
    /// <param name="chunk">Images per chunk (bounds the memory of the intermediate complex tensors).</param>
    /// <returns>float32 [N, C·K, H/2^J, W/2^J].</returns>
    public Tensor TransformAll(Tensor images, long chunk = 500)
    {
        using var noGrad = torch.no_grad();
        var n = images.shape[0];
        var result = torch.empty([n, images.shape[1] * ChannelsPerInput, OutputHeight, OutputWidth], ScalarType.Float32);
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var length = Math.Min(chunk, n - start);
            result.narrow(0, start, length).copy_(Transform(images.narrow(0, start, length)));
        }

        return result;
    }

    /// <summary>Frees the filter bank.</summary>
    public void Dispose()
    {
        foreach (var t in _psi.Concat(_phi))
        {
            t.Dispose();
        }
    }

    // Second-order blocks come per (j1, j2) pair, j1 major; inside each block θ1 is major. The channel order nests
    // j1, θ1, j2, θ2, so for J > 2 the blocks of one j1 are interleaved by θ1.
    private IEnumerable<Tensor> SecondOrderInOrder(List<Tensor> blocks, long n)
    {
        var index = 0;
        for (var j1 = 0; j1 < _scales; j1++)
        {
            var count = _scales - 1 - j1;
            if (count == 0)
            {
                continue;
            }

            var mine = blocks.GetRange(index, count)
                .Select(t => t.reshape(n, _orientations, _orientations, t.shape[^2], t.shape[^1]))
                .ToArray();
            index += count;
            // [N, θ1, j2, θ2, h, w]
            var stacked = torch.stack(mine, 2);
            yield return stacked.reshape(n, _orientations * count * _orientations, stacked.shape[^2], stacked.shape[^1]);
        }
    }

    // Low-pass a spectrum at resolution r by φ, subsample to the total factor 2^J, back to space, crop one coefficient each side.
    private Tensor LowPass(Tensor spectrum, int resolution)
    {
        var filtered = Subsample(spectrum * _phi[resolution], 1 << (_scales - resolution));
        var spatial = torch.fft.ifft2(filtered).real;
        var h = spatial.shape[^2];
        var w = spatial.shape[^1];
        return spatial.narrow(-2, 1, h - 2).narrow(-1, 1, w - 2);
    }

    // Subsampling a signal by k in space is averaging the k×k folds of its spectrum (the last two dimensions).
    private static Tensor Subsample(Tensor spectrum, int k)
    {
        if (k == 1)
        {
            return spectrum;
        }

        var lead = spectrum.shape[..^2];
        var h = spectrum.shape[^2];
        var w = spectrum.shape[^1];
        return spectrum.reshape([.. lead, k, h / k, k, w / k]).mean([lead.Length, lead.Length + 2]);
    }

    // A filter for a grid k times coarser: its spectrum restricted to the lowest h/k × w/k frequencies (the band from
    // h/(2k) to h − h/(2k) is dropped in each axis, no aliasing), as Kymatio's filter bank does.
    private static Tensor LowFrequencies(Tensor spectrum, int k)
    {
        if (k == 1)
        {
            return spectrum.alias();
        }

        var lead = spectrum.shape[..^2];
        var h = spectrum.shape[^2];
        var w = spectrum.shape[^1];
        var rows = torch.ones(h, dtype: spectrum.dtype);
        rows.narrow(0, h / (2 * k), h - (h / k)).zero_();
        var columns = torch.ones(w, dtype: spectrum.dtype);
        columns.narrow(0, w / (2 * k), w - (w / k)).zero_();
        var kept = spectrum * rows.unsqueeze(1) * columns.unsqueeze(0);
        return kept.reshape([.. lead, k, h / k, k, w / k]).sum([lead.Length, lead.Length + 2]);
    }

    private static Tensor FourierReal(double[,] spatialRe, double[,] spatialIm)
    {
        var h = spatialRe.GetLength(0);
        var w = spatialRe.GetLength(1);
        using var re = torch.tensor(spatialRe.Cast<double>().ToArray(), [h, w], ScalarType.Float64);
        using var im = torch.tensor(spatialIm.Cast<double>().ToArray(), [h, w], ScalarType.Float64);
        using var complexFilter = torch.complex(re, im);
        using var spectrum = torch.fft.fft2(complexFilter);
        return spectrum.real.clone();
    }

    private static Tensor FourierReal((double[,] Re, double[,] Im) filter) => FourierReal(filter.Re, filter.Im);

    /// <summary>
    /// A Morlet wavelet on an h × w periodic grid: the Gabor function minus the Gaussian envelope scaled so that the sum
    /// (the zero frequency) is exactly 0.
    /// </summary>
    internal static (double[,] Re, double[,] Im) Morlet(int h, int w, double sigma, double theta, double xi, double slant)
    {
        var (waveRe, waveIm) = Gabor(h, w, sigma, theta, xi, slant);
        var (envRe, _) = Gabor(h, w, sigma, theta, 0, slant);
        double sumRe = 0, sumIm = 0, sumEnv = 0;
        for (var i = 0; i < h; i++)
        {
            for (var k = 0; k < w; k++)
            {
                sumRe += waveRe[i, k];
                sumIm += waveIm[i, k];
                sumEnv += envRe[i, k];
            }
        }

        // κ = Σ wave / Σ envelope (complex); the envelope is real.
        var kappaRe = sumRe / sumEnv;
        var kappaIm = sumIm / sumEnv;
        for (var i = 0; i < h; i++)
        {
            for (var k = 0; k < w; k++)
            {
                waveRe[i, k] -= kappaRe * envRe[i, k];
                waveIm[i, k] -= kappaIm * envRe[i, k];
            }
        }

        return (waveRe, waveIm);
    }

    /// <summary>
    /// A Gabor function on an h × w periodic grid: exp(−uᵀ·A·u + i·ξ·(u₀ cos θ + u₁ sin θ)) with
    /// A = R_θ·diag(1, slant²)·R_θᵀ / (2σ²), summed over the 5 × 5 periods nearest the origin, divided by 2·3.1415·σ²/slant
    /// (so the envelope sums to about 1). u₀ runs along the rows (height), u₁ along the columns.
    /// </summary>
    internal static (double[,] Re, double[,] Im) Gabor(int h, int w, double sigma, double theta, double xi, double slant)
    {
        var (cos, sin) = (Math.Cos(theta), Math.Sin(theta));
        var inv2s2 = 1.0 / (2 * sigma * sigma);
        // A = R·D·Rᵀ/(2σ²) with R = [[cos, −sin], [sin, cos]], D = diag(1, slant²).
        var s2 = slant * slant;
        var a00 = ((cos * cos) + (s2 * sin * sin)) * inv2s2;
        var a01 = (cos * sin * (1 - s2)) * inv2s2;
        var a11 = ((sin * sin) + (s2 * cos * cos)) * inv2s2;
        // Kymatio normalises with 3.1415 for π (filter_bank.py); kept so the features equal the paper's to float precision.
        var norm = 2 * 3.1415 * sigma * sigma / slant;
        var re = new double[h, w];
        var im = new double[h, w];
        for (var ex = -2; ex <= 2; ex++)
        {
            for (var ey = -2; ey <= 2; ey++)
            {
                for (var i = 0; i < h; i++)
                {
                    double u0 = i + (ex * h);
                    for (var k = 0; k < w; k++)
                    {
                        double u1 = k + (ey * w);
                        var magnitude = Math.Exp(-((a00 * u0 * u0) + (2 * a01 * u0 * u1) + (a11 * u1 * u1)));
                        var phase = xi * ((u0 * cos) + (u1 * sin));
                        re[i, k] += magnitude * Math.Cos(phase);
                        im[i, k] += magnitude * Math.Sin(phase);
                    }
                }
            }
        }

        for (var i = 0; i < h; i++)
        {
            for (var k = 0; k < w; k++)
            {
                re[i, k] /= norm;
                im[i, k] /= norm;
            }
        }

        return (re, im);
    }
}
