using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// An active step of a <see cref="GradSampleHooks"/>: while it lives, hooked layers record. Dispose it after
/// <see cref="GradSampleHooks.ClipAndSum(Tensor, ClippingOptions)"/> to free the kept inputs.
/// </summary>
public sealed class GradSampleStep : IDisposable
{
    private readonly GradSampleHooks _owner;

    internal GradSampleStep(GradSampleHooks owner) => _owner = owner;

    internal bool Used { get; set; }

    /// <summary>Ends the step: recording stops and the kept layer inputs are released.</summary>
    public void Dispose() => _owner.EndStep(this);
}
