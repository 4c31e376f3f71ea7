using System.Text;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Calibration;
using DiffPriv.Data;
using DiffPriv.Noise;
using DiffPriv.Optim;
using DiffPriv.PerSample;
using DiffPriv.Queries;
using DiffPriv.Validation;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffPriv;

/// <summary>
/// The one-call entry point: turns an ordinary TorchSharp model, optimizer and dataset into their private counterparts
/// and keeps the privacy ledger of everything they do.
/// </summary>
/// <remarks>
/// <code>
/// var engine = new PrivacyEngine();
/// using var training = engine.MakePrivate(model, optim.SGD(model.parameters(), 0.1), x, y,
///     new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 1.1, ExpectedBatchSize = 256 });
/// foreach (var batch in training.Loader.Epoch())
///     training.Optimizer.Step(batch, (xb, yb) =&gt; functional.cross_entropy(model.call(xb), yb, reduction: nn.Reduction.None));
/// Console.WriteLine(engine.GetEpsilon(1e-5));
/// </code>
/// </remarks>
public sealed class PrivacyEngine
{
    private const string CheckpointMagic = "DiffPriv.Checkpoint.v1";

    /// <summary>Creates an engine whose ε is reported by <paramref name="accountant"/>.</summary>
    /// <param name="accountant">PLD (default, tightest) or RDP.</param>
    public PrivacyEngine(AccountantKind accountant = AccountantKind.Pld)
    {
        TorchRuntime.EnsureLoaded();
        Ledger = new PrivacyLedger(accountant);
    }

    /// <summary>Every private release made through this engine.</summary>
    public PrivacyLedger Ledger { get; private set; }

    /// <summary>
    /// Makes a model trainable with DP-SGD: validates it (<see cref="ModuleValidator"/>), attaches the per-example
    /// gradient hooks, wraps the optimizer and builds a Poisson-sampling loader over (<paramref name="inputs"/>, <paramref name="targets"/>).
    /// </summary>
    /// <param name="model">The model; its trainable layers must all have per-example gradient methods.</param>
    /// <param name="optimizer">An optimizer over exactly <c>model.parameters()</c>.</param>
    /// <param name="inputs">Training examples, first dimension N.</param>
    /// <param name="targets">Labels, first dimension N.</param>
    /// <param name="options">C, σ and the expected batch size.</param>
    /// <returns>The private model, optimizer and loader; dispose it when training ends.</returns>
    /// <exception cref="ArgumentException">A hyperparameter is out of range.</exception>
    /// <exception cref="InvalidModuleException">The model contains BatchNorm or an unsupported trainable layer.</exception>
    public PrivateTraining MakePrivate(nn.Module model, optim.Optimizer optimizer, Tensor inputs, Tensor targets, DpSgdOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(options);
        var n = inputs.shape.Length > 0 ? inputs.shape[0] : 0;
        options.Validate(n);
        ModuleValidator.ThrowIfInvalid(model, options.Registry);

        var gate = options.Seed is { } seed ? NoiseGate.CreateSeeded(seed) : NoiseGate.CreateSecure();
        GradSampleHooks? hooks = null;
        try
        {
            hooks = new GradSampleHooks(model, options.Registry, options.GradSample);
            var query = new GaussianSumQuery(options.Clipping, options.NoiseMultiplier, recordsAreMicrobatches: options.Microbatches > 0);
            var q = options.ExpectedBatchSize / n;
            var loader = new PoissonDataLoader(inputs, targets, q, options.MaxPhysicalBatchSize, gate);
            var dpOptimizer = new DpOptimizer(optimizer, hooks, query, gate, q, options.ExpectedBatchSize, Ledger, options.Microbatches);
            return new PrivateTraining(model, dpOptimizer, loader, hooks, gate, options);
        }
        catch
        {
            hooks?.Dispose();
            gate.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Like <see cref="MakePrivate"/>, but chooses the smallest noise multiplier σ for which training
    /// <paramref name="epochs"/> epochs stays within (<paramref name="targetEpsilon"/>, <paramref name="targetDelta"/>).
    /// Steps are counted as ⌈epochs·N/B⌉.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">An optimizer over exactly <c>model.parameters()</c>.</param>
    /// <param name="inputs">Training examples, first dimension N.</param>
    /// <param name="targets">Labels.</param>
    /// <param name="options">C and the expected batch size (σ is ignored and replaced).</param>
    /// <param name="targetEpsilon">ε &gt; 0.</param>
    /// <param name="targetDelta">δ ∈ (0, 1).</param>
    /// <param name="epochs">&gt; 0.</param>
    /// <returns>The private trio; <see cref="PrivateTraining.Options"/> holds the calibrated σ.</returns>
    public PrivateTraining MakePrivateWithEpsilon(
        nn.Module model, optim.Optimizer optimizer, Tensor inputs, Tensor targets, DpSgdOptions options, double targetEpsilon, double targetDelta, double epochs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        var n = inputs.shape.Length > 0 ? inputs.shape[0] : 0;
        options.Validate(n, requireNoiseMultiplier: false);
        if (!(epochs > 0 && double.IsFinite(epochs)))
        {
            throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Epochs must be a finite number > 0.");
        }

        var q = options.ExpectedBatchSize / n;
        var steps = (long)Math.Ceiling(epochs * n / options.ExpectedBatchSize);
        var sigma = DpSgdCalibration.NoiseMultiplier(q, steps, targetEpsilon, targetDelta, Ledger.Accountant).NoiseMultiplier;
        if (options.Microbatches > 0)
        {
            sigma *= 2; // microbatch records are accounted at σ/2
        }
        return MakePrivate(model, optimizer, inputs, targets, options with { NoiseMultiplier = sigma });
    }

    /// <summary>ε spent so far at <paramref name="delta"/> (0 before the first step).</summary>
    /// <param name="delta">δ ∈ (0, 1).</param>
    /// <returns>ε.</returns>
    public double GetEpsilon(double delta) => Ledger.GetEpsilon(delta);

    /// <summary>
    /// Saves everything needed to resume exactly: model parameters and buffers, the inner optimizer's state, the privacy
    /// ledger, the step count and the random generator state (seeded runs; a secure generator has no state and a
    /// resumed secure run draws fresh randomness, which is equally private).
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="training">The training to save.</param>
    public void SaveCheckpoint(string path, PrivateTraining training)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(training);
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(CheckpointMagic);
            writer.Write(Ledger.ToJson());
            writer.Write(training.Optimizer.Steps);
            var state = training.Gate.GetState();
            writer.Write(state?.Length ?? -1);
            if (state is not null)
            {
                writer.Write(state);
            }

            training.Model.save(writer);
            InnerState(training.Optimizer).save_state_dict(writer);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Restores a checkpoint written by <see cref="SaveCheckpoint"/> into a training built the same way.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="training">The training to restore into (same model architecture and optimizer type).</param>
    /// <exception cref="InvalidDataException">The file is not a DiffPriv checkpoint, or it is truncated.</exception>
    public void LoadCheckpoint(string path, PrivateTraining training)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(training);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (reader.ReadString() != CheckpointMagic)
            {
                throw new InvalidDataException($"{path} is not a DiffPriv checkpoint.");
            }

            var ledger = PrivacyLedger.FromJson(reader.ReadString());
            var steps = reader.ReadInt64();
            var stateLength = reader.ReadInt32();
            var state = stateLength >= 0 ? reader.ReadBytes(stateLength) : null;
            training.Model.load(reader);
            InnerState(training.Optimizer).load_state_dict(reader);
            if (state is not null && !training.Gate.IsSecure)
            {
                training.Gate.SetState(state);
            }

            training.Optimizer.ZeroGrad();
            training.Optimizer.Steps = steps;
            Ledger = ledger;
            training.Optimizer.Ledger = ledger;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"The checkpoint {path} is truncated.", e);
        }
    }

    private static OptimizerHelper InnerState(DpOptimizer optimizer) =>
        optimizer.InnerOptimizer as OptimizerHelper
        ?? throw new NotSupportedException($"Checkpoints need a TorchSharp built-in optimizer; {optimizer.InnerOptimizer.GetType().Name} cannot save its state.");
}
