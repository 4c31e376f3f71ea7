namespace DiffPriv.Experiments.Auditing;

/// <summary>Settings of <c>diffpriv audit one-run</c>: a small MNIST model trained once with m canaries, each included
/// with probability ½, then audited (Steinke, Nasr &amp; Jagielski 2023).</summary>
public sealed record OneRunAuditSettings
{
    /// <summary>ε the training is calibrated to at <see cref="Delta"/> (σ from the PLD accountant); ignored with <see cref="NoDp"/>. Default 2.</summary>
    public double TargetEpsilon { get; init; } = 2;

    /// <summary>The same run without noise (clipping, sampling and canaries unchanged; σ = 0, ε = ∞): shows the audit's power.</summary>
    public bool NoDp { get; init; }

    /// <summary>δ of the accountant's ε and of the audit's hypothesis, in (0, 1). Default 1e-5.</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>m, the canaries, ≥ 2. Default 1000.</summary>
    public int Canaries { get; init; } = 1000;

    /// <summary>Gradient (white-box, default) or input (black-box) canaries.</summary>
    public CanaryKind Kind { get; init; } = CanaryKind.Gradient;

    /// <summary>Seeds the model, the canaries and their coin flips, the sampling and the noise (an experiment: the noise is not secret). Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Epochs over the training examples, ≥ 1. Default 20 (200 steps with the default N and B: each included
    /// canary is sampled about 20 times).</summary>
    public int Epochs { get; init; } = 20;

    /// <summary>Expected batch size B of the Poisson sampling over the training examples (q = B/N). Default 100.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Clip norm C, and the norm of every gradient canary. Default 0.1 (the MNIST default of <c>train</c>).</summary>
    public double MaxGradNorm { get; init; } = 0.1;

    /// <summary>SGD learning rate (momentum 0.9). Default 0.5 (the MNIST default of <c>train</c>).</summary>
    public double LearningRate { get; init; } = 0.5;

    /// <summary>
    /// Train on the first N training examples only (a public choice), or null for all 60 000. Default 1000: a canary's score
    /// also collects the data's summed gradient at its coordinate, which grows with the batch B = qN while the canary's
    /// signal grows with q, so a small N lets the canaries stand out of the data (without noise, 0.04 ± 0.65 for excluded
    /// canaries against 2.1 for included ones with N = 1000; with N = 10 000, B = 256, 2 epochs the data swamp them).
    /// </summary>
    public int? TrainExamples { get; init; } = 1000;

    /// <summary>The run folder, or null for runs/one-run-&lt;timestamp&gt;.</summary>
    public string? OutDir { get; init; }

    /// <summary>Confidence of the bound, in (0, 1). Default 0.95.</summary>
    public double Confidence { get; init; } = 0.95;

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

        if (Canaries < 2)
        {
            throw new ArgumentException($"--canaries must be ≥ 2 (got {Canaries})");
        }

        if (Epochs < 1)
        {
            throw new ArgumentException($"--epochs must be ≥ 1 (got {Epochs})");
        }

        if (BatchSize < 1)
        {
            throw new ArgumentException($"--batch-size must be ≥ 1 (got {BatchSize})");
        }

        if (!(MaxGradNorm > 0 && double.IsFinite(MaxGradNorm)))
        {
            throw new ArgumentException($"--max-grad-norm must be a finite number > 0 (got {MaxGradNorm})");
        }

        if (!(LearningRate > 0 && double.IsFinite(LearningRate)))
        {
            throw new ArgumentException($"--learning-rate must be a finite number > 0 (got {LearningRate})");
        }

        if (TrainExamples is < 1)
        {
            throw new ArgumentException($"--train-examples must be ≥ 1 (got {TrainExamples})");
        }

        if (!(Confidence > 0 && Confidence < 1))
        {
            throw new ArgumentException($"the confidence must be in (0, 1) (got {Confidence})");
        }

        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentException($"unknown canary kind {Kind}");
        }
    }
}
