namespace DiffPriv.Experiments.Auditing;

/// <summary>
/// Settings of <c>diffpriv audit lira</c>: K small models (an MLP) trained with DP-SGD (or without noise), each on a
/// random half of a pool of Fashion-MNIST training examples, then attacked with LiRA leave-one-out (Carlini et al. 2022).
/// </summary>
public sealed record LiraAuditSettings
{
    /// <summary>ε each model is calibrated to at <see cref="Delta"/> (σ from the PLD accountant); ignored with <see cref="NoDp"/>. Default 8.</summary>
    public double TargetEpsilon { get; init; } = 8;

    /// <summary>The same runs without noise (σ = 0, ε = ∞; clipping and Poisson sampling unchanged): shows the attack's power.</summary>
    public bool NoDp { get; init; }

    /// <summary>δ of the accountant's ε, in (0, 1). Default 1e-5.</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>K, the models trained; each is the target in turn with the other K − 1 as its shadow models. Even, ≥ 4. Default 16.</summary>
    public int Shadows { get; init; } = 16;

    /// <summary>N, the pool: the first N Fashion-MNIST training examples. Each model trains on about N/2. Default 2000.</summary>
    public int PoolSize { get; init; } = 2000;

    /// <summary>Seeds who trains on what, the models, the sampling and the noise (an experiment: the noise is not secret). Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Epochs over each model's training half, ≥ 1. Default 50 (without noise the MLP then fits 99% of its
    /// training half, so the attack has something to find).</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>Expected batch size B of the Poisson sampling (q = B/(N/2)). Default 100.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Clip norm C. Default 1.</summary>
    public double MaxGradNorm { get; init; } = 1;

    /// <summary>SGD learning rate (momentum 0.9). Default 0.5.</summary>
    public double LearningRate { get; init; } = 0.5;

    /// <summary>Hidden units of the MLP 784 → H → 10 (ReLU), ≥ 1. Default 256.</summary>
    public int Hidden { get; init; } = 256;

    /// <summary>Test examples on which each model's accuracy is measured (the first ones of the test split), ≥ 1. Default 2000.</summary>
    public int TestExamples { get; init; } = 2000;

    /// <summary>The run folder, or null for runs/lira-&lt;timestamp&gt;.</summary>
    public string? OutDir { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range (as its CLI option).</summary>
    public void Validate()
    {
        if (!NoDp && !(TargetEpsilon > 0 && double.IsFinite(TargetEpsilon)))
        {
            throw new ArgumentException($"--target-epsilon must be a finite number > 0 (got {TargetEpsilon})");
        }

        if (!(Delta > 0 && Delta < 1))
        {
            throw new ArgumentException($"--delta must be in (0, 1) (got {Delta})");
        }

        if (Shadows < 4 || Shadows % 2 != 0)
        {
            throw new ArgumentException($"--shadows must be an even number ≥ 4 (got {Shadows}): each example is in half the models, and leave-one-out needs two in and two out besides the target");
        }

        if (PoolSize < 4 || PoolSize > 60_000)
        {
            throw new ArgumentException($"--pool must be in [4, 60000] (got {PoolSize})");
        }

        if (Epochs < 1)
        {
            throw new ArgumentException($"--epochs must be ≥ 1 (got {Epochs})");
        }

        if (BatchSize < 1 || BatchSize > PoolSize / 2)
        {
            throw new ArgumentException($"--batch-size must be in [1, pool/2 = {PoolSize / 2}] (got {BatchSize})");
        }

        if (!(MaxGradNorm > 0 && double.IsFinite(MaxGradNorm)))
        {
            throw new ArgumentException($"--max-grad-norm must be a finite number > 0 (got {MaxGradNorm})");
        }

        if (!(LearningRate > 0 && double.IsFinite(LearningRate)))
        {
            throw new ArgumentException($"--learning-rate must be a finite number > 0 (got {LearningRate})");
        }

        if (Hidden < 1)
        {
            throw new ArgumentException($"--hidden must be ≥ 1 (got {Hidden})");
        }

        if (TestExamples < 1 || TestExamples > 10_000)
        {
            throw new ArgumentException($"--test-examples must be in [1, 10000] (got {TestExamples})");
        }
    }
}
