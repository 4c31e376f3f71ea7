using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Layers;

/// <summary>
/// The parameters of one direction of one layer of <see cref="DpLstm"/> or <see cref="DpGru"/>, named as PyTorch names
/// them without the layer suffix: <c>weight_ih</c> [G·H, in], <c>weight_hh</c> [G·H, H], <c>bias_ih</c> and
/// <c>bias_hh</c> [G·H] (G = 4 gates for an LSTM, 3 for a GRU). It is also what the per-example gradient hooks (<c>GradSampleHooks</c>) hooks:
/// after running a sequence, the layer calls <see cref="Record"/> once, so the hooks keeps one record per sequence —
/// the input <c>[x_t, h_{t−1}]</c> (GRU: <c>[x_t, h_{t−1}, r_t]</c>) at every step, and the input projection
/// W_ih x + b, whose gradient is the gradient of every gate pre-activation — and <see cref="RecurrentGradSampler"/> forms
/// the exact per-example gradients from it. The module computes nothing itself.
/// </summary>
internal sealed class RecurrentWeights : nn.Module<Tensor, Tensor>
{
    private Tensor? _pending;

    public RecurrentWeights(RecurrentCell cell, long inputSize, long hiddenSize, bool bias, Device? device, ScalarType? dtype)
        : base(nameof(RecurrentWeights))
    {
        Cell = cell;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        HasBias = bias;
        var rows = Gates * hiddenSize;
        register_parameter("weight_ih", new Parameter(torch.empty([rows, inputSize], dtype: dtype, device: device)));
        register_parameter("weight_hh", new Parameter(torch.empty([rows, hiddenSize], dtype: dtype, device: device)));
        if (bias)
        {
            register_parameter("bias_ih", new Parameter(torch.empty([rows], dtype: dtype, device: device)));
            register_parameter("bias_hh", new Parameter(torch.empty([rows], dtype: dtype, device: device)));
        }
    }

    public RecurrentCell Cell { get; }

    public long InputSize { get; }

    public long HiddenSize { get; }

    public bool HasBias { get; }

    /// <summary>Gates per hidden unit: 4 (LSTM) or 3 (GRU).</summary>
    public long Gates => Cell == RecurrentCell.Lstm ? 4 : 3;

    /// <summary>Features of a record's input: in + H (LSTM: [x, h_prev]) or in + 2H (GRU: [x, h_prev, r]).</summary>
    public long RecordWidth => InputSize + (Cell == RecurrentCell.Lstm ? HiddenSize : 2 * HiddenSize);

    // Read through the registry on every use: Module.to(dtype) replaces the registered Parameter objects.
    public Tensor WeightIh => get_parameter("weight_ih")!;

    public Tensor WeightHh => get_parameter("weight_hh")!;

    public Tensor? BiasIh => HasBias ? get_parameter("bias_ih") : null;

    public Tensor? BiasHh => HasBias ? get_parameter("bias_hh") : null;

    /// <summary>Returns the input projection handed to <see cref="Record"/>; the module cannot be called on its own.</summary>
    public override Tensor forward(Tensor input) =>
        _pending ?? throw new InvalidOperationException($"{nameof(RecurrentWeights)} is run by DpLstm/DpGru and cannot be called directly.");

    /// <summary>
    /// Shows forward hooks (the per-example gradient hooks (<c>GradSampleHooks</c>)) one use of these weights: a call with input
    /// <paramref name="record"/> [B, T, <see cref="RecordWidth"/>] whose output is <paramref name="projection"/>
    /// [B, T, G·H], the tensor the recurrence consumed. Does nothing else.
    /// </summary>
    public void Record(Tensor record, Tensor projection)
    {
        _pending = projection;
        try
        {
            call(record);
        }
        finally
        {
            _pending = null;
        }
    }
}
