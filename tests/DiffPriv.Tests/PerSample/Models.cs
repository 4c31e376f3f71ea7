using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.Tests.PerSample;

/// <summary>Calls the same Linear twice in one forward: head(tanh(fc(tanh(fc(x))))).</summary>
internal sealed class TwiceLinear : nn.Module<Tensor, Tensor>
{
    private readonly Linear _fc;
    private readonly Linear _head;

    public TwiceLinear(long width, long outputs) : base(nameof(TwiceLinear))
    {
        _fc = nn.Linear(width, width);
        _head = nn.Linear(width, outputs);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _head.call(_fc.call(_fc.call(input).tanh()).tanh());
}

/// <summary>Calls its child through forward(), which bypasses TorchSharp's hooks.</summary>
internal sealed class BypassingModule : nn.Module<Tensor, Tensor>
{
    private readonly Linear _inner;
    private readonly Linear _head;

    public BypassingModule() : base(nameof(BypassingModule))
    {
        _inner = nn.Linear(4, 4);
        _head = nn.Linear(4, 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _head.call(_inner.forward(input).tanh());
}

/// <summary>Has a second Linear that is not used in forward (legitimately no record, no gradient).</summary>
internal sealed class UnusedBranch : nn.Module<Tensor, Tensor>
{
    private readonly Linear _used;
    private readonly Linear _unused;

    public UnusedBranch() : base(nameof(UnusedBranch))
    {
        _used = nn.Linear(4, 2);
        _unused = nn.Linear(4, 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => _used.call(input);
}

/// <summary>A custom layer with its own Parameter: y = x ⊙ scale (scale over the last axis).</summary>
internal sealed class Scale : nn.Module<Tensor, Tensor>
{
    private readonly Parameter _scale;

    public Scale(long features) : base(nameof(Scale))
    {
        _scale = nn.Parameter(torch.ones(features).add(torch.arange(features).mul(0.1)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => input.mul(_scale);
}

/// <summary>A user-written sampler for <see cref="Scale"/>: ∂ℓ_i/∂s = Σ_positions g ⊙ x.</summary>
internal sealed class ScaleGradSampler : DiffPriv.PerSample.IGradSampler
{
    public DiffPriv.PerSample.ILayerGradSample Compute(DiffPriv.PerSample.GradSampleContext context)
    {
        Tensor? psg = null;
        foreach (var r in context.Records)
        {
            var d = r.Input.shape[^1];
            var part = r.OutputGradient.mul(r.Input).reshape(context.BatchSize, -1, d).sum(1);
            psg = psg is null ? part : psg.add(part);
        }

        return new Sample(psg!);
    }

    private sealed class Sample(Tensor psg) : DiffPriv.PerSample.ILayerGradSample
    {
        public Tensor SquaredNorms { get; } = psg.square().sum(1);

        public IReadOnlyDictionary<string, Tensor> ClippedSum(Tensor clipFactors) =>
            new Dictionary<string, Tensor> { ["_scale"] = clipFactors.unsqueeze(0).mm(psg).squeeze(0) };
    }
}
