using System.Globalization;

namespace DiffPriv.Experiments.Tabular;

/// <summary>
/// <c>diffpriv train csv</c>: a classifier on the user's own table (RFC 4180 CSV or WEKA ARFF) trained with DP-SGD, its
/// preprocessing either declared public in a schema or computed with DP and charged to the same ledger.
/// </summary>
public sealed record TabularTrainSettings
{
    /// <summary>ε of the whole run when neither <see cref="TargetEpsilon"/> nor <see cref="NoiseMultiplier"/> is set: 3.</summary>
    public const double DefaultTargetEpsilon = 3.0;

    /// <summary>The share of the target ε the preprocessing may spend when <see cref="PreprocessingEpsilon"/> is not set: 10%.</summary>
    public const double DefaultPreprocessingShare = 0.1;

    /// <summary>The training table: CSV with a header line, or ARFF (by the extension <c>.arff</c> or its first line).</summary>
    public required string DataFile { get; init; }

    /// <summary>The column holding the class.</summary>
    public required string TargetColumn { get; init; }

    /// <summary>A separate test table with the same columns; null: hold out <see cref="TestFraction"/> of the data file.</summary>
    public string? TestFile { get; init; }

    /// <summary>The share of the data file held out for testing by a seeded split when there is no <see cref="TestFile"/>, in (0, 1). Default 0.2.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>ε of the whole run, preprocessing included, &gt; 0; DP-SGD's σ is calibrated so that the total stays within it.
    /// Null: <see cref="DefaultTargetEpsilon"/>, unless <see cref="NoiseMultiplier"/> is set.</summary>
    public double? TargetEpsilon { get; init; }

    /// <summary>A fixed DP-SGD noise multiplier σ &gt; 0 instead of a target ε (the report gives the ε it reaches).</summary>
    public double? NoiseMultiplier { get; init; }

    /// <summary>δ of the whole run, in (0, 1). Default 1e-5.</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>A JSON schema declaring public facts about the columns; null: everything is typed from the values and
    /// computed with DP.</summary>
    public string? SchemaFile { get; init; }

    /// <summary>ε (at <see cref="Delta"/>) the preprocessing may spend on what the schema leaves open; null:
    /// <see cref="DefaultPreprocessingShare"/> of the target ε (of <see cref="DefaultTargetEpsilon"/> with a fixed σ).</summary>
    public double? PreprocessingEpsilon { get; init; }

    /// <summary>The classifier; null: <see cref="DefaultModel"/> of the number of training rows.</summary>
    public TabularModelKind? Model { get; init; }

    /// <summary>The MLP's hidden width, ≥ 1. Default 64.</summary>
    public int HiddenUnits { get; init; } = 64;

    /// <summary>Epochs &gt; 0 (⌈epochs·N/B⌉ Poisson-sampled steps); null: <see cref="DefaultEpochs"/>.</summary>
    public double? Epochs { get; init; }

    /// <summary>The expected batch size B = q·N, ≥ 1; null: <see cref="DefaultBatchSize"/> of the number of training rows.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Adam's learning rate &gt; 0; null: <see cref="DefaultLearningRate"/> of the model.</summary>
    public double? LearningRate { get; init; }

    /// <summary>The per-example clipping norm C &gt; 0. Default 1.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Seeds the split, the initialisation, the sampling and all noise (reproducible, NOT secret); null: the split
    /// and initialisation use seed 1 and the noise and sampling are secure.</summary>
    public long? Seed { get; init; }

    /// <summary>The run folder; null: <c>runs/csv-&lt;timestamp&gt;</c>.</summary>
    public string? OutDir { get; init; }

    /// <summary>The command line, recorded in the run folder.</summary>
    public string CommandLine { get; init; } = "diffpriv train csv";

    /// <summary>
    /// A checkpoint to resume from (<see cref="Training.TrainResume.CheckpointFile"/>) is written atomically at the end of
    /// every this many epochs and of the last one; ≥ 1, default 1 (every epoch). See <see cref="TabularTrainRunner.Resume"/>.
    /// </summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>From this many training rows on, the default model is the MLP.</summary>
    public const int MlpFromRows = 10_000;

    /// <summary>The classifier for N training rows when <see cref="Model"/> is null: logistic regression below
    /// <see cref="MlpFromRows"/>, else the MLP (enough rows to fit a hidden layer under noise).</summary>
    /// <param name="trainRows">N.</param>
    /// <returns>The model.</returns>
    public static TabularModelKind DefaultModel(int trainRows) => trainRows >= MlpFromRows ? TabularModelKind.Mlp : TabularModelKind.Logistic;

    /// <summary>
    /// The expected batch size for N training rows when <see cref="BatchSize"/> is null: about 8·√N, within [16, 1024] and at
    /// most N. Large batches keep σ near 1 or above, where the noise per step grows more slowly than the batch; on the two
    /// credit tables (800 and 3 563 rows) this gave q ≈ 0.28 and 0.13.
    /// </summary>
    /// <param name="trainRows">N ≥ 1.</param>
    /// <returns>B.</returns>
    public static int DefaultBatchSize(int trainRows) => Math.Min(trainRows, Math.Clamp((int)Math.Round(8 * Math.Sqrt(trainRows)), 16, 1024));

    /// <summary>The epochs when <see cref="Epochs"/> is null: 40 (142 and 299 steps on the two credit tables).</summary>
    public const double DefaultEpochs = 40;

    /// <summary>Adam's learning rate when <see cref="LearningRate"/> is null: 0.05 for logistic regression (convex, a zero
    /// start), 0.005 for the MLP.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The learning rate.</returns>
    public static double DefaultLearningRate(TabularModelKind model) => model == TabularModelKind.Logistic ? 0.05 : 0.005;

    /// <summary>The target ε in force: <see cref="TargetEpsilon"/>, or <see cref="DefaultTargetEpsilon"/> when σ is not fixed; null with a fixed σ.</summary>
    public double? EffectiveTargetEpsilon => NoiseMultiplier is null ? TargetEpsilon ?? DefaultTargetEpsilon : null;

    /// <summary>The preprocessing budget in force (see <see cref="PreprocessingEpsilon"/>).</summary>
    public double EffectivePreprocessingEpsilon => PreprocessingEpsilon ?? (DefaultPreprocessingShare * (EffectiveTargetEpsilon ?? DefaultTargetEpsilon));

    /// <summary>Checks the values that need no file.</summary>
    /// <exception cref="ArgumentException">A value is out of range (the message names the option).</exception>
    public void Validate()
    {
        static bool Positive(double x) => x > 0 && double.IsFinite(x);
        if (TargetEpsilon is not null && NoiseMultiplier is not null)
        {
            throw new ArgumentException("give either --target-epsilon or --noise-multiplier, not both");
        }

        if (TargetEpsilon is { } e && !Positive(e))
        {
            throw Fail("--target-epsilon must be a finite number > 0", e);
        }

        if (NoiseMultiplier is { } s && !Positive(s))
        {
            throw Fail("--noise-multiplier must be a finite number > 0", s);
        }

        if (!(Delta > 0 && Delta < 1))
        {
            throw Fail("--delta must be in (0, 1)", Delta);
        }

        if (!(TestFraction > 0 && TestFraction < 1))
        {
            throw Fail("--test-fraction must be in (0, 1)", TestFraction);
        }

        if (PreprocessingEpsilon is { } p && !Positive(p))
        {
            throw Fail("--preprocessing-epsilon must be a finite number > 0", p);
        }

        if (EffectiveTargetEpsilon is { } target && EffectivePreprocessingEpsilon >= target)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture, $"--preprocessing-epsilon ({EffectivePreprocessingEpsilon}) must be below the target ε ({target}): training needs a share too"));
        }

        if (Epochs is { } ep && !Positive(ep))
        {
            throw Fail("--epochs must be a finite number > 0", ep);
        }

        if (BatchSize is { } b && b < 1)
        {
            throw Fail("--batch-size must be ≥ 1", b);
        }

        if (LearningRate is { } lr && !Positive(lr))
        {
            throw Fail("--learning-rate must be a finite number > 0", lr);
        }

        if (!Positive(MaxGradNorm))
        {
            throw Fail("--max-grad-norm must be a finite number > 0", MaxGradNorm);
        }

        if (HiddenUnits < 1)
        {
            throw Fail("the hidden width must be ≥ 1", HiddenUnits);
        }

        if (CheckpointEvery < 1)
        {
            throw Fail("--checkpoint-every must be ≥ 1", CheckpointEvery);
        }
    }

    private static ArgumentException Fail(string what, object value) => new(string.Create(CultureInfo.InvariantCulture, $"{what} (got {value})"));
}
