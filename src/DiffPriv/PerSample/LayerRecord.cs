using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>One forward call of a hooked layer during a step.</summary>
/// <param name="Input">The layer input (detached, shares storage with the original), batch axis first.</param>
/// <param name="OutputGradient">∂(Σ_i ℓ_i)/∂output, shaped like the output; zeros when the output did not reach the loss.</param>
public sealed record LayerRecord(Tensor Input, Tensor OutputGradient);
