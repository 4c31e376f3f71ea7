using TorchSharp;

namespace DiffPriv.PerSample;

/// <summary>
/// A module has trainable parameters but no exact per-example gradient method. Training it with DP-SGD would not be
/// private, so the model is refused rather than trained silently without protection.
/// </summary>
public sealed class UnsupportedLayerException : NotSupportedException
{
    /// <summary>Creates the exception for the module at <paramref name="modulePath"/>.</summary>
    /// <param name="modulePath">The module's path in the model (empty for the root).</param>
    /// <param name="module">The module.</param>
    /// <param name="reason">Why it is unsupported, e.g. "no grad sampler is registered for BatchNorm2d".</param>
    public UnsupportedLayerException(string modulePath, torch.nn.Module module, string reason)
        : base(BuildMessage(modulePath, module, reason))
    {
        ArgumentNullException.ThrowIfNull(module);
        ModulePath = modulePath;
        ModuleType = module.GetType();
    }

    /// <summary>The module's path in the model (empty for the root).</summary>
    public string ModulePath { get; }

    /// <summary>The module's runtime type.</summary>
    public Type ModuleType { get; }

    private static string BuildMessage(string path, torch.nn.Module module, string reason)
    {
        var type = module.GetType().Name;
        var name = path.Length == 0 ? "the root module" : $"'{path}'";
        var mixes = type.StartsWith("BatchNorm", StringComparison.Ordinal)
            ? " BatchNorm mixes the examples of a batch and can never be per-example: replace it with GroupNorm (or LayerNorm)."
            : string.Empty;
        return $"Module {name} of type {type} has trainable parameters, but {reason}. Per-example gradients cannot be " +
            "computed for it, so DP-SGD would not be private. Ways out: (1) freeze its parameters " +
            "(parameter.requires_grad = false); (2) register an IGradSampler for it with " +
            $"GradSamplerRegistry.CreateDefault().Register<{type}>(…); (3) use PerExampleLoopClipper, the slow but exact " +
            "per-example loop." + mixes;
    }
}

/// <summary>
/// Some per-example gradient norm is NaN or infinite. The step is refused instead of clipping a NaN into the sum.
/// </summary>
public sealed class NonFiniteGradientException : ArithmeticException
{
    /// <summary>Creates the exception for the given example indices.</summary>
    /// <param name="exampleIndices">Indices (0-based, within the batch) of the examples whose norm is not finite.</param>
    public NonFiniteGradientException(IReadOnlyList<long> exampleIndices)
        : base(BuildMessage(exampleIndices))
    {
        ExampleIndices = exampleIndices;
    }

    /// <summary>Indices (0-based, within the batch) of the examples whose per-example gradient norm is NaN or ±∞.</summary>
    public IReadOnlyList<long> ExampleIndices { get; }

    private static string BuildMessage(IReadOnlyList<long> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        const int Shown = 20;
        var list = string.Join(", ", indices.Take(Shown)) + (indices.Count > Shown ? $", … ({indices.Count} in all)" : string.Empty);
        return $"The per-example gradient norm is NaN or infinite for example(s) {list} of the batch. " +
            "Check those inputs and their losses (NaN/Inf features, log of 0, overflow); the step was not taken.";
    }
}

/// <summary>
/// A hooked layer whose parameters the loss depends on recorded nothing in the step: its forward ran without hooks
/// (a parent called <c>child.forward(x)</c> instead of <c>child.call(x)</c>), so its gradient would be silently missing.
/// </summary>
public sealed class UnrecordedLayerException : InvalidOperationException
{
    /// <summary>Creates the exception naming the layers.</summary>
    /// <param name="modulePaths">Paths of the layers that the loss depends on but that recorded nothing.</param>
    public UnrecordedLayerException(IReadOnlyList<string> modulePaths)
        : base(
            $"The loss depends on the parameters of layer(s) {string.Join(", ", (modulePaths ?? []).Select(p => $"'{p}'"))}, " +
            "but their forward hooks recorded nothing in this step. TorchSharp runs hooks only through module.call(x): " +
            "make the parent call child.call(x) instead of child.forward(x), and run the forward between BeginStep() and ClipAndSum().")
    {
        ModulePaths = modulePaths ?? [];
    }

    /// <summary>Paths of the layers that recorded nothing although the loss depends on them.</summary>
    public IReadOnlyList<string> ModulePaths { get; }
}
