using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// A multi-layer LSTM that the per-example gradient hooks (<c>GradSampleHooks</c>) supports: numerically the same function as TorchSharp's
/// fused <c>nn.LSTM</c> (PyTorch's equations and gate order i, f, g, o), with the same parameters, written with ordinary
/// tensor operations so that every parameter has exact per-example gradients. The fused module cannot be trained
/// privately: its weights are used inside one native kernel that no forward hook can see.
/// </summary>
/// <remarks>
/// <para>Per layer ℓ and direction, with x_t the layer input at time t and h_0 = c_0 = 0 unless given:</para>
/// <code>
/// [i, f, g, o] = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh        (four chunks of H)
/// c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g),    h_t = σ(o) ⊙ tanh(c_t)
/// </code>
/// <para>Parameters: child <c>l{ℓ}</c> (and <c>l{ℓ}_reverse</c> for the backward direction of a bidirectional LSTM) holds
/// <c>weight_ih</c> [4H, in], <c>weight_hh</c> [4H, H], <c>bias_ih</c> and <c>bias_hh</c> [4H] — PyTorch's
/// <c>weight_ih_l{ℓ}</c>, … with the same layout, so <see cref="CopyFrom(LSTM)"/> and <see cref="CopyTo(LSTM)"/> move
/// weights both ways unchanged. W_ih multiplies the whole sequence [B, T, in] at once; W_hh runs once per time step.</para>
/// <para>Per-example gradients: the gate pre-activation gradient G_t is shared by both weights, so a layer's weights act
/// as one weight [W_ih | W_hh] on [x_t, h_{t−1}] at T positions; the hooks gets ‖Σ_t G_t [x_t, h_{t−1}]ᵀ‖ from a single
/// record per sequence (no per-step hooks), by the ghost norm with one T×T Gram of G when that is smaller than the
/// per-example gradient (2T² &lt; 4H·(in + H)), else by materialising it.</para>
/// <para>Use it as a building block: <c>call(x)</c> returns the last layer's hidden states; <see cref="ForwardWithState"/>
/// also returns the final (h, c), and accepts initial states. The hooks records either.</para>
/// <para><b>Privacy: initial states must belong to the same example.</b> Under DP-SGD each example's gradient is clipped on
/// its own; an initial state of example i that was computed from another example j (e.g. hidden state carried over from an
/// earlier batch, as in truncated backpropagation through time) puts j's data into i's clipped gradient, and the sensitivity
/// is no longer C. Pass zeros (the default) or states computed from the same example in the same forward pass.</para>
/// </remarks>
public sealed class DpLstm : nn.Module<Tensor, Tensor>
{
    private readonly RecurrentCore _core;

    /// <summary>Creates the layer, initialised as PyTorch does (every weight and bias uniform in ±1/√H).</summary>
    /// <param name="inputSize">Features per time step of the input, ≥ 1.</param>
    /// <param name="hiddenSize">H, features of the hidden and cell states, ≥ 1.</param>
    /// <param name="numLayers">Stacked layers, ≥ 1; layer ℓ &gt; 0 reads layer ℓ − 1's hidden states.</param>
    /// <param name="bias">Whether the layers have the biases b_ih and b_hh.</param>
    /// <param name="batchFirst">True (default): input and output are [B, T, …]; false: [T, B, …], as <c>nn.LSTM</c>'s default.
    /// States are [layers·directions, B, H] either way.</param>
    /// <param name="dropout">Dropout probability in [0, 1) on the outputs of every layer but the last, in training mode.</param>
    /// <param name="bidirectional">Whether each layer also runs backwards in time; outputs are then [.., 2H] (forward, backward).</param>
    /// <param name="device">Device of the parameters (default CPU).</param>
    /// <param name="dtype">Element type of the parameters (default float32).</param>
    public DpLstm(
        long inputSize,
        long hiddenSize,
        long numLayers = 1,
        bool bias = true,
        bool batchFirst = true,
        double dropout = 0.0,
        bool bidirectional = false,
        Device? device = null,
        ScalarType? dtype = null)
        : base(nameof(DpLstm))
    {
        _core = new RecurrentCore(this, RecurrentCell.Lstm, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, device, dtype);
    }

    /// <summary>Features per time step of the input.</summary>
    public long InputSize => _core.InputSize;

    /// <summary>H, features of the hidden and cell states.</summary>
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
    /// Creates a <see cref="DpLstm"/> with the configuration and a copy of the weights of a TorchSharp <c>nn.LSTM</c>
    /// (same device, dtype, training mode and requires_grad flags). The result computes the same function.
    /// </summary>
    /// <param name="lstm">The fused LSTM; it is not changed.</param>
    /// <param name="dropout">Dropout between layers: TorchSharp does not expose the fused module's, so pass it again (default 0).</param>
    /// <returns>A new layer, in the same training mode as <paramref name="lstm"/>.</returns>
    /// <exception cref="NotSupportedException">The module's batch-first setting cannot be read.</exception>
    public static DpLstm FromTorch(LSTM lstm, double dropout = 0.0)
    {
        ArgumentNullException.ThrowIfNull(lstm);
        var d = RecurrentCore.Describe(lstm, 4);
        var result = new DpLstm(d.InputSize, d.HiddenSize, d.NumLayers, d.Bias, d.BatchFirst, dropout, d.Bidirectional, d.Device, d.DType);
        result.CopyFrom(lstm);
        result._core.CopyRequiresGradFrom(lstm);
        result.train(lstm.training);
        return result;
    }

    /// <summary>Copies the weights of a TorchSharp <c>nn.LSTM</c> with the same sizes into this layer.</summary>
    /// <param name="lstm">The source; its <c>weight_ih_l{ℓ}</c>, <c>weight_hh_l{ℓ}</c>, <c>bias_ih_l{ℓ}</c>, <c>bias_hh_l{ℓ}</c> (and <c>…_reverse</c>) are read.</param>
    /// <exception cref="ArgumentException">Sizes, layer count, bias or directions differ.</exception>
    public void CopyFrom(LSTM lstm) => _core.CopyFrom(lstm);

    /// <summary>Copies this layer's weights into a TorchSharp <c>nn.LSTM</c> with the same sizes (for fast non-private inference).</summary>
    /// <param name="lstm">The target; its parameters are overwritten.</param>
    /// <exception cref="ArgumentException">Sizes, layer count, bias or directions differ.</exception>
    public void CopyTo(LSTM lstm) => _core.CopyTo(lstm);

    /// <summary>Runs the LSTM from zero initial states and returns the last layer's hidden states.</summary>
    /// <param name="input">[B, T, input] (or [T, B, input] when not batch-first), T ≥ 1.</param>
    /// <returns>[B, T, directions·H] (or [T, B, directions·H]).</returns>
    public override Tensor forward(Tensor input) => _core.Forward(input, null, null, training).Output;

    /// <summary>Runs the LSTM and returns its output and final states, as <c>nn.LSTM</c>'s forward does.</summary>
    /// <param name="input">[B, T, input] (or [T, B, input] when not batch-first), T ≥ 1.</param>
    /// <param name="state">Initial (h_0, c_0), each [layers·directions, B, H]; zeros when null.</param>
    /// <returns>Output [B, T, directions·H] (or [T, B, …]); final hidden and cell states h_T, c_T, each
    /// [layers·directions, B, H], ordered layer by layer, forward direction before reverse.</returns>
    public (Tensor Output, Tensor Hidden, Tensor Cell) ForwardWithState(Tensor input, (Tensor Hidden, Tensor Cell)? state = null)
    {
        var (output, h, c) = _core.Forward(input, state?.Hidden, state?.Cell, training);
        return (output, h, c!);
    }

    /// <summary>Re-initialises every weight and bias uniformly in ±1/√H, as PyTorch does.</summary>
    public void ResetParameters() => _core.ResetParameters();
}
