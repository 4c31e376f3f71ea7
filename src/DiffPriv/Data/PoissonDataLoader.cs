using DiffPriv.Noise;
using static TorchSharp.torch;

namespace DiffPriv.Data;

/// <summary>
/// Poisson-sampled batches over in-memory tensors: at every step each example joins the batch independently with
/// probability q, so batch sizes vary (and may be 0). This is the sampling the accountant's
/// <c>PoissonSampledDpEvent</c> describes; shuffled fixed-size batches would not be.
/// </summary>
/// <remarks>
/// A logical batch is split into physical batches of at most <see cref="MaxPhysicalBatchSize"/> examples so memory
/// stays bounded whatever the draw. One epoch is ⌈1/q⌉ steps, the expected number for every example to be seen once.
/// </remarks>
public sealed class PoissonDataLoader
{
    private readonly NoiseGate _gate;

    /// <summary>Creates the loader.</summary>
    /// <param name="inputs">Examples, first dimension N (e.g. [N, 1, 28, 28]).</param>
    /// <param name="targets">Labels, first dimension N.</param>
    /// <param name="samplingProbability">q ∈ (0, 1].</param>
    /// <param name="maxPhysicalBatchSize">The largest physical batch, ≥ 1.</param>
    /// <param name="gate">The randomness source (secure in production; seeded in tests).</param>
    /// <exception cref="ArgumentException">Shapes disagree or a value is out of range.</exception>
    public PoissonDataLoader(Tensor inputs, Tensor targets, double samplingProbability, long maxPhysicalBatchSize, NoiseGate gate)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(gate);
        if (inputs.dim() == 0 || targets.dim() == 0 || inputs.shape[0] != targets.shape[0])
        {
            throw new ArgumentException($"inputs and targets must share their first dimension N (got {inputs.shape.FirstOrDefault()} and {targets.shape.FirstOrDefault()}).", nameof(targets));
        }

        if (!(samplingProbability > 0 && samplingProbability <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(samplingProbability), samplingProbability, "Sampling probability must be in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxPhysicalBatchSize, 1);
        Inputs = inputs;
        Targets = targets;
        SamplingProbability = samplingProbability;
        MaxPhysicalBatchSize = maxPhysicalBatchSize;
        _gate = gate;
    }

    /// <summary>All examples.</summary>
    public Tensor Inputs { get; }

    /// <summary>All labels.</summary>
    public Tensor Targets { get; }

    /// <summary>N, the number of examples.</summary>
    public long DatasetSize => Inputs.shape[0];

    /// <summary>q, the probability that an example is in a step's batch.</summary>
    public double SamplingProbability { get; }

    /// <summary>q·N, the expected batch size: a public constant, used to normalise the noised sum.</summary>
    public double ExpectedBatchSize => SamplingProbability * DatasetSize;

    /// <summary>The largest physical batch.</summary>
    public long MaxPhysicalBatchSize { get; }

    /// <summary>⌈1/q⌉ steps per epoch.</summary>
    public long StepsPerEpoch => (long)Math.Ceiling(1.0 / SamplingProbability - 1e-9);

    /// <summary>Draws the next logical batch.</summary>
    /// <returns>The batch; its tensors belong to the current dispose scope.</returns>
    public LogicalBatch NextBatch() => new(this, _gate.PoissonSample(DatasetSize, SamplingProbability));

    /// <summary>One epoch: <see cref="StepsPerEpoch"/> independently drawn logical batches.</summary>
    /// <returns>The batches, drawn lazily.</returns>
    public IEnumerable<LogicalBatch> Epoch()
    {
        for (long i = 0; i < StepsPerEpoch; i++)
        {
            yield return NextBatch();
        }
    }
}
