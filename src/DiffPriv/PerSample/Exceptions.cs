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
