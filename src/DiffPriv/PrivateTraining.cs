using DiffPriv.Accounting;
using DiffPriv.Data;
using DiffPriv.Noise;
using DiffPriv.Optim;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv;

/// <summary>
/// The private model, optimizer and data loader returned by <c>PrivacyEngine.MakePrivate</c>; deconstruct it into
/// <c>(optimizer, loader)</c> or <c>(model, optimizer, loader)</c>. Disposing it (or the optimizer) removes the hooks and
/// frees the noise generator.
/// </summary>
public sealed class PrivateTraining : IDisposable
{
    internal PrivateTraining(nn.Module model, DpOptimizer optimizer, PoissonDataLoader loader, GradSampleHooks hooks, NoiseGate gate, DpSgdOptions options)
    {
        Model = model;
        Optimizer = optimizer;
        Loader = loader;
        Hooks = hooks;
        Gate = gate;
        Options = options;
    }

    /// <summary>The model (unchanged object; forward hooks record per-example information during steps).</summary>
    public nn.Module Model { get; }

    /// <summary>The private optimizer.</summary>
    public DpOptimizer Optimizer { get; }

    /// <summary>The Poisson-sampling loader.</summary>
    public PoissonDataLoader Loader { get; }

    /// <summary>The per-example gradient hooks (<c>GradSampleHooks</c>) attached to the model.</summary>
    public GradSampleHooks Hooks { get; }

    /// <summary>The hyperparameters in force (with the calibrated σ when made with a target ε).</summary>
    public DpSgdOptions Options { get; }

    internal NoiseGate Gate { get; }

    /// <summary>The planned steps (from <see cref="DpSgdOptions.Epochs"/>, <see cref="DpSgdOptions.Steps"/> or the calibration), or null.</summary>
    public StepSchedule? Schedule => Optimizer.Schedule;

    /// <summary>Removes the hooks and frees the optimizer state and the noise generator (the model and data stay).</summary>
    public void Dispose() => Optimizer.Dispose();

    /// <summary>Deconstructs into (optimizer, loader), the two objects a training loop replaces.</summary>
    /// <param name="optimizer">The private optimizer (disposing it frees the hooks and the noise generator).</param>
    /// <param name="loader">The loader.</param>
    public void Deconstruct(out DpOptimizer optimizer, out PoissonDataLoader loader)
    {
        optimizer = Optimizer;
        loader = Loader;
    }

    /// <summary>Deconstructs into (model, optimizer, loader).</summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">The private optimizer.</param>
    /// <param name="loader">The loader.</param>
    public void Deconstruct(out nn.Module model, out DpOptimizer optimizer, out PoissonDataLoader loader)
    {
        model = Model;
        optimizer = Optimizer;
        loader = Loader;
    }
}
