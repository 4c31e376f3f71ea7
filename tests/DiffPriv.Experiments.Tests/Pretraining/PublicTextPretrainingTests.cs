using DiffPriv.Experiments.Models;
using DiffPriv.Experiments.Pretraining;
using DiffPriv.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Tests.Pretraining;

/// <summary>
/// Public pretraining with a tiny model on a 20 kB slice of the Brown corpus: it learns, it caches its weights with a
/// provenance sidecar, reuses them only for the same settings and corpora, and refuses cached weights that changed.
/// </summary>
public sealed class PublicTextPretrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-pretraining-").FullName;

    private readonly ITestOutputHelper _output;

    public PublicTextPretrainingTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private PublicPretrainingSettings Tiny => new()
    {
        Tokens = PretrainingTokens.Bytes,
        ModelDimension = 16,
        Heads = 2,
        Layers = 1,
        Feedforward = 32,
        SequenceLength = 32,
        BatchSize = 16,
        Steps = 40,
        LearningRate = 1e-2,
        Seed = 5,
        Corpora = [PublicCorpus.Brown],
        MaxBytesPerCorpus = 20_000,
        ValidationFraction = 0.1,
        ValidationWindows = 16,
        ModelDir = _dir,
    };

    [BrownFact]
    public void TrainsCachesAndThenLoadsTheSameWeightsWithoutTraining()
    {
        var first = new RecordingProgress();
        var trained = PublicTextPretraining.LoadOrTrain(Tiny, first);
        using var trainedModel = trained.Model;
        Assert.False(trained.Loaded);
        Assert.Equal(Tiny.Steps, trained.TrainLosses.Count);
        Assert.Equal(Tiny.Steps, first.Steps);

        // It learns: from about ln 256 (uniform over bytes) to well below it, on training and held-out text alike.
        var start = trained.TrainLosses.Take(5).Average();
        var end = trained.TrainLosses.TakeLast(10).Average();
        _output.WriteLine($"train loss {start:F3} → {end:F3} nats/byte; validation {trained.ValidationLoss:F3} (perplexity {trained.ValidationPerplexity:F2}); {trained.Seconds:F1} s");
        Assert.True(end < start - 1.0, $"training loss {start:F3} → {end:F3}");
        Assert.True(trained.ValidationLoss < Math.Log(256) - 1.0, $"validation loss {trained.ValidationLoss:F3} nats/byte");

        // The cached weights and their sidecar: public Brown text with its size, the settings, the seed, the hash.
        Assert.StartsWith(_dir, trained.WeightsFile, StringComparison.Ordinal);
        var sidecar = ModelProvenance.Read(trained.WeightsFile);
        Assert.Equal(Tiny.Architecture, sidecar.Architecture);
        var corpus = Assert.Single(sidecar.Corpora);
        Assert.True(corpus.IsPublic);
        Assert.Equal(20_000, corpus.Bytes);
        Assert.Equal(Tiny.Steps * Tiny.BatchSize, corpus.Sequences);
        Assert.Equal(5, sidecar.Seed);
        Assert.Equal("40", sidecar.Settings!["steps"]);
        Assert.Equal(trained.Provenance.Sha256, sidecar.Sha256);

        // The same settings again: loaded from the cache, no step trained, the very same weights.
        var second = new RecordingProgress();
        var loaded = PublicTextPretraining.LoadOrTrain(Tiny, second);
        using var loadedModel = loaded.Model;
        Assert.True(loaded.Loaded);
        Assert.Equal(0, second.Steps);
        Assert.Empty(loaded.TrainLosses);
        Assert.Equal(trained.WeightsFile, loaded.WeightsFile);
        Assert.Equal(trained.Provenance.Sha256, loaded.Provenance.Sha256);
        AssertSameWeights(trainedModel, loadedModel);
        Assert.Equal(trained.ValidationLoss, loaded.ValidationLoss, 5);
    }

    [BrownFact]
    public void DifferentSettingsTrainAnew()
    {
        var a = PublicTextPretraining.LoadOrTrain(Tiny with { Steps = 5 });
        using var aModel = a.Model;
        var b = PublicTextPretraining.LoadOrTrain(Tiny with { Steps = 5, LearningRate = 3e-3 });
        using var bModel = b.Model;
        var c = PublicTextPretraining.LoadOrTrain(Tiny with { Steps = 5, Seed = 6 });
        using var cModel = c.Model;
        Assert.False(b.Loaded);
        Assert.False(c.Loaded);
        Assert.Equal(3, new[] { a.WeightsFile, b.WeightsFile, c.WeightsFile }.Distinct().Count());
        Assert.Equal(3, new[] { a.Provenance.Sha256, b.Provenance.Sha256, c.Provenance.Sha256 }.Distinct().Count());

        // The folders are not part of what is trained: another data folder spelling still reuses the weights.
        var again = PublicTextPretraining.LoadOrTrain(Tiny with { Steps = 5, DataDir = Datasets.DataCache.Root() });
        using var againModel = again.Model;
        Assert.True(again.Loaded);
    }

    [BrownFact]
    public void ACorruptCachedFileIsRefusedWithAClearError()
    {
        var trained = PublicTextPretraining.LoadOrTrain(Tiny with { Steps = 3 });
        trained.Model.Dispose();
        var bytes = File.ReadAllBytes(trained.WeightsFile);
        bytes[^1] ^= 0x01; // one bit of the last weight
        File.WriteAllBytes(trained.WeightsFile, bytes);

        var error = Assert.Throws<ModelProvenanceException>(() => PublicTextPretraining.LoadOrTrain(Tiny with { Steps = 3 }));
        Assert.Equal(ProvenanceProblem.HashMismatch, error.Problem);
        Assert.Contains(trained.WeightsFile, error.Message, StringComparison.Ordinal);
        Assert.Contains("Delete it and its sidecar to pretrain again", error.Message, StringComparison.Ordinal);
    }

    [BrownFact]
    public void WeightsWithoutASidecarAreTrainedAgainNotLoaded()
    {
        var trained = PublicTextPretraining.LoadOrTrain(Tiny with { Steps = 3 });
        trained.Model.Dispose();
        File.Delete(ModelProvenance.SidecarPath(trained.WeightsFile));
        var progress = new RecordingProgress();
        var again = PublicTextPretraining.LoadOrTrain(Tiny with { Steps = 3 }, progress);
        using var model = again.Model;
        Assert.False(again.Loaded);
        Assert.Equal(3, progress.Steps);
        Assert.Contains(progress.Updates, u => u.Kind == ProgressKind.Warning && u.Text.Contains("no provenance sidecar", StringComparison.Ordinal));
        Assert.True(File.Exists(ModelProvenance.SidecarPath(again.WeightsFile)));
    }

    [Fact]
    public void SettingsAreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => (Tiny with { Heads = 3 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (Tiny with { Steps = 0 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (Tiny with { LearningRate = double.NaN }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (Tiny with { ValidationFraction = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (Tiny with { Corpora = [] }).Validate());
        Assert.Throws<ArgumentException>(() => (Tiny with { Corpora = [PublicCorpus.Brown, PublicCorpus.Brown] }).Validate());
        Tiny.Validate();
        Assert.Equal(new int?[] { 2, 1 }, new[] { Tiny.Architecture.Heads, Tiny.Architecture.Layers });
        Assert.Equal(ByteVocabulary.Size, Tiny.Architecture.VocabularySize);
    }

    [Fact]
    public void TooLittleTextForOneWindowIsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            PublicTextPretraining.LoadOrTrain(Tiny, [("tiny", "Too short."u8.ToArray())], null));
        Assert.Contains("at least one window", error.Message, StringComparison.Ordinal);
    }

    private static void AssertSameWeights(nn.Module a, nn.Module b)
    {
        var left = a.state_dict();
        var right = b.state_dict();
        Assert.Equal(left.Keys, right.Keys);
        foreach (var (name, tensor) in left)
        {
            Assert.Equal(tensor.data<float>().ToArray(), right[name].data<float>().ToArray());
        }
    }
}
