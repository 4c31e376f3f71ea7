using DiffPriv.Experiments.Pretraining;

namespace DiffPriv.Experiments.TextClassification;

/// <summary>
/// <c>diffpriv train text</c>: a user's labelled text table (RFC 4180 CSV), fine-tuned privately from the public pretrained
/// model (LoRA by default).
/// </summary>
public sealed record TextTrainSettings
{
    /// <summary>The training CSV file (a header line, then one record per example).</summary>
    public required string DataFile { get; init; }

    /// <summary>The header name of the text column.</summary>
    public required string TextColumn { get; init; }

    /// <summary>The header name of the label column.</summary>
    public required string TargetColumn { get; init; }

    /// <summary>The declared label set, in class order; null: the distinct labels of the training file, in ordinal order,
    /// treated as public (the report says so).</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>A separate test CSV with the same columns; null: hold out <see cref="TestFraction"/> of the data file.</summary>
    public string? TestFile { get; init; }

    /// <summary>The share of the data file held out for testing by a seeded split when there is no <see cref="TestFile"/>, in (0, 1). Default 0.2.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>ε, &gt; 0. Default 3.</summary>
    public double TargetEpsilon { get; init; } = 3.0;

    /// <summary>δ, in (0, 1). Default 1e-5.</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>Fine-tune all weights instead of LoRA adapters and the head.</summary>
    public bool FullFineTuning { get; init; }

    /// <summary>Epochs, expected batch, Adam's rates, C and the LoRA rank. Default: 8 epochs, expected batch 128, Adam 5e-4
    /// (the head 1e-2), C = 1, rank 8.</summary>
    public TextHyperparameters Hyperparameters { get; init; } = new() { Epochs = 8, BatchSize = 128, LearningRate = 5e-4, HeadLearningRate = 1e-2 };

    /// <summary>Tokens read per text (the first and last halves of a longer one), in [1, the pretrained length]. Default 128.</summary>
    public int MaxTokens { get; init; } = 128;

    /// <summary>The public pretraining the model starts from (cached).</summary>
    public PublicPretrainingSettings Pretraining { get; init; } = new();

    /// <summary>Seeds the split, the initial head and the batches and noise (reproducible, NOT secret); null: the split and
    /// initialisation use seed 1 and the noise and sampling are secure.</summary>
    public long? Seed { get; init; }

    /// <summary>The data cache root (pretraining corpora and weights); null: the default.</summary>
    public string? DataDir { get; init; }

    /// <summary>The run folder; null: <c>runs/text-&lt;timestamp&gt;</c>.</summary>
    public string? OutDir { get; init; }

    /// <summary>The command line, recorded in the run folder.</summary>
    public string CommandLine { get; init; } = "diffpriv train text";

    /// <summary>
    /// A checkpoint to resume from (<see cref="Training.TrainResume.CheckpointFile"/>) is written atomically at the end of
    /// every this many epochs and of the last one; ≥ 1, default 1 (every epoch). See <see cref="TextTrainRunner.Resume"/>.
    /// </summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Checks the values that need no file.</summary>
    /// <exception cref="ArgumentException">A value is out of range (the message names the option).</exception>
    public void Validate()
    {
        if (!(TargetEpsilon > 0 && double.IsFinite(TargetEpsilon)))
        {
            throw new ArgumentException($"--target-epsilon must be a finite number > 0 (got {TargetEpsilon}).");
        }

        if (!(Delta > 0 && Delta < 1))
        {
            throw new ArgumentException($"--delta must be in (0, 1) (got {Delta}).");
        }

        if (!(TestFraction > 0 && TestFraction < 1))
        {
            throw new ArgumentException($"--test-fraction must be in (0, 1) (got {TestFraction}).");
        }

        Hyperparameters.Validate("train text");
        Pretraining.Validate();
        if (Pretraining.Tokens != PretrainingTokens.Words)
        {
            throw new ArgumentException("The text classifier reads words: the pretraining must be word-level.");
        }

        if (MaxTokens < 1 || MaxTokens > Pretraining.SequenceLength)
        {
            throw new ArgumentException($"--max-tokens must be in [1, {Pretraining.SequenceLength}] (got {MaxTokens}).");
        }

        if (CheckpointEvery < 1)
        {
            throw new ArgumentException($"--checkpoint-every must be ≥ 1 (got {CheckpointEvery}).");
        }

        if (Labels is { } labels && (labels.Count < 2 || labels.Distinct(StringComparer.Ordinal).Count() != labels.Count || labels.Any(string.IsNullOrWhiteSpace)))
        {
            throw new ArgumentException("--labels must name at least two distinct, non-empty labels.");
        }
    }
}
