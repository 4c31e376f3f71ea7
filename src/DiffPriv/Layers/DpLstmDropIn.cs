using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// <see cref="DpLstm"/> behind TorchSharp <c>nn.LSTM</c>'s call signature, <c>(input, (h_0, c_0)?) → (output, h_n, c_n)</c>,
/// for models written against the fused module: <see cref="Validation.ModuleValidator.Fix(nn.Module)"/> puts it where an
/// <c>nn.LSTM</c> was, in a field declared as <c>nn.Module&lt;Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)&gt;</c>.
/// Same equations, parameters (<c>l{ℓ}.weight_ih</c>, …) and per-example gradient support as
/// <see cref="DpLstm"/>; new models should use <see cref="DpLstm"/>, which composes with <c>nn.Sequential</c>.
/// </summary>
public sealed class DpLstmDropIn : nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)>
{
    private readonly RecurrentCore _core;

    /// <summary>Creates the layer; the arguments mean what they mean for <see cref="DpLstm(long, long, long, bool, bool, double, bool, Device?, ScalarType?)"/>.</summary>
    /// <param name="inputSize">Features per time step of the input, ≥ 1.</param>
    /// <param name="hiddenSize">H, features of the hidden and cell states, ≥ 1.</param>
    /// <param name="numLayers">Stacked layers, ≥ 1.</param>
    /// <param name="bias">Whether the layers have the biases b_ih and b_hh.</param>
    /// <param name="batchFirst">Whether input and output are [B, T, …] (nn.LSTM's default is false: [T, B, …]).</param>
    /// <param name="dropout">Dropout probability in [0, 1) between layers in training mode.</param>
    /// <param name="bidirectional">Whether each layer also runs backwards in time.</param>
    /// <param name="device">Device of the parameters (default CPU).</param>
    /// <param name="dtype">Element type of the parameters (default float32).</param>
    public DpLstmDropIn(
        long inputSize,
        long hiddenSize,
        long numLayers = 1,
        bool bias = true,
        bool batchFirst = false,
        double dropout = 0.0,
        bool bidirectional = false,
        Device? device = null,
        ScalarType? dtype = null)
        : base(nameof(DpLstmDropIn))
    {
        _core = new RecurrentCore(this, RecurrentCell.Lstm, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, device, dtype);
    }

    /// <summary>Whether inputs and outputs are [B, T, …] (true) or [T, B, …].</summary>
    public bool BatchFirst => _core.BatchFirst;

    /// <summary>Creates the drop-in with the configuration and a copy of the weights of <paramref name="lstm"/> (same device, dtype, mode and requires_grad flags).</summary>
    /// <param name="lstm">The fused LSTM; it is not changed.</param>
    /// <param name="dropout">Dropout between layers: TorchSharp does not expose the fused module's, so pass it again (default 0).</param>
    /// <returns>A new layer that computes the same function.</returns>
    /// <exception cref="NotSupportedException">The module's batch-first setting cannot be read.</exception>
    public static DpLstmDropIn FromTorch(LSTM lstm, double dropout = 0.0)
    {
        ArgumentNullException.ThrowIfNull(lstm);
        var d = RecurrentCore.Describe(lstm, 4);
        var result = new DpLstmDropIn(d.InputSize, d.HiddenSize, d.NumLayers, d.Bias, d.BatchFirst, dropout, d.Bidirectional, d.Device, d.DType);
        result._core.CopyFrom(lstm);
        result._core.CopyRequiresGradFrom(lstm);
        result.train(lstm.training);
        return result;
    }

    /// <summary>Copies this layer's weights into a TorchSharp <c>nn.LSTM</c> with the same sizes.</summary>
    /// <param name="lstm">The target; its parameters are overwritten.</param>
    /// <exception cref="ArgumentException">Sizes, layer count, bias or directions differ.</exception>
    public void CopyTo(LSTM lstm) => _core.CopyTo(lstm);

    /// <summary>Runs the LSTM, as <c>nn.LSTM.forward</c>.</summary>
    /// <param name="input">[T, B, input] (or [B, T, input] when batch-first), T ≥ 1.</param>
    /// <param name="state">Initial (h_0, c_0), each [layers·directions, B, H]; zeros when null.</param>
    /// <returns>Output [T, B, directions·H] (or [B, T, …]), final h_n and c_n, each [layers·directions, B, H].</returns>
    public override (Tensor, Tensor, Tensor) forward(Tensor input, (Tensor, Tensor)? state)
    {
        var (output, h, c) = _core.Forward(input, state?.Item1, state?.Item2, training);
        return (output, h, c!);
    }
}
