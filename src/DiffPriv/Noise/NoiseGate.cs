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
/// A seeded gate gives no privacy against anyone who knows or can guess the seed: the noise can then be
/// subtracted. Secure Gaussian samples use the Box–Muller transform on 53-bit uniforms in float64; the
/// floating-point attack on textbook samplers (Mironov 2012) is not addressed here.
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

    /// <summary>Draws a tensor of independent N(0, <paramref name="standardDeviation"/>²) samples.</summary>
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
        var standard = _generator is not null
            ? torch.randn(dims, dtype: ScalarType.Float64, generator: _generator)
            : SecureStandardNormal(dims);
        var result = standard.mul(standardDeviation).to(dtype);
        if (device is not null)
        {
            result = result.to(device);
        }

        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Draws one tensor of independent N(0, <paramref name="standardDeviation"/>²) samples per requested shape. Same
    /// distribution as calling <see cref="Gaussian"/> once per shape (and, for a seeded gate, the same stream); a secure
    /// gate draws all coordinates in one CSPRNG pass instead of one per tensor.
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
        if (_generator is not null || tensors.Count <= 1)
        {
            return tensors.Select(t => GaussianCore(t.Shape, standardDeviation, t.Type, t.Device)).ToList();
        }

        var counts = tensors.Select(t => t.Shape.Aggregate(1L, (a, d) => checked(a * d))).ToArray();
        var total = counts.Aggregate(0L, (a, c) => checked(a + c));
        var results = new List<Tensor>(tensors.Count);
        using var scope = torch.NewDisposeScope();
        var flat = SecureStandardNormal([total]).mul_(standardDeviation);
        var offset = 0L;
        for (var i = 0; i < tensors.Count; i++)
        {
            var (shape, type, device) = tensors[i];
            var result = flat.narrow(0, offset, counts[i]).reshape(shape).to(type).contiguous();
            if (device is not null)
            {
                result = result.to(device);
            }

            offset += counts[i];
            results.Add(result.MoveToOuterDisposeScope());
        }

        return results;
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

    // Box–Muller on pairs of secure uniforms; called inside the caller's dispose scope.
    private static Tensor SecureStandardNormal(long[] dims)
    {
        long count = 1;
        foreach (var d in dims)
        {
            count = checked(count * d);
        }

        var pairs = (count + 1) / 2;
        var t1 = SecureUniforms(pairs, offsetByOne: true); // (0, 1]: log is finite
        var t2 = SecureUniforms(pairs);
        var radius = t1.log().mul_(-2.0).sqrt_();
        var angle = t2.mul_(2 * Math.PI);
        return torch.cat([radius * angle.cos(), radius * angle.sin()], 0).narrow(0, 0, count).reshape(dims);
    }
}
