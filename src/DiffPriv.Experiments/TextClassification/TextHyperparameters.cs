using System.Globalization;

namespace DiffPriv.Experiments.TextClassification;

/// <summary>The training of one text classifier: epochs, batch, Adam's learning rate, and for DP-SGD the clipping norm and the LoRA rank.</summary>
public sealed record TextHyperparameters
{
    /// <summary>Passes over the training data, &gt; 0 (DP-SGD: ⌈epochs·N/B⌉ Poisson-sampled steps, σ calibrated for them).</summary>
    public required double Epochs { get; init; }

    /// <summary>The batch size (DP-SGD: the expected batch size B = q·N), ≥ 1.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Adam's learning rate, &gt; 0 (constant).</summary>
    public required double LearningRate { get; init; }

    /// <summary>Adam's learning rate for the classification head, &gt; 0; null: <see cref="LearningRate"/>. The new head is
    /// the one part that starts from nothing, so it may take larger steps than the pretrained body or the adapters.</summary>
    public double? HeadLearningRate { get; init; }

    /// <summary>DP-SGD: the per-example clipping norm C, &gt; 0. Default 1.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>LoRA: the adapters' rank r, ≥ 1. Default 8.</summary>
    public int LoraRank { get; init; } = 8;

    /// <summary>DP-SGD: examples per forward and backward pass (memory, not privacy), ≥ 1. Default 64.</summary>
    public int PhysicalBatchSize { get; init; } = 64;

    /// <summary>Checks the values.</summary>
    /// <param name="name">Whose hyperparameters (for the message).</param>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate(string name)
    {
        static bool Positive(double x) => x > 0 && double.IsFinite(x);
        string Say(string what, object value) => string.Create(CultureInfo.InvariantCulture, $"{name}: {what} (got {value}).");
        if (!Positive(Epochs))
        {
            throw new ArgumentException(Say("epochs must be a finite number > 0", Epochs));
        }

        if (BatchSize < 1)
        {
            throw new ArgumentException(Say("the batch size must be ≥ 1", BatchSize));
        }

        if (!Positive(LearningRate))
        {
            throw new ArgumentException(Say("the learning rate must be a finite number > 0", LearningRate));
        }

        if (HeadLearningRate is { } head && !Positive(head))
        {
            throw new ArgumentException(Say("the head's learning rate must be a finite number > 0", head));
        }

        if (!Positive(MaxGradNorm))
        {
            throw new ArgumentException(Say("the clipping norm must be a finite number > 0", MaxGradNorm));
        }

        if (LoraRank < 1)
        {
            throw new ArgumentException(Say("the LoRA rank must be ≥ 1", LoraRank));
        }

        if (PhysicalBatchSize < 1)
        {
            throw new ArgumentException(Say("the physical batch size must be ≥ 1", PhysicalBatchSize));
        }
    }
}
