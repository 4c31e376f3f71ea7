using DiffPriv.Experiments.Pretraining;

namespace DiffPriv.Experiments.TextClassification;

/// <summary>
/// What <see cref="TextClassificationExperiment"/> runs: the IMDB reviews used, the text length, the target (ε, δ) of the
/// private settings, the hyperparameters of each setting and the public pretraining. <see cref="Full"/> and
/// <see cref="Quick"/> are the two shipped presets.
/// </summary>
public sealed record TextClassificationSettings
{
    /// <summary>The full run: all 25 000 training and 25 000 test reviews.</summary>
    public static TextClassificationSettings Full { get; } = new();

    /// <summary>A few minutes: 3 000 training and 2 000 test reviews (seeded subsets), the full run's models and hyperparameters
    /// with a smaller expected batch (the sampling rate stays 1/24 of the data).</summary>
    public static TextClassificationSettings Quick { get; } = new()
    {
        TrainReviews = 3_000,
        TestReviews = 2_000,
        CurveReviews = 1_000,
        NonPrivate = Full.NonPrivate with { Epochs = 1 },
        DpScratch = Full.DpScratch with { BatchSize = 128 },
        DpFull = Full.DpFull with { BatchSize = 128 },
        DpLora = Full.DpLora with { BatchSize = 128 },
        IsQuick = true,
    };

    /// <summary>Whether these are (derived from) the <see cref="Quick"/> preset; shown in the report.</summary>
    public bool IsQuick { get; init; }

    /// <summary>ε of every private setting, &gt; 0. Default 3.</summary>
    public double TargetEpsilon { get; init; } = 3.0;

    /// <summary>δ, in (0, 1). Default 1e-5 (below 1/N = 4e-5 for 25 000 reviews).</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>Tokens read per review, ≥ 1 and at most the pretrained model's <see cref="PublicPretrainingSettings.SequenceLength"/>:
    /// a longer review keeps its first and last halves. Default 128.</summary>
    public int MaxTokens { get; init; } = 128;

    /// <summary>Train on a seeded random subset of this many of the 25 000 training reviews; null: all.</summary>
    public int? TrainReviews { get; init; }

    /// <summary>Evaluate on a seeded random subset of this many of the 25 000 test reviews; null: all.</summary>
    public int? TestReviews { get; init; }

    /// <summary>The accuracy-against-ε curve is measured after every epoch on this many test reviews (the first of the
    /// shuffled test set); the final point of each setting is the full test accuracy. Default 2 000.</summary>
    public int CurveReviews { get; init; } = 2_000;

    /// <summary>The settings to run, in report order; default all four.</summary>
    public IReadOnlyList<TextTrainingMode> Modes { get; init; } = TextTrainingModes.All;

    /// <summary>Hyperparameters of <c>non-private</c>: 2 epochs, batches of 32, Adam 2e-4.</summary>
    public TextHyperparameters NonPrivate { get; init; } = new() { Epochs = 2, BatchSize = 32, LearningRate = 2e-4 };

    /// <summary>Hyperparameters of <c>dp-scratch</c>: 3 epochs, expected batch 1 024, Adam 1e-3 (head 1e-2), C = 1.</summary>
    public TextHyperparameters DpScratch { get; init; } = new() { Epochs = 3, BatchSize = 1024, LearningRate = 1e-3, HeadLearningRate = 1e-2 };

    /// <summary>Hyperparameters of <c>dp-full</c>: 3 epochs, expected batch 1 024, Adam 5e-4 (head 1e-2), C = 1.</summary>
    public TextHyperparameters DpFull { get; init; } = new() { Epochs = 3, BatchSize = 1024, LearningRate = 5e-4, HeadLearningRate = 1e-2 };

    /// <summary>Hyperparameters of <c>dp-lora</c>: 3 epochs, expected batch 1 024, Adam 5e-4 (head 1e-2), C = 1, rank 8.</summary>
    public TextHyperparameters DpLora { get; init; } = new() { Epochs = 3, BatchSize = 1024, LearningRate = 5e-4, HeadLearningRate = 1e-2 };

    /// <summary>The public pretraining whose model and vocabulary every pretrained setting starts from (cached; see
    /// <see cref="PublicTextPretraining"/>). Must be word-level.</summary>
    public PublicPretrainingSettings Pretraining { get; init; } = new();

    /// <summary>Seeds the subsets, the initial weights and the batches. Default 1.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Whether the DP noise is seeded from <see cref="Seed"/> too (reproducible, NOT secret: experiments only). Default false: secure noise.</summary>
    public bool SeededNoise { get; init; }

    /// <summary>The data cache root; null: <see cref="Datasets.DataCache.Root"/>.</summary>
    public string? DataDir { get; init; }

    /// <summary>The run folder; null: <c>runs/text-classification-&lt;timestamp&gt;</c>.</summary>
    public string? OutDir { get; init; }

    /// <summary>The command line, recorded in the run folder.</summary>
    public string CommandLine { get; init; } = "diffpriv experiment text-classification";

    /// <summary>A checkpoint of each private setting at the end of every this many epochs and of its last, ≥ 1. Default 1.</summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>The hyperparameters of one setting.</summary>
    /// <param name="mode">A setting.</param>
    /// <returns>Its hyperparameters.</returns>
    public TextHyperparameters For(TextTrainingMode mode) => mode switch
    {
        TextTrainingMode.NonPrivate => NonPrivate,
        TextTrainingMode.DpScratch => DpScratch,
        TextTrainingMode.DpFull => DpFull,
        TextTrainingMode.DpLora => DpLora,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown setting."),
    };

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentException">A value is out of range (the message names it).</exception>
    public void Validate()
    {
        if (CheckpointEvery < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), CheckpointEvery, "checkpoints come every N ≥ 1 epochs.");
        }

        if (!(TargetEpsilon > 0 && double.IsFinite(TargetEpsilon)))
        {
            throw new ArgumentOutOfRangeException(nameof(TargetEpsilon), TargetEpsilon, "ε must be a finite number > 0.");
        }

        if (!(Delta > 0 && Delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Delta), Delta, "δ must be in (0, 1).");
        }

        ArgumentNullException.ThrowIfNull(Pretraining, nameof(Pretraining));
        Pretraining.Validate();
        if (Pretraining.Tokens != PretrainingTokens.Words)
        {
            throw new ArgumentException("The text classifier reads words: the pretraining must be word-level.", nameof(Pretraining));
        }

        if (MaxTokens < 1 || MaxTokens > Pretraining.SequenceLength)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, $"Tokens per review must be in [1, {Pretraining.SequenceLength}] (the pretrained model's length).");
        }

        if (TrainReviews is < 10 || TestReviews is < 10 || CurveReviews < 10)
        {
            throw new ArgumentOutOfRangeException(nameof(TrainReviews), "At least 10 training, test and curve reviews.");
        }

        ArgumentNullException.ThrowIfNull(Modes, nameof(Modes));
        if (Modes.Count == 0 || Modes.Distinct().Count() != Modes.Count || Modes.Any(m => !Enum.IsDefined(m)))
        {
            throw new ArgumentException("Name at least one setting, each once.", nameof(Modes));
        }

        foreach (var mode in Modes)
        {
            For(mode).Validate(mode.Name());
        }
    }
}
