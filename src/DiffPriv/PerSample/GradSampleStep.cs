using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// An active step of a <see cref="GradSampleModule"/>: while it lives, hooked layers record. Dispose it after
/// <see cref="GradSampleModule.ClipAndSum(Tensor, ClippingOptions)"/> to free the kept inputs.
/// </summary>
public sealed class GradSampleStep : IDisposable
{
    private readonly GradSampleModule _owner;

    internal GradSampleStep(GradSampleModule owner) => _owner = owner;

    internal bool Used { get; set; }

    /// <summary>Ends the step: recording stops and the kept layer inputs are released.</summary>
    public void Dispose() => _owner.EndStep(this);
}
