using DiffPriv.Accounting;
using DiffPriv.Data;
using DiffPriv.Noise;
using DiffPriv.Optim;
using DiffPriv.PerSample;
using static TorchSharp.torch;

namespace DiffPriv;

/// <summary>
/// The private model, optimizer and loader of a DP-FTRL run, returned by <c>PrivacyEngine.MakePrivateFtrl</c>; deconstruct
/// it into <c>(optimizer, loader)</c> or <c>(model, optimizer, loader)</c>. Disposing it (or the optimizer) removes the
/// hooks and frees the noise generator and the tree.
/// </summary>
public sealed class PrivateFtrlTraining : IDisposable
{
    internal PrivateFtrlTraining(nn.Module model, DpOptimizer optimizer, ShuffledDataLoader loader, GradSampleHooks hooks, NoiseGate gate, DpFtrlOptions options)
    {
        Gate = gate;
        Model = model;
        Optimizer = optimizer;
        Loader = loader;
        Hooks = hooks;
        Options = options;
    }

    /// <summary>The model (unchanged object; forward hooks record per-example information during steps).</summary>
    public nn.Module Model { get; }

    /// <summary>The private optimizer; its query is a <see cref="Queries.TreeResidualSumQuery"/>.</summary>
    public DpOptimizer Optimizer { get; }

    /// <summary>The loader of fixed-size batches, one shuffled order per pass.</summary>
    public ShuffledDataLoader Loader { get; }

    /// <summary>The per-example gradient hooks attached to the model.</summary>
    public GradSampleHooks Hooks { get; }

    /// <summary>The hyperparameters in force (with the calibrated σ when made with a target ε).</summary>
    public DpFtrlOptions Options { get; }

    /// <summary>The noise gate (shared by the loader's shuffles and the tree's noise).</summary>
    internal NoiseGate Gate { get; }

    /// <summary>The planned steps: ⌈epochs·N/B⌉, one tree per pass.</summary>
    public StepSchedule Schedule => Loader.Schedule;

    /// <summary>Removes the hooks and frees the optimizer state, the tree and the noise generator (the model and data stay).</summary>
    public void Dispose() => Optimizer.Dispose();

    /// <summary>Deconstructs into (optimizer, loader), the two objects a training loop replaces.</summary>
    /// <param name="optimizer">The private optimizer.</param>
    /// <param name="loader">The loader.</param>
    public void Deconstruct(out DpOptimizer optimizer, out ShuffledDataLoader loader)
    {
        optimizer = Optimizer;
        loader = Loader;
    }

    /// <summary>Deconstructs into (model, optimizer, loader).</summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">The private optimizer.</param>
    /// <param name="loader">The loader.</param>
    public void Deconstruct(out nn.Module model, out DpOptimizer optimizer, out ShuffledDataLoader loader)
    {
        model = Model;
        optimizer = Optimizer;
        loader = Loader;
    }
}
