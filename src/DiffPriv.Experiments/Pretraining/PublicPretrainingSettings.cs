using System.Globalization;
using DiffPriv.Experiments.Models;
using DiffPriv.Models;

namespace DiffPriv.Experiments.Pretraining;

/// <summary>
/// What <see cref="PublicTextPretraining"/> trains: the tokens (words of a public vocabulary, by default, or bytes), the size
/// of the causal transformer language model (<see cref="ModelZoo.TransformerLm"/> or <see cref="ModelZoo.ByteTransformerLm"/>),
/// the non-private Adam training on random windows of public text, and the corpora. Two runs with equal settings (except the folders) train the same weights, so the second reuses the first's.
/// </summary>
public sealed record PublicPretrainingSettings
{
    /// <summary>The corpora used when none are named: Brown, State of the Union, Jane Austen.</summary>
    public static IReadOnlyList<PublicCorpus> DefaultCorpora { get; } = [PublicCorpus.Brown, PublicCorpus.StateOfTheUnion, PublicCorpus.JaneAusten];

    /// <summary>Words (default) or bytes.</summary>
    public PretrainingTokens Tokens { get; init; } = PretrainingTokens.Words;

    /// <summary>With <see cref="PretrainingTokens.Words"/>: the ids of the vocabulary built from the corpora' training text,
    /// ≥ 3 (padding and unknown included; the rest are the most frequent tokens). Ignored for bytes.</summary>
    public int VocabularySize { get; init; } = 16_384;

    /// <summary>d, the model width, ≥ 1; divisible by <see cref="Heads"/>.</summary>
    public int ModelDimension { get; init; } = 128;

    /// <summary>Attention heads, ≥ 1.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Transformer layers, ≥ 1.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Feed-forward width of each layer, ≥ 1.</summary>
    public int Feedforward { get; init; } = 512;

    /// <summary>T, tokens per training window (and the model's longest input), ≥ 1.</summary>
    public int SequenceLength { get; init; } = 128;

    /// <summary>Windows per step, ≥ 1.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Adam steps, ≥ 1. A fixed number of steps, not a time budget, so that equal settings give equal weights.</summary>
    public int Steps { get; init; } = 3000;

    /// <summary>Adam's learning rate, &gt; 0 (constant).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Seeds the initial weights and the choice of windows.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>The public corpora, concatenated in this order; at least one, no repeats.</summary>
    public IReadOnlyList<PublicCorpus> Corpora { get; init; } = DefaultCorpora;

    /// <summary>Only the first this many UTF-8 bytes of each corpus (e.g. a small slice for tests); null: all of it.</summary>
    public long? MaxBytesPerCorpus { get; init; }

    /// <summary>The share at the end of each corpus held out for validation perplexity, in (0, 0.5].</summary>
    public double ValidationFraction { get; init; } = 0.01;

    /// <summary>At most this many non-overlapping validation windows are scored, ≥ 1.</summary>
    public int ValidationWindows { get; init; } = 64;

    /// <summary>The data cache root the corpora are fetched into; null: <see cref="Datasets.DataCache.Root"/>. Not part of what is trained.</summary>
    public string? DataDir { get; init; }

    /// <summary>Where the weights are cached; null: the <c>pretrained</c> folder of the data cache. Not part of what is trained.</summary>
    public string? ModelDir { get; init; }

    /// <summary>The architecture recorded in the weights' provenance.</summary>
    public ModelArchitecture Architecture => Tokens == PretrainingTokens.Bytes
        ? new(ModelArchitecture.ByteTransformerLm, ByteVocabulary.Size, ModelDimension, Feedforward, SequenceLength) { Heads = Heads, Layers = Layers }
        : new(ModelArchitecture.WordTransformerLm, VocabularySize, ModelDimension, Feedforward, SequenceLength) { Heads = Heads, Layers = Layers };

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (the message names it).</exception>
    /// <exception cref="ArgumentException">No corpus, or one named twice.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Tokens))
        {
            throw new ArgumentOutOfRangeException(nameof(Tokens), Tokens, "Words or bytes.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(VocabularySize, 3, nameof(VocabularySize));
        ArgumentOutOfRangeException.ThrowIfLessThan(ModelDimension, 1, nameof(ModelDimension));
        ArgumentOutOfRangeException.ThrowIfLessThan(Heads, 1, nameof(Heads));
        if (ModelDimension % Heads != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Heads), Heads, $"{nameof(ModelDimension)} {ModelDimension} is not divisible by {Heads} heads.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Layers, 1, nameof(Layers));
        ArgumentOutOfRangeException.ThrowIfLessThan(Feedforward, 1, nameof(Feedforward));
        ArgumentOutOfRangeException.ThrowIfLessThan(SequenceLength, 1, nameof(SequenceLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(Steps, 1, nameof(Steps));
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be positive and finite.");
        }

        if (MaxBytesPerCorpus is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBytesPerCorpus), MaxBytesPerCorpus, "At least one byte per corpus.");
        }

        if (!(ValidationFraction > 0 && ValidationFraction <= 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "The validation share must be in (0, 0.5].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(ValidationWindows, 1, nameof(ValidationWindows));
        ArgumentNullException.ThrowIfNull(Corpora, nameof(Corpora));
        if (Corpora.Count == 0 || Corpora.Distinct().Count() != Corpora.Count || Corpora.Any(c => !Enum.IsDefined(c)))
        {
            throw new ArgumentException("Name at least one public corpus, each once.", nameof(Corpora));
        }
    }

    /// <summary>The settings that decide the weights, by name, as recorded in the provenance sidecar (folders excluded).</summary>
    internal IReadOnlyDictionary<string, string> ToProvenanceSettings()
    {
        var inv = CultureInfo.InvariantCulture;
        return new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["batch_size"] = BatchSize.ToString(inv),
            ["corpora"] = string.Join(",", Corpora),
            ["learning_rate"] = LearningRate.ToString("R", inv),
            ["max_bytes_per_corpus"] = MaxBytesPerCorpus?.ToString(inv) ?? "all",
            ["optimizer"] = "adam",
            ["steps"] = Steps.ToString(inv),
            ["tokens"] = Tokens == PretrainingTokens.Bytes ? "bytes" : "words",
            ["validation_fraction"] = ValidationFraction.ToString("R", inv),
            ["validation_windows"] = ValidationWindows.ToString(inv),
        };
    }
}
