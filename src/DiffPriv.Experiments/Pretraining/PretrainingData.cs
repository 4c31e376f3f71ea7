using System.Text;
using DiffPriv.Experiments.Models;
using DiffPriv.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Pretraining;

/// <summary>
/// The public corpora split for pretraining: per corpus, a held-out tail (by bytes) for validation and the rest for
/// training; with words, the vocabulary built from the training parts; the token ids of the training parts concatenated
/// (bytes: a newline between corpora), and every training window's start drawn up front from the seed, so that the
/// provenance can say how many windows came from each corpus before anything is trained.
/// </summary>
internal sealed class PretrainingData
{
    private const byte Separator = (byte)'\n';
    private readonly int[] _train;
    private readonly int[] _validation;
    private readonly long[] _starts;
    private readonly int _window;
    private readonly int _batch;
    private readonly int _validationWindows;

    private PretrainingData(
        int[] train, int[] validation, long[] starts, int window, int batch, int validationWindows, IReadOnlyList<TrainingCorpus> corpora, WordVocabulary? vocabulary)
    {
        _train = train;
        _validation = validation;
        _starts = starts;
        _window = window;
        _batch = batch;
        _validationWindows = validationWindows;
        Corpora = corpora;
        Vocabulary = vocabulary;
    }

    /// <summary>The corpora as the provenance records them: name, public, windows drawn from it, passes, bytes used.</summary>
    public IReadOnlyList<TrainingCorpus> Corpora { get; }

    /// <summary>With words: the vocabulary built from the training parts of the corpora; null with bytes.</summary>
    public WordVocabulary? Vocabulary { get; }

    /// <summary>Number of ids the model reads and predicts.</summary>
    public int Outputs(PublicPretrainingSettings settings) =>
        settings.Tokens == PretrainingTokens.Bytes ? ByteVocabulary.ByteCount : Vocabulary!.Size;

    /// <summary>Splits the corpora, builds the vocabulary (words) and draws the windows.</summary>
    /// <exception cref="ArgumentException">The text is too short for one training or one validation window of T + 1 tokens.</exception>
    public static PretrainingData Create(PublicPretrainingSettings settings, IReadOnlyList<(string Name, byte[] Bytes)> texts)
    {
        var window = settings.SequenceLength + 1;
        var words = settings.Tokens == PretrainingTokens.Words;
        var slices = texts.Select(t =>
        {
            var bytes = settings.MaxBytesPerCorpus is { } max && max < t.Bytes.Length ? t.Bytes[..(int)max] : t.Bytes;
            var held = Math.Max(1, (int)(bytes.Length * settings.ValidationFraction));
            return (t.Name, bytes, Train: bytes[..^held], Held: bytes[^held..]);
        }).ToList();

        // The vocabulary comes from the training parts only, so that validation measures unknown words honestly.
        var vocabulary = words
            ? WordVocabulary.Build(slices.Select(s => Encoding.UTF8.GetString(s.Train)), settings.VocabularySize)
            : null;
        int[] Ids(byte[] bytes) => vocabulary is null
            ? [.. bytes.Select(b => (int)b)]
            : [.. vocabulary.Encode(Encoding.UTF8.GetString(bytes)).Select(i => (int)i)];

        var train = new List<int>();
        var validation = new List<int>();
        var parts = new List<(string Name, long Bytes, long Start, long Length)>();
        foreach (var (name, bytes, trainBytes, heldBytes) in slices)
        {
            if (!words && train.Count > 0)
            {
                train.Add(Separator);
                validation.Add(Separator);
            }

            var trainIds = Ids(trainBytes);
            parts.Add((name, bytes.Length, train.Count, trainIds.Length));
            train.AddRange(trainIds);
            validation.AddRange(Ids(heldBytes));
        }

        var unit = words ? "tokens" : "bytes";
        if (train.Count < window || validation.Count < window)
        {
            throw new ArgumentException(
                $"The corpora give {train.Count} training and {validation.Count} validation {unit}; each must hold at least one window of " +
                $"T + 1 = {window} {unit} (raise {nameof(settings.MaxBytesPerCorpus)} or {nameof(settings.ValidationFraction)}, or lower {nameof(settings.SequenceLength)}).",
                nameof(settings));
        }

        // Which public windows to train on is not a secret: System.Random, seeded.
#pragma warning disable CA5394
        var random = new Random((int)(settings.Seed & 0x7fffffff));
        var starts = new long[(long)settings.Steps * settings.BatchSize];
        for (var i = 0; i < starts.Length; i++)
        {
            starts[i] = random.NextInt64(0, train.Count - window + 1);
        }
#pragma warning restore CA5394

        var corpora = parts.Select(p =>
        {
            var drawn = starts.Count(s => s >= p.Start && s < p.Start + p.Length);
            var epochs = p.Length == 0 ? 0 : (int)Math.Ceiling((double)drawn * window / p.Length);
            return new TrainingCorpus(p.Name, IsPublic: true, drawn, epochs) { Bytes = p.Bytes };
        }).ToList();
        return new PretrainingData([.. train], [.. validation], starts, window, settings.BatchSize, settings.ValidationWindows, corpora, vocabulary);
    }

    /// <summary>The windows of step <paramref name="step"/> (from 0): [B, T + 1] token ids.</summary>
    public Tensor TrainBatch(int step)
    {
        var ids = new long[_batch * _window];
        for (var b = 0; b < _batch; b++)
        {
            var start = _starts[((long)step * _batch) + b];
            for (var j = 0; j < _window; j++)
            {
                ids[(b * _window) + j] = _train[start + j];
            }
        }

        return torch.tensor(ids, [_batch, _window]);
    }

    /// <summary>Non-overlapping validation windows from the start of the held-out tokens: [W, T + 1] token ids.</summary>
    public Tensor ValidationWindows()
    {
        var count = Math.Min(_validationWindows, _validation.Length / _window);
        var ids = new long[count * _window];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = _validation[i];
        }

        return torch.tensor(ids, [count, _window]);
    }
}
