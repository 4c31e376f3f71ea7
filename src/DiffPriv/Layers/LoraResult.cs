using System.Globalization;

namespace DiffPriv.Layers;

/// <summary>What <see cref="Lora.Apply"/> did to a model.</summary>
/// <param name="AdaptedPaths">The paths of the layers now wrapped in a <see cref="LoraLinear"/>, in <c>named_modules()</c> order.</param>
/// <param name="TrainableParameters">Elements of the parameters that still require grad: exactly the adapters,
/// Σ r·(in + out) over the adapted layers. Under DP-SGD this is the dimension of the noise added at every step.</param>
/// <param name="TotalParameters">Elements of all parameters of the model, adapters included.</param>
public sealed record LoraResult(IReadOnlyList<string> AdaptedPaths, long TrainableParameters, long TotalParameters)
{
    /// <summary>PEFT's summary line: trainable and total parameters and the trainable percentage, then the adapted layers.</summary>
    /// <returns>For example <c>trainable params: 1,536 || all params: 67,074 || trainable%: 2.2900 || adapted: fc1, fc2</c>.</returns>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"trainable params: {TrainableParameters:N0} || all params: {TotalParameters:N0} || trainable%: {100.0 * TrainableParameters / Math.Max(TotalParameters, 1):F4} || adapted: {string.Join(", ", AdaptedPaths)}");
}
