using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// A multi-layer GRU that the per-example gradient hooks (<c>GradSampleHooks</c>) supports: numerically the same function as TorchSharp's
/// fused <c>nn.GRU</c> (PyTorch's equations and gate order r, z, n), with the same parameters, written with ordinary
/// tensor operations so that every parameter has exact per-example gradients. The fused module cannot be trained
/// privately: its weights are used inside one native kernel that no forward hook can see.
/// </summary>
/// <remarks>
/// <para>Per layer ℓ and direction, with x_t the layer input at time t and h_0 = 0 unless given:</para>
/// <code>
/// [x_r, x_z, x_n] = W_ih x_t + b_ih,      [h_r, h_z, h_n] = W_hh h_{t−1} + b_hh      (three chunks of H)
/// r = σ(x_r + h_r),   z = σ(x_z + h_z),   n = tanh(x_n + r ⊙ h_n),   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
/// </code>
/// <para>Note that r multiplies the whole hidden part of n, bias b_hn included, so the hidden-side product is kept per
/// gate rather than added to the input projection. Parameters: child <c>l{ℓ}</c> (and <c>l{ℓ}_reverse</c>) holds
/// <c>weight_ih</c> [3H, in], <c>weight_hh</c> [3H, H], <c>bias_ih</c> and <c>bias_hh</c> [3H] — PyTorch's
/// <c>weight_ih_l{ℓ}</c>, … with the same layout, so <see cref="CopyFrom(GRU)"/> and <see cref="CopyTo(GRU)"/> move
/// weights both ways unchanged. W_ih multiplies the whole sequence [B, T, in] at once; W_hh runs once per time step.
/// Per-example gradients come from a single record per sequence: the hidden side's gradient is the input side's, with
/// the n block multiplied by r_t.</para>
/// <para>Use it as a building block: <c>call(x)</c> returns the last layer's hidden states; <see cref="ForwardWithState"/>
/// also returns the final h and accepts an initial state.</para>
/// <para><b>Privacy: an initial state must belong to the same example</b> (zeros, the default, or a state computed from that
/// example in the same forward pass). A state carried over from another example puts that example's data into this one's
/// clipped gradient, and the sensitivity is no longer C.</para>
/// </remarks>
public sealed class DpGru : nn.Module<Tensor, Tensor>
{
    private readonly RecurrentCore _core;

    /// <summary>Creates the layer, initialised as PyTorch does (every weight and bias uniform in ±1/√H).</summary>
    /// <param name="inputSize">Features per time step of the input, ≥ 1.</param>
    /// <param name="hiddenSize">H, features of the hidden state, ≥ 1.</param>
    /// <param name="numLayers">Stacked layers, ≥ 1; layer ℓ &gt; 0 reads layer ℓ − 1's hidden states.</param>
    /// <param name="bias">Whether the layers have the biases b_ih and b_hh.</param>
    /// <param name="batchFirst">True (default): input and output are [B, T, …]; false: [T, B, …], as <c>nn.GRU</c>'s default.
    /// States are [layers·directions, B, H] either way.</param>
    /// <param name="dropout">Dropout probability in [0, 1) on the outputs of every layer but the last, in training mode.</param>
    /// <param name="bidirectional">Whether each layer also runs backwards in time; outputs are then [.., 2H] (forward, backward).</param>
    /// <param name="device">Device of the parameters (default CPU).</param>
    /// <param name="dtype">Element type of the parameters (default float32).</param>
    public DpGru(
        long inputSize,
        long hiddenSize,
        long numLayers = 1,
        bool bias = true,
        bool batchFirst = true,
        double dropout = 0.0,
        bool bidirectional = false,
        Device? device = null,
        ScalarType? dtype = null)
        : base(nameof(DpGru))
    {
        _core = new RecurrentCore(this, RecurrentCell.Gru, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, device, dtype);
    }

    /// <summary>Features per time step of the input.</summary>
    public long InputSize => _core.InputSize;

    /// <summary>H, features of the hidden state.</summary>
    public long HiddenSize => _core.HiddenSize;

    /// <summary>Number of stacked layers.</summary>
    public long NumLayers => _core.NumLayers;

    /// <summary>Whether the layers have the biases b_ih and b_hh.</summary>
    public bool HasBias => _core.HasBias;

    /// <summary>Whether inputs and outputs are [B, T, …] (true) or [T, B, …].</summary>
    public bool BatchFirst => _core.BatchFirst;

    /// <summary>Dropout probability between layers in training mode.</summary>
    public double Dropout => _core.Dropout;

    /// <summary>Whether each layer also runs backwards in time.</summary>
    public bool Bidirectional => _core.Bidirectional;

    /// <summary>
    /// Creates a <see cref="DpGru"/> with the configuration and a copy of the weights of a TorchSharp <c>nn.GRU</c>
    /// (same device, dtype, training mode and requires_grad flags). The result computes the same function.
    /// </summary>
    /// <param name="gru">The fused GRU; it is not changed.</param>
    /// <param name="dropout">Dropout between layers: TorchSharp does not expose the fused module's, so pass it again (default 0).</param>
    /// <returns>A new layer, in the same training mode as <paramref name="gru"/>.</returns>
    /// <exception cref="NotSupportedException">The module's batch-first setting cannot be read.</exception>
    public static DpGru FromTorch(GRU gru, double dropout = 0.0)
    {
        ArgumentNullException.ThrowIfNull(gru);
        var d = RecurrentCore.Describe(gru, 3);
        var result = new DpGru(d.InputSize, d.HiddenSize, d.NumLayers, d.Bias, d.BatchFirst, dropout, d.Bidirectional, d.Device, d.DType);
        result.CopyFrom(gru);
        result._core.CopyRequiresGradFrom(gru);
        result.train(gru.training);
        return result;
    }

    /// <summary>Copies the weights of a TorchSharp <c>nn.GRU</c> with the same sizes into this layer.</summary>
    /// <param name="gru">The source; its <c>weight_ih_l{ℓ}</c>, <c>weight_hh_l{ℓ}</c>, <c>bias_ih_l{ℓ}</c>, <c>bias_hh_l{ℓ}</c> (and <c>…_reverse</c>) are read.</param>
    /// <exception cref="ArgumentException">Sizes, layer count, bias or directions differ.</exception>
    public void CopyFrom(GRU gru) => _core.CopyFrom(gru);

    /// <summary>Copies this layer's weights into a TorchSharp <c>nn.GRU</c> with the same sizes (for fast non-private inference).</summary>
    /// <param name="gru">The target; its parameters are overwritten.</param>
    /// <exception cref="ArgumentException">Sizes, layer count, bias or directions differ.</exception>
    public void CopyTo(GRU gru) => _core.CopyTo(gru);

    /// <summary>Runs the GRU from a zero initial state and returns the last layer's hidden states.</summary>
    /// <param name="input">[B, T, input] (or [T, B, input] when not batch-first), T ≥ 1.</param>
    /// <returns>[B, T, directions·H] (or [T, B, directions·H]).</returns>
    public override Tensor forward(Tensor input) => _core.Forward(input, null, null, training).Output;

    /// <summary>Runs the GRU and returns its output and final state, as <c>nn.GRU</c>'s forward does.</summary>
    /// <param name="input">[B, T, input] (or [T, B, input] when not batch-first), T ≥ 1.</param>
    /// <param name="hidden">Initial h_0, [layers·directions, B, H]; zeros when null.</param>
    /// <returns>Output [B, T, directions·H] (or [T, B, …]) and the final hidden state h_T, [layers·directions, B, H],
    /// ordered layer by layer, forward direction before reverse.</returns>
    public (Tensor Output, Tensor Hidden) ForwardWithState(Tensor input, Tensor? hidden = null)
    {
        var (output, h, _) = _core.Forward(input, hidden, null, training);
        return (output, h);
    }

    /// <summary>Re-initialises every weight and bias uniformly in ±1/√H, as PyTorch does.</summary>
    public void ResetParameters() => _core.ResetParameters();
}
