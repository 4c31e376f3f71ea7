using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DiffPriv.Datasets;
using DiffPriv.Datasets.Text;
using DiffPriv.Experiments.Models;
using DiffPriv.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Pretraining;

/// <summary>
/// Public pretraining of a causal transformer language model over words (<see cref="ModelZoo.TransformerLm"/> with a
/// <see cref="WordVocabulary"/> built from the same public text) or bytes (<see cref="ModelZoo.ByteTransformerLm"/>) on
/// public English text, so that a private fine-tuning (fully or with LoRA) starts from weights and a vocabulary that saw no
/// private data.
/// </summary>
/// <remarks>
/// <para>The training is NOT private and need not be: every corpus is published text (<see cref="PublicCorpus"/>), and the
/// vocabulary is built from those corpora (or is the fixed <see cref="ByteVocabulary"/>), so nothing here reads private
/// data. The UTF-8 bytes of each corpus are split into a training part and a held-out tail
/// (<see cref="PublicPretrainingSettings.ValidationFraction"/>); the word vocabulary is built from the training parts; their
/// token ids are concatenated and Adam minimises the next-token cross-entropy on windows of T + 1 tokens drawn uniformly at
/// random (seeded).</para>
/// <para>The weights are cached in <see cref="PublicPretrainingSettings.ModelDir"/> (default: the <c>pretrained</c> folder
/// of <see cref="DataCache.Root"/>) under a name derived from the settings, with a <see cref="ModelProvenance"/> sidecar
/// naming the corpora with their sizes, the settings, the seed and the SHA-256 of the weights; a word vocabulary is saved
/// beside them (<see cref="VocabularyPath"/>) and its SHA-256 is one of the recorded settings. A later call whose settings
/// and corpora match the sidecar loads them instead of training again; weights whose hash no longer matches their sidecar
/// are refused.</para>
/// </remarks>
public static class PublicTextPretraining
{
    /// <summary>The folder of the data cache where pretrained weights are kept by default.</summary>
    public const string CacheFolder = "pretrained";

    /// <summary>
    /// Loads the pretrained weights that <paramref name="settings"/> describe from the cache, or trains them (and caches
    /// them with their provenance) when no matching weights are cached.
    /// </summary>
    /// <param name="settings">Model size, training and corpora; validated first.</param>
    /// <param name="progress">Messages and one <see cref="ProgressKind.Step"/> update per training step; may be null.</param>
    /// <returns>The model (evaluation mode, owned by the caller), its weights file and provenance, and whether it was loaded.</returns>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    /// <exception cref="DataFetchException">A corpus is missing and cannot be fetched.</exception>
    /// <exception cref="ModelProvenanceException">Cached weights exist for these settings but cannot be reused: their SHA-256
    /// differs from their sidecar's (the file changed or is corrupt), the sidecar is malformed, or it names private data.
    /// The message names the file; delete it and its sidecar to pretrain again.</exception>
    public static PublicPretrainingResult LoadOrTrain(PublicPretrainingSettings settings, IProgress<ProgressUpdate>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var texts = settings.Corpora.Select(c => LoadCorpus(c, settings.DataDir, progress)).ToList();
        return LoadOrTrain(settings, texts, progress);
    }

    /// <summary>The rule of <see cref="LoadOrTrain(PublicPretrainingSettings, IProgress{ProgressUpdate}?)"/> on corpora already loaded (name, UTF-8 bytes).</summary>
    internal static PublicPretrainingResult LoadOrTrain(
        PublicPretrainingSettings settings, IReadOnlyList<(string Name, byte[] Bytes)> texts, IProgress<ProgressUpdate>? progress)
    {
        settings.Validate();
        var clock = Stopwatch.StartNew();
        TorchRuntime.EnsureLoaded();
        var data = PretrainingData.Create(settings, texts);
        var recorded = new SortedDictionary<string, string>(settings.ToProvenanceSettings().ToDictionary(), StringComparer.Ordinal);
        if (data.Vocabulary is { } words)
        {
            recorded[VocabularySetting] = words.Sha256;
        }

        var expected = new ModelProvenance
        {
            Architecture = settings.Architecture,
            Corpora = data.Corpora,
            Settings = recorded,
            Seed = settings.Seed,
        };
        var folder = settings.ModelDir ?? Path.Combine(DataCache.Root(), CacheFolder);
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, $"{settings.Architecture.Name}-{Key(expected)}.bin");

        if (TryLoad(file, expected, settings, data, progress) is { } loaded)
        {
            var (model, provenance) = loaded;
            return new PublicPretrainingResult(model, file, provenance, Loaded: true, [], ValidationLoss(model, data, settings), clock.Elapsed.TotalSeconds)
            {
                Vocabulary = data.Vocabulary,
            };
        }

        var (trained, losses) = Train(settings, data, progress);
        // Written in three moves so that no valid-looking pair ever describes other weights: the old sidecar goes first,
        // the weights arrive whole (renamed from a temporary file), and only then is the sidecar written with their hash.
        var sidecar = ModelProvenance.SidecarPath(file);
        File.Delete(sidecar);
        data.Vocabulary?.Save(VocabularyPath(file));
        var temporary = $"{file}.{Guid.NewGuid():N}.tmp"; // unique: two processes may pretrain the same settings at once
        trained.save(temporary);
        File.Move(temporary, file, overwrite: true);
        var written = expected.Write(file);
        Say(progress, $"[pretraining] saved {file} (sha256 {written.Sha256[..12]}…) with its provenance sidecar");
        trained.eval();
        return new PublicPretrainingResult(trained, file, written, Loaded: false, losses, ValidationLoss(trained, data, settings), clock.Elapsed.TotalSeconds)
        {
            Vocabulary = data.Vocabulary,
        };
    }

    /// <summary>The name under which a word vocabulary's SHA-256 is recorded in the provenance settings.</summary>
    public const string VocabularySetting = "vocabulary_sha256";

    /// <summary>Where the word vocabulary of the weights file <paramref name="weightsFile"/> is kept: beside it, <c>.vocab.txt</c> appended.</summary>
    /// <param name="weightsFile">A weights file.</param>
    /// <returns>The vocabulary's path.</returns>
    public static string VocabularyPath(string weightsFile)
    {
        ArgumentNullException.ThrowIfNull(weightsFile);
        return weightsFile + ".vocab.txt";
    }

    /// <summary>The cache key: the first 16 hex digits of the SHA-256 of what decides the weights (architecture, corpora, settings, seed).</summary>
    private static string Key(ModelProvenance expected)
    {
        var json = JsonSerializer.Serialize(new
        {
            expected.Architecture,
            Corpora = expected.Corpora.Select(c => new { c.Name, c.IsPublic, c.Bytes, c.Sequences, c.Epochs }),
            expected.Settings,
            expected.Seed,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)))[..16];
    }

    private static (nn.Module<Tensor, Tensor>, ModelProvenance)? TryLoad(
        string file, ModelProvenance expected, PublicPretrainingSettings settings, PretrainingData data, IProgress<ProgressUpdate>? progress)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        ModelProvenance cached;
        try
        {
            cached = ModelProvenance.Read(file);
            cached.EnsurePublic();
            cached.EnsureArchitecture(expected.Architecture);
        }
        catch (ModelProvenanceException e) when (e.Problem == ProvenanceProblem.MissingSidecar)
        {
            // Weights without a sidecar are an interrupted save: never loaded, trained again.
            Warn(progress, $"[pretraining] {file} has no provenance sidecar (an interrupted save?); training again");
            return null;
        }
        catch (ModelProvenanceException e)
        {
            throw new ModelProvenanceException(
                e.Problem, $"the cached pretrained weights {file} cannot be reused: {e.Message}. Delete it and its sidecar to pretrain again.", e);
        }

        if (!Matches(cached, expected))
        {
            Warn(progress, $"[pretraining] {file} was trained with other settings or corpora; training again");
            return null;
        }

        torch.manual_seed(settings.Seed);
        var model = CreateModel(settings, data);
        // From the bytes whose hash is checked, not from the file again.
        using (var reader = new BinaryReader(new MemoryStream(cached.ReadWeights(file))))
        {
            model.load(reader);
        }

        model.eval();
        var corpora = string.Join("; ", cached.Corpora.Select(c => c.Name));
        Say(progress, $"[pretraining] not trained: loaded {file} (sha256 {cached.Sha256[..12]}…, public text only: {corpora})");
        return (model, cached);
    }

    /// <summary>Whether a sidecar describes the weights these settings would train.</summary>
    private static bool Matches(ModelProvenance cached, ModelProvenance expected) =>
        cached.Architecture == expected.Architecture
        && cached.Seed == expected.Seed
        && cached.Corpora.SequenceEqual(expected.Corpora)
        && cached.Settings is { } s && expected.Settings is { } e
        && s.Count == e.Count && e.All(kv => s.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static nn.Module<Tensor, Tensor> CreateModel(PublicPretrainingSettings settings, PretrainingData data) => settings.Tokens == PretrainingTokens.Bytes
        ? ModelZoo.ByteTransformerLm(settings.ModelDimension, settings.Heads, settings.Feedforward, settings.Layers, settings.SequenceLength)
        : ModelZoo.TransformerLm(data.Vocabulary!.Size, settings.ModelDimension, settings.Heads, settings.Feedforward, settings.Layers, settings.SequenceLength);

    private static (nn.Module<Tensor, Tensor> Model, List<double> Losses) Train(
        PublicPretrainingSettings settings, PretrainingData data, IProgress<ProgressUpdate>? progress)
    {
        torch.manual_seed(settings.Seed);
        var model = CreateModel(settings, data);
        model.train();
        using var optimizer = optim.Adam(model.parameters(), settings.LearningRate);
        var inv = CultureInfo.InvariantCulture;
        Say(
            progress,
            $"[pretraining] NOT PRIVATE (public text only): {string.Join("; ", data.Corpora.Select(c => $"{c.Name} {c.Bytes} bytes"))}; " +
            $"{(data.Vocabulary is { } v ? $"word vocabulary of {v.Size} ids (built from this public text)" : "bytes")}; transformer d {settings.ModelDimension}, {settings.Heads} heads, {settings.Layers} layers, feed-forward {settings.Feedforward}, " +
            $"T {settings.SequenceLength}; Adam lr {settings.LearningRate.ToString("G4", inv)}, batches of {settings.BatchSize}, {settings.Steps} steps");
        var clock = Stopwatch.StartNew();
        var losses = new List<double>(settings.Steps);
        var t = settings.SequenceLength;
        var outputs = data.Outputs(settings);
        for (var step = 0; step < settings.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var windows = data.TrainBatch(step); // [B, T + 1]
            var logits = model.call(windows.narrow(1, 0, t)); // [B, T, V]
            var loss = nn.functional.cross_entropy(logits.reshape(-1, outputs), windows.narrow(1, 1, t).reshape(-1));
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            var value = loss.item<float>();
            losses.Add(value);
            var done = step + 1;
            var left = TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / done * (settings.Steps - done));
            progress?.Report(ProgressUpdate.StepDone(new StepStatus(1, 1, done, settings.Steps, value, double.NaN, null, left)));
        }

        return (model, losses);
    }

    /// <summary>Mean next-token cross-entropy (nats per token) over the held-out windows.</summary>
    private static double ValidationLoss(nn.Module<Tensor, Tensor> model, PretrainingData data, PublicPretrainingSettings settings)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var wasTraining = model.training;
        model.eval();
        var windows = data.ValidationWindows(); // [W, T + 1]
        var t = settings.SequenceLength;
        var logits = model.call(windows.narrow(1, 0, t));
        var loss = nn.functional.cross_entropy(logits.reshape(-1, data.Outputs(settings)), windows.narrow(1, 1, t).reshape(-1)).item<float>();
        model.train(wasTraining);
        return loss;
    }

    private static (string Name, byte[] Bytes) LoadCorpus(PublicCorpus corpus, string? dataDir, IProgress<ProgressUpdate>? progress)
    {
        void Log(string m) => progress?.Report(ProgressUpdate.Detail(m));
        const int WholeSentences = 1_000_000; // no cutting: sentences are joined again below
        var (name, text) = corpus switch
        {
            PublicCorpus.Brown => BrownText(BrownCorpus.LoadAllGenres(dataDir, maxSequenceLength: WholeSentences, log: Log)),
            PublicCorpus.StateOfTheUnion => (
                "State of the Union addresses 1790-2021",
                string.Join('\n', StateOfTheUnionCorpus.Load(dataDir, log: Log).Select(a => a.Text))),
            PublicCorpus.JaneAusten => ("Jane Austen's six novels", string.Join('\n', JaneAustenCorpus.Load(dataDir, log: Log).Select(n => n.Text))),
            _ => throw new ArgumentOutOfRangeException(nameof(corpus), corpus, "Unknown corpus."),
        };
        return (name, Encoding.UTF8.GetBytes(text));
    }

    private static (string, string) BrownText(TextCorpus brown) =>
        (brown.Name, string.Join('\n', brown.Train.Sequences.Concat(brown.Test.Sequences)));

    private static void Say(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Message(line));

    private static void Warn(IProgress<ProgressUpdate>? progress, string line) => progress?.Report(ProgressUpdate.Warning(line));
}
