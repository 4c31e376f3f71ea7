using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Noise;

/// <summary>
/// The only place DiffPriv draws privacy noise. <see cref="CreateSecure"/> (the default for training) draws
/// from the operating system's cryptographically secure generator; <see cref="CreateSeeded"/> gives a
/// reproducible stream for tests and for experiments that must be replayed exactly.
/// </summary>
/// <remarks>
/// <para>
/// A seeded gate gives no privacy against anyone who knows or can guess the seed: the noise can then be
/// subtracted. Its stream (torch's mt19937 and normal sampler) is kept bit for bit so that seeded runs replay.
/// </para>
/// <para>
/// A secure gate draws Box–Muller samples in float64 from 8 fresh CSPRNG bytes per value, vectorised and in parallel.
/// Floating-point Gaussian samples added to a value leak that value through their low bits (Mironov 2012, "On
/// significance of the least significant bits for differential privacy"): the set of floats that v + Z can produce
/// depends on v. <see cref="AddGaussians"/> closes this for releases: it rounds v + Z to a power-of-two grid g between
/// s/2¹³ and s/2¹² (s the noise std), computed exactly in float64, so every output lies on g·ℤ whatever v is, and the
/// release is post-processing of the Gaussian mechanism (the accountant's Gaussian(σ) bound holds unchanged, up to how
/// closely the float64 sampler matches N(0, 1) at a resolution of 2⁻¹² std). The added rounding variance is at most
/// g²/12 ≤ s²·5·10⁻⁹. <see cref="Gaussian"/> and <see cref="Gaussians"/> return raw noise without this defence: adding
/// them to a value yourself reopens the attack.
/// </para>
/// </remarks>
public sealed class NoiseGate : IDisposable
{
    private readonly Generator? _generator;
    private readonly long _seed;
    private bool _disposed;

    private NoiseGate(Generator? generator, long seed)
    {
        _generator = generator;
        _seed = seed;
    }

    /// <summary>True when noise comes from the OS CSPRNG (not reproducible, not predictable).</summary>
    public bool IsSecure => _generator is null;

    /// <summary>The seed of a seeded gate; null for a secure gate.</summary>
    public long? Seed => IsSecure ? null : _seed;

    /// <summary>
    /// Test-only seam: every standard deviation asked of this gate is multiplied by this factor (default 1). The self-audit's
    /// power test sets ¼ to show that the audit catches noise four times too small. Internal, visible to the DiffPriv.Tests
    /// assembly only; no public or protected member reaches it (a test checks this by reflection).
    /// </summary>
    internal double StandardDeviationScaleForTests { get; set; } = 1;

    /// <summary>A gate drawing from the operating system's cryptographically secure random number generator.</summary>
    /// <returns>The gate.</returns>
    public static NoiseGate CreateSecure()
    {
        TorchRuntime.EnsureLoaded();
        return new NoiseGate(null, 0);
    }

    /// <summary>A reproducible gate (mt19937 via a torch <see cref="Generator"/>). For tests and replayable experiments only.</summary>
    /// <param name="seed">The seed.</param>
    /// <returns>The gate.</returns>
    public static NoiseGate CreateSeeded(long seed)
    {
        TorchRuntime.EnsureLoaded();
        return new NoiseGate(new Generator((ulong)seed, torch.CPU), seed);
    }

    /// <summary>
    /// Draws a tensor of independent N(0, <paramref name="standardDeviation"/>²) samples: raw noise. To release a value
    /// plus noise, use <see cref="AddGaussians"/>, which also defends against the floating-point attack.
    /// </summary>
    /// <param name="shape">The tensor shape.</param>
    /// <param name="standardDeviation">The noise std (e.g. σ·C for DP-SGD); finite, ≥ 0.</param>
    /// <param name="dtype">The element type of the result (float32 or float64).</param>
    /// <param name="device">Where the result lives; noise is drawn on the CPU and moved.</param>
    /// <returns>A new tensor owned by the caller's dispose scope.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The standard deviation is negative or not finite.</exception>
    public Tensor Gaussian(ReadOnlySpan<long> shape, double standardDeviation, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!(standardDeviation >= 0 && double.IsFinite(standardDeviation)))
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "Noise standard deviation must be finite and ≥ 0.");
        }

        return GaussianCore(shape.ToArray(), standardDeviation * StandardDeviationScaleForTests, dtype, device);
    }

    private Tensor GaussianCore(long[] dims, double standardDeviation, ScalarType dtype, Device? device)
    {
        using var scope = torch.NewDisposeScope();
        Tensor result;
        if (_generator is not null)
        {
            result = torch.randn(dims, dtype: ScalarType.Float64, generator: _generator).mul(standardDeviation).to(dtype);
        }
        else if (dtype == ScalarType.Float32)
        {
            result = torch.empty(dims, dtype: ScalarType.Float32);
            SecureGaussian.FillScaled(Memory<float>(result), standardDeviation, SecureGaussian.Os);
        }
        else
        {
            result = torch.empty(dims, dtype: ScalarType.Float64);
            SecureGaussian.FillScaled(Memory<double>(result), standardDeviation, SecureGaussian.Os);
            result = result.to(dtype);
        }

        if (device is not null)
        {
            result = result.to(device);
        }

        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Releases value + N(0, <paramref name="standardDeviation"/>²) per coordinate for every requested tensor: the
    /// Gaussian mechanism. A secure gate rounds each output to a power-of-two grid g ∈ (s/2¹³, s/2¹²] (the floating-point
    /// defence, see the remarks on <see cref="NoiseGate"/>); a seeded gate returns exactly
    /// <c>Gaussians(...)[i].add_(value)</c>, the stream and values of earlier versions.
    /// </summary>
    /// <param name="tensors">Per tensor: the value to noise (null: release pure noise; any shape-compatible floating
    /// tensor, converted to <c>Type</c> first), its shape, the result's element type and device.</param>
    /// <param name="standardDeviation">The noise std s (σ·C for DP-SGD); finite, ≥ 0. With 0 the values are returned
    /// as they are (converted), without noise.</param>
    /// <returns>New tensors, in the order requested, owned by the caller's dispose scope.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The standard deviation is negative or not finite, or (secure gate)
    /// positive but below 1e-200, where the grid's scale would overflow.</exception>
    public IReadOnlyList<Tensor> AddGaussians(IReadOnlyList<(Tensor? Value, long[] Shape, ScalarType Type, Device? Device)> tensors, double standardDeviation)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!(standardDeviation >= 0 && double.IsFinite(standardDeviation)))
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "Noise standard deviation must be finite and ≥ 0.");
        }

        standardDeviation *= StandardDeviationScaleForTests;
        if (_generator is null && standardDeviation is > 0 and < 1e-200)
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "Secure noise needs a standard deviation of 0 or at least 1e-200.");
        }

        var results = new List<Tensor>(tensors.Count);
        foreach (var (value, shape, type, device) in tensors)
        {
            if (_generator is not null)
            {
                var noise = GaussianCore(shape, standardDeviation, type, device);
                results.Add(value is null ? noise : noise.add_(value));
            }
            else
            {
                results.Add(SecureRelease(value, shape, type, device, standardDeviation));
            }
        }

        return results;
    }

    // value + N(0, s²) snapped to the grid, computed on the CPU in float32 or float64 straight into the result's memory.
    private static Tensor SecureRelease(Tensor? value, long[] dims, ScalarType type, Device? device, double standardDeviation)
    {
        using var scope = torch.NewDisposeScope();
        var work = type == ScalarType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        var centre = value?.detach();
        if (centre is not null)
        {
            centre = centre.dtype == work && centre.device_type == DeviceType.CPU ? centre : centre.to(work, torch.CPU);
            centre = centre.reshape(dims).contiguous();
        }

        Tensor result;
        if (standardDeviation == 0)
        {
            result = centre?.to(type, copy: true) ?? torch.zeros(dims, dtype: type);
        }
        else
        {
            result = torch.empty(dims, dtype: work);
            if (work == ScalarType.Float32)
            {
                var c = centre is null ? default : (ReadOnlySpan<float>)Memory<float>(centre);
                SecureGaussian.AddSnapped(c, Memory<float>(result), standardDeviation, SecureGaussian.Os);
            }
            else
            {
                var c = centre is null ? default : (ReadOnlySpan<double>)Memory<double>(centre);
                SecureGaussian.AddSnapped(c, Memory<double>(result), standardDeviation, SecureGaussian.Os);
            }

            result = result.dtype == type ? result : result.to(type);
        }

        if (device is not null && device.type != DeviceType.CPU)
        {
            result = result.to(device);
        }

        return result.MoveToOuterDisposeScope();
    }

    // The elements of a contiguous CPU tensor, in place (no copy through managed memory).
    private static unsafe Span<T> Memory<T>(Tensor tensor)
        where T : unmanaged
    {
        var pointer = (T*)tensor.storage<T>().data_ptr() + tensor.storage_offset();
        return new Span<T>(pointer, checked((int)tensor.numel()));
    }

    /// <summary>
    /// Draws one tensor of independent N(0, <paramref name="standardDeviation"/>²) samples per requested shape: the same
    /// distribution as calling <see cref="Gaussian"/> once per shape (and, for a seeded gate, the same stream). To release
    /// a value plus noise, use <see cref="AddGaussians"/>, which also defends against the floating-point attack.
    /// </summary>
    /// <param name="tensors">Shape, element type and device of every tensor to draw.</param>
    /// <param name="standardDeviation">The noise std; finite, ≥ 0.</param>
    /// <returns>New tensors, in the order requested, owned by the caller's dispose scope.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The standard deviation is negative or not finite.</exception>
    public IReadOnlyList<Tensor> Gaussians(IReadOnlyList<(long[] Shape, ScalarType Type, Device? Device)> tensors, double standardDeviation)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!(standardDeviation >= 0 && double.IsFinite(standardDeviation)))
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "Noise standard deviation must be finite and ≥ 0.");
        }

        standardDeviation *= StandardDeviationScaleForTests;
        return tensors.Select(t => GaussianCore(t.Shape, standardDeviation, t.Type, t.Device)).ToList();
    }

    /// <summary>
    /// Poisson sampling: every index in [0, <paramref name="populationSize"/>) is kept independently with probability
    /// <paramref name="probability"/>. The randomness of sampling is part of the privacy guarantee (amplification by
    /// sampling), so it comes from this gate like the noise.
    /// </summary>
    /// <param name="populationSize">n ≥ 0.</param>
    /// <param name="probability">q ∈ [0, 1].</param>
    /// <returns>The kept indices in increasing order, an int64 tensor of shape [k] (k may be 0).</returns>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 0 or q ∉ [0, 1].</exception>
    public Tensor PoissonSample(long populationSize, double probability)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(populationSize);
        if (!(probability >= 0 && probability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Sampling probability must be in [0, 1].");
        }

        using var scope = torch.NewDisposeScope();
        var uniforms = _generator is not null
            ? torch.rand([populationSize], dtype: ScalarType.Float64, generator: _generator)
            : SecureUniforms(populationSize);
        return (uniforms < probability).nonzero().reshape(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A uniformly random order of [0, <paramref name="count"/>): the shuffle of fixed-size batches (DP-FTRL). Unlike
    /// Poisson sampling, DP-FTRL's guarantee does not rest on this randomness (it holds for any order); it comes from the
    /// gate so that a seeded run replays exactly.
    /// </summary>
    /// <param name="count">n ≥ 0.</param>
    /// <returns>An int64 tensor of shape [n] holding every index once.</returns>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 0.</exception>
    public Tensor Permutation(long count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        using var scope = torch.NewDisposeScope();
        var order = _generator is not null
            ? torch.randperm(count, generator: _generator)
            : SecureUniforms(count).argsort();
        return order.MoveToOuterDisposeScope();
    }

    /// <summary>The generator state of a seeded gate (for checkpoints); null for a secure gate, which has none to save.</summary>
    /// <returns>The state bytes, or null.</returns>
    public byte[]? GetState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_generator is null)
        {
            return null;
        }

        using var state = _generator.get_state();
        return state.data<byte>().ToArray();
    }

    /// <summary>Restores a seeded gate's generator state from <see cref="GetState"/>.</summary>
    /// <param name="state">The saved bytes.</param>
    /// <exception cref="InvalidOperationException">The gate is secure (it has no state).</exception>
    public void SetState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_generator is null)
        {
            throw new InvalidOperationException("A secure noise gate has no state to restore.");
        }

        using var t = torch.tensor(state, dtype: ScalarType.Byte);
        _generator.set_state(t);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_disposed)
        {
            _generator?.Dispose();
            _disposed = true;
        }
    }

    // 53-bit uniforms from the OS CSPRNG as a float64 tensor [count]; with offsetByOne they lie in (0, 1], otherwise in
    // [0, 1). The random words go through a pooled buffer that is cleared when returned: fresh arrays of this size (26 000
    // parameters: 4 × 105 KB per step) would land on the large-object heap and force a full garbage collection every few
    // steps, and the buffer holds noise, which must not linger in memory shared with other code.
    private static Tensor SecureUniforms(long count, bool offsetByOne = false)
    {
        var n = checked((int)count);
        var rented = ArrayPool<ulong>.Shared.Rent(Math.Max(n, 1));
        try
        {
            var words = rented.AsSpan(0, n);
            RandomNumberGenerator.Fill(MemoryMarshal.AsBytes(words));
            var values = MemoryMarshal.Cast<ulong, double>(words);
            const double Scale = 1.0 / (1UL << 53);
            var offset = offsetByOne ? 1UL : 0UL;
            for (var i = 0; i < n; i++)
            {
                values[i] = ((words[i] >> 11) + offset) * Scale; // reads word i before overwriting it
            }

            var result = torch.empty(count, dtype: ScalarType.Float64);
            result.bytes = MemoryMarshal.AsBytes(values);
            return result;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(rented, clearArray: true);
        }
    }
}
