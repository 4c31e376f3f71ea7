namespace DiffPriv.Experiments.Benchmarks;

/// <summary>What a <see cref="DpStepSweep"/> measures and where it writes.</summary>
public sealed record DpStepSweepOptions
{
    /// <summary>The quantity varied.</summary>
    public required SweepKind Kind { get; init; }

    /// <summary>The models, in this order; each must be one of <see cref="DpStepSweep.Models"/> of <see cref="Kind"/> or <c>transformer-lora</c>.</summary>
    public required IReadOnlyList<string> Models { get; init; }

    /// <summary>Timed steps of each kind per point, interleaved (≥ 3).</summary>
    public required int Steps { get; init; }

    /// <summary>The folder that gets <c>sweep-&lt;kind&gt;.csv</c> and <c>sweep-&lt;kind&gt;.svg</c> (created if missing).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The values of the swept quantity, increasing, each ≥ 1, for every model; null: <see cref="DpStepSweep.DefaultPoints"/>.</summary>
    public IReadOnlyList<int>? Points { get; init; }

    /// <summary>Examples per step when the batch is not swept; null: the model's single-run default (256, or 64 for char-lstm and the transformers).</summary>
    public int? BatchSize { get; init; }

    /// <summary>Tokens per example when the sequence is not swept (sequence models only); null: each model's default.</summary>
    public int? SequenceLength { get; init; }

    /// <summary>The width when it is not swept; null: each model's default. Only with a single model (a width means something different in each).</summary>
    public int? Width { get; init; }

    /// <summary>char-lstm's vocabulary (≥ 2).</summary>
    public int VocabularySize { get; init; } = DpStepBenchmark.CharLstmVocabulary;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range, a model does not fit the sweep, or a fixed value is given for the swept quantity.</exception>
    public void Validate()
    {
        if (Models.Count == 0)
        {
            throw new ArgumentException("A sweep needs at least one model.");
        }

        var allowed = DpStepSweep.Models(Kind).Append("transformer-lora").ToList();
        foreach (var model in Models)
        {
            if (!allowed.Contains(model))
            {
                throw new ArgumentException($"--model: --sweep {DpStepSweep.Name(Kind)} covers {string.Join(", ", allowed)} (got '{model}')");
            }
        }

        if (Models.Distinct().Count() != Models.Count)
        {
            throw new ArgumentException($"--model names a model twice ({string.Join(",", Models)})");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Steps, 3);
        ArgumentException.ThrowIfNullOrWhiteSpace(OutputDirectory);
        if (VocabularySize < 2)
        {
            throw new ArgumentException($"--vocabulary-size must be ≥ 2 (got {VocabularySize})");
        }

        if (Points is { } points)
        {
            if (points.Count == 0 || points.Any(p => p < 1))
            {
                throw new ArgumentException($"--points must be integers ≥ 1 (got {string.Join(",", points)})");
            }

            if (points.Zip(points.Skip(1)).Any(pair => pair.Second <= pair.First))
            {
                throw new ArgumentException($"--points must increase (got {string.Join(",", points)})");
            }
        }

        Fixed(BatchSize, SweepKind.Batch, "--batch-size");
        Fixed(SequenceLength, SweepKind.Sequence, "--sequence-length");
        Fixed(Width, SweepKind.Width, "--width");
        if (SequenceLength is not null && Models.All(m => DpStepBenchmark.DefaultSequenceLength(m) is null))
        {
            throw new ArgumentException($"--sequence-length does not apply to {string.Join(", ", Models)}");
        }

        if (Width is not null && Models.Count != 1)
        {
            throw new ArgumentException("--width needs a single --model (a width means something different in each model)");
        }

        foreach (var model in Models)
        {
            foreach (var value in Kind == SweepKind.Width ? Points ?? DpStepSweep.DefaultPoints(Kind, model) : Width is { } w ? [w] : [])
            {
                DpStepBenchmark.CheckWidth(model, value);
            }
        }
    }

    private void Fixed(int? value, SweepKind kind, string option)
    {
        if (value is null)
        {
            return;
        }

        if (Kind == kind)
        {
            throw new ArgumentException($"{option} cannot be given with --sweep {DpStepSweep.Name(kind)}: it is the swept quantity (use --points)");
        }

        if (value < 1)
        {
            throw new ArgumentException($"{option} must be ≥ 1 (got {value})");
        }
    }
}
