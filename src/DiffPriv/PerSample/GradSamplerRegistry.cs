using System.Diagnostics.CodeAnalysis;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv.PerSample;

/// <summary>
/// An explicit table from layer type to <see cref="IGradSampler"/> (TensorFlow Privacy's registry design, rather than a
/// global table). Lookup is by exact runtime type: a subclass of a supported layer must be registered itself, because it
/// may compute something else in <c>forward</c>.
/// </summary>
public sealed class GradSamplerRegistry
{
    private readonly Dictionary<Type, IGradSampler> _samplers = [];
    private readonly bool _readOnly;

    /// <summary>Creates an empty registry.</summary>
    public GradSamplerRegistry()
    {
    }

    private GradSamplerRegistry(bool readOnly) => _readOnly = readOnly;

    /// <summary>
    /// The built-in samplers: <c>Linear</c>, <c>Conv1d</c>, <c>Conv2d</c>, <c>Conv3d</c>, <c>Embedding</c>, <c>LayerNorm</c>,
    /// <c>GroupNorm</c>, <c>InstanceNorm1d/2d/3d</c> (without running statistics), <see cref="Layers.DpRmsNorm"/>,
    /// <see cref="Layers.DpEmbeddingBag"/>, and the layers of <see cref="Layers.DpLstm"/> and <see cref="Layers.DpGru"/>.
    /// Read-only; use <see cref="CreateDefault"/> to get a copy you can extend.
    /// </summary>
    public static GradSamplerRegistry Default { get; } = AddBuiltIns(new GradSamplerRegistry(readOnly: true));

    /// <summary>The registered layer types.</summary>
    public IReadOnlyCollection<Type> RegisteredTypes => _samplers.Keys;

    /// <summary>Returns a new, writable registry holding the built-in samplers of <see cref="Default"/>.</summary>
    /// <returns>A registry that <see cref="Register{TModule}(IGradSampler)"/> may extend.</returns>
    public static GradSamplerRegistry CreateDefault() => AddBuiltIns(new GradSamplerRegistry());

    /// <summary>Registers (or replaces) the sampler for layers of exact type <typeparamref name="TModule"/>.</summary>
    /// <typeparam name="TModule">The layer type; only <c>nn.Module&lt;Tensor, Tensor&gt;</c> has forward hooks in TorchSharp.</typeparam>
    /// <param name="sampler">The sampler; it covers all trainable parameters of the module and its children.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="InvalidOperationException">This is the read-only <see cref="Default"/>.</exception>
    public GradSamplerRegistry Register<TModule>(IGradSampler sampler)
        where TModule : nn.Module<Tensor, Tensor>
    {
        ArgumentNullException.ThrowIfNull(sampler);
        if (_readOnly)
        {
            throw new InvalidOperationException(
                "GradSamplerRegistry.Default is read-only; register on a copy from GradSamplerRegistry.CreateDefault().");
        }

        _samplers[typeof(TModule)] = sampler;
        return this;
    }

    /// <summary>Finds the sampler for a layer type (exact type match).</summary>
    /// <param name="moduleType">The runtime type of the module.</param>
    /// <param name="sampler">The sampler, when found.</param>
    /// <returns>Whether a sampler is registered for <paramref name="moduleType"/>.</returns>
    public bool TryGetSampler(Type moduleType, [NotNullWhen(true)] out IGradSampler? sampler) =>
        _samplers.TryGetValue(moduleType, out sampler);

    private static GradSamplerRegistry AddBuiltIns(GradSamplerRegistry registry)
    {
        var conv = new ConvGradSampler();
        registry._samplers[typeof(Linear)] = new LinearGradSampler();
        registry._samplers[typeof(Conv1d)] = conv;
        registry._samplers[typeof(Conv2d)] = conv;
        registry._samplers[typeof(Conv3d)] = conv;
        registry._samplers[typeof(Embedding)] = new EmbeddingGradSampler();
        registry._samplers[typeof(LayerNorm)] = new LayerNormGradSampler();
        registry._samplers[typeof(GroupNorm)] = new GroupNormGradSampler();
        registry._samplers[typeof(Layers.RecurrentWeights)] = new Layers.RecurrentGradSampler();
        var instanceNorm = new InstanceNormGradSampler();
        registry._samplers[typeof(InstanceNorm1d)] = instanceNorm;
        registry._samplers[typeof(InstanceNorm2d)] = instanceNorm;
        registry._samplers[typeof(InstanceNorm3d)] = instanceNorm;
        registry._samplers[typeof(Layers.DpRmsNorm)] = new Layers.RmsNormGradSampler();
        registry._samplers[typeof(Layers.DpEmbeddingBag)] = new Layers.EmbeddingBagGradSampler();
        return registry;
    }
}
