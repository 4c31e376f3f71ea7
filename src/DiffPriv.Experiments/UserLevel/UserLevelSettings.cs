namespace DiffPriv.Experiments.UserLevel;

/// <summary>
/// What <see cref="UserLevelExperiment"/> runs: the ratings used and how they are split, the model, the target (ε, δ)
/// of the private settings (per user for user-level, per rating for example-level) and each setting's hyperparameters.
/// <see cref="Full"/> and <see cref="Quick"/> are the two shipped presets.
/// </summary>
public sealed record UserLevelSettings
{
    /// <summary>The full run: all 671 users of MovieLens.</summary>
    public static UserLevelSettings Full { get; } = new();

    /// <summary>Under a minute: a seeded subset of 200 users, the same sampling rates (q = 0.2 of the users, 2 000 of the full
    /// run's 90 000 ratings), fewer epochs.</summary>
    public static UserLevelSettings Quick { get; } = new()
    {
        Users = 200,
        NonPrivate = Full.NonPrivate with { Epochs = 10 },
        UserLevel = Full.UserLevel with { Epochs = 10, BatchSize = 40 },
        ExampleLevel = Full.ExampleLevel with { Epochs = 10, BatchSize = 600 },
        IsQuick = true,
    };

    /// <summary>Whether these are (derived from) the <see cref="Quick"/> preset; shown in the report.</summary>
    public bool IsQuick { get; init; }

    /// <summary>ε of every private setting, &gt; 0: per user for user-level, per rating for example-level. Default 3.</summary>
    public double TargetEpsilon { get; init; } = 3.0;

    /// <summary>δ, in (0, 1). Default 1e-5 (below 1/U and 1/N).</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>The share of each user's ratings held out for testing, in (0, 1). Default 0.1.</summary>
    public double HoldOut { get; init; } = 0.1;

    /// <summary>Keep a seeded random subset of this many users (≥ 10); null: all.</summary>
    public int? Users { get; init; }

    /// <summary>d, the length of the movie and user vectors, ≥ 1. Default 8.</summary>
    public int Dimension { get; init; } = 8;

    /// <summary>λ of the per-user ridge regression that gives each user's vector and bias, &gt; 0. Default 10.</summary>
    public double Ridge { get; init; } = 10.0;

    /// <summary>The settings to run, in report order; default all three.</summary>
    public IReadOnlyList<RatingTrainingMode> Modes { get; init; } = RatingTrainingModes.All;

    /// <summary>Hyperparameters of <c>non-private</c>: 20 epochs over users, 32 users per batch, AdamW 3e-3 with weight decay 1.</summary>
    public RatingHyperparameters NonPrivate { get; init; } = new() { Epochs = 20, BatchSize = 32, LearningRate = 3e-3, WeightDecay = 1 };

    /// <summary>
    /// Hyperparameters of <c>user-level</c>: 15 epochs over users, 134 users per batch in expectation (q = 0.2 of 671), AdamW
    /// 3e-2 with weight decay 1, C = 0.1 per user (the norm of a typical user's mean gradient is 0.05–0.5).
    /// </summary>
    public RatingHyperparameters UserLevel { get; init; } = new() { Epochs = 15, BatchSize = 134, LearningRate = 3e-2, MaxGradNorm = 0.1, WeightDecay = 1 };

    /// <summary>Hyperparameters of <c>example-level</c>: 20 epochs over ratings, 2 000 ratings per batch in expectation, AdamW 1e-2 with weight decay 1, C = 0.1 per rating.</summary>
    public RatingHyperparameters ExampleLevel { get; init; } = new() { Epochs = 20, BatchSize = 2000, LearningRate = 1e-2, MaxGradNorm = 0.1, WeightDecay = 1 };

    /// <summary>Seeds the split, the user subset, the initial weights and the non-private batches. Default 1.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Whether the DP noise and sampling are seeded from <see cref="Seed"/> too (reproducible, NOT secret: experiments only). Default false.</summary>
    public bool SeededNoise { get; init; }

    /// <summary>The data cache root; null: <see cref="Datasets.DataCache.Root"/>.</summary>
    public string? DataDir { get; init; }

    /// <summary>The run folder; null: <c>runs/user-level-&lt;timestamp&gt;</c>.</summary>
    public string? OutDir { get; init; }

    /// <summary>The command line, recorded in the run folder.</summary>
    public string CommandLine { get; init; } = "diffpriv experiment user-level";

    /// <summary>A checkpoint of each private setting at the end of every this many epochs and of its last, ≥ 1. Default 1.</summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>The hyperparameters of one setting.</summary>
    /// <param name="mode">A setting.</param>
    /// <returns>Its hyperparameters.</returns>
    public RatingHyperparameters For(RatingTrainingMode mode) => mode switch
    {
        RatingTrainingMode.NonPrivate => NonPrivate,
        RatingTrainingMode.UserLevel => UserLevel,
        RatingTrainingMode.ExampleLevel => ExampleLevel,
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

        if (!(HoldOut > 0 && HoldOut < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(HoldOut), HoldOut, "The held-out share must be in (0, 1).");
        }

        if (Users is < 10)
        {
            throw new ArgumentOutOfRangeException(nameof(Users), Users, "Keep at least 10 users.");
        }

        if (Dimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, "The vectors need at least one dimension.");
        }

        if (!(Ridge > 0 && double.IsFinite(Ridge)))
        {
            throw new ArgumentOutOfRangeException(nameof(Ridge), Ridge, "λ must be a finite number > 0.");
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
