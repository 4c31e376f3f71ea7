using System.Text.Json.Nodes;
using DiffPriv.Datasets.Tabular;
using DiffPriv.Datasets.Text;
using DiffPriv.Experiments.Models;
using DiffPriv.Experiments.Pretraining;
using DiffPriv.Experiments.Tests.Pretraining;
using DiffPriv.Experiments.TextClassification;
using DiffPriv.Experiments.Training;
using DiffPriv.Models;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffPriv.Experiments.Tests.TextClassification;

/// <summary>
/// The text-classification experiment and <c>train text</c> in CI size: a tiny word-level model pretrained on a slice of
/// the Brown corpus, and synthetic reviews whose label is carried by one word. Every setting runs, the private ones within
/// their ε, LoRA trains only adapters and head, and the public vocabulary never learns a word of the private data.
/// </summary>
public sealed class TextClassificationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-text-").FullName;
    private readonly ITestOutputHelper _output;

    public TextClassificationTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private PublicPretrainingSettings TinyPretraining => new()
    {
        Tokens = PretrainingTokens.Words,
        VocabularySize = 600,
        ModelDimension = 16,
        Heads = 2,
        Layers = 1,
        Feedforward = 32,
        SequenceLength = 32,
        BatchSize = 16,
        Steps = 30,
        LearningRate = 1e-2,
        Seed = 3,
        Corpora = [PublicCorpus.Brown],
        MaxBytesPerCorpus = 200_000,
        ValidationFraction = 0.1,
        ValidationWindows = 8,
        ModelDir = Path.Combine(_dir, "pretrained"),
    };

    private static readonly TextHyperparameters Private = new() { Epochs = 4, BatchSize = 60, LearningRate = 1e-2, LoraRank = 2, PhysicalBatchSize = 32 };

    [BrownFact]
    public void WordPretrainingCachesItsPublicVocabularyAndNamesItInTheProvenance()
    {
        var trained = PublicTextPretraining.LoadOrTrain(TinyPretraining);
        using var model = trained.Model;
        var vocabulary = Assert.IsType<WordVocabulary>(trained.Vocabulary);
        Assert.Equal(600, vocabulary.Size);
        Assert.Equal(ModelArchitecture.WordTransformerLm, trained.Provenance.Architecture.Name);
        Assert.Equal(600, trained.Provenance.Architecture.VocabularySize);
        Assert.Equal(vocabulary.Sha256, trained.Provenance.Settings![PublicTextPretraining.VocabularySetting]);
        Assert.Equal("words", trained.Provenance.Settings["tokens"]);
        var saved = WordVocabulary.Load(PublicTextPretraining.VocabularyPath(trained.WeightsFile));
        Assert.Equal(vocabulary.Sha256, saved.Sha256);
        Assert.Contains("the", vocabulary.Tokens); // the most frequent English word of the slice
        Assert.Equal(2, vocabulary.Id("the"));

        // It learns next words: from about ln 600 to clearly below.
        var start = trained.TrainLosses.Take(3).Average();
        var end = trained.TrainLosses.TakeLast(5).Average();
        _output.WriteLine($"word LM loss {start:F3} → {end:F3}; validation {trained.ValidationLoss:F3}");
        Assert.True(end < start - 1.0, $"training loss {start:F3} → {end:F3}");

        var loaded = PublicTextPretraining.LoadOrTrain(TinyPretraining);
        using var again = loaded.Model;
        Assert.True(loaded.Loaded);
        Assert.Equal(vocabulary.Tokens, loaded.Vocabulary!.Tokens);
    }

    [BrownFact]
    public void TheFourSettingsRunWithinTheirEpsilonAndWriteTheRunFolder()
    {
        var vocabulary = PretrainedVocabulary();
        var imdb = new ImdbSplit(Reviews(vocabulary, 600, seed: 1), Reviews(vocabulary, 200, seed: 2));
        var settings = new TextClassificationSettings
        {
            TargetEpsilon = 3,
            Delta = 1e-3,
            MaxTokens = 24,
            CurveReviews = 100,
            NonPrivate = new TextHyperparameters { Epochs = 6, BatchSize = 16, LearningRate = 3e-3 },
            DpScratch = Private,
            DpFull = Private,
            DpLora = Private,
            Pretraining = TinyPretraining,
            SeededNoise = true,
            OutDir = Path.Combine(_dir, "run"),
            CommandLine = "diffpriv experiment text-classification (test)",
        };
        var result = TextClassificationExperiment.Run(settings, imdb, () => PublicTextPretraining.LoadOrTrain(TinyPretraining), null);
        foreach (var o in result.Outcomes)
        {
            _output.WriteLine($"{o.Mode.Name()}: {o.TestAccuracy:P1}, ε {o.Epsilon:F3}, {o.TrainableParameters}/{o.TotalParameters} trainable, {o.Steps} steps, {o.WallSeconds:F1} s");
        }

        Assert.Equal(TextTrainingModes.All, result.Outcomes.Select(o => o.Mode));
        var plain = result.Outcomes[0];
        Assert.Equal(double.PositiveInfinity, plain.Epsilon);
        Assert.True(plain.TestAccuracy >= 0.9, $"non-private accuracy {plain.TestAccuracy} on a one-word task");
        foreach (var o in result.Outcomes.Skip(1))
        {
            // Calibrated for ε = 3 and read back from the ledger of the steps that ran: at most the target, and not far below.
            Assert.InRange(o.Epsilon, 2.5, 3.0);
            Assert.Equal(40, o.Steps); // ⌈4 · 600 / 60⌉
            Assert.Equal(4, o.Curve.Count);
            Assert.True(o.Curve.Select(p => p.Epsilon).SequenceEqual(o.Curve.Select(p => p.Epsilon).Order()), "ε grows epoch by epoch");
        }

        // LoRA trains the adapters (rank 2 on q, k, v, out: 2·(16 + 16) each; linear1 and linear2: 2·(16 + 32) each) and the head (2·16·2 + 2: it reads both means).
        var lora = result.Outcomes[3];
        Assert.Equal((4 * 2 * (16 + 16)) + (2 * 2 * (16 + 32)) + (2 * 16 * 2) + 2, lora.TrainableParameters);
        Assert.Equal(result.Outcomes[2].TrainableParameters, result.Outcomes[2].TotalParameters);
        Assert.Equal(result.Outcomes[1].TrainableParameters, result.Outcomes[2].TrainableParameters);

        foreach (var file in new[] { "report.md", "results.json", "accuracy-vs-epsilon.png", "command.txt" })
        {
            Assert.True(File.Exists(Path.Combine(result.RunDir, file)), file);
        }

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(result.RunDir, "results.json")))!;
        Assert.Equal(3.0, json["target_epsilon"]!.GetValue<double>());
        Assert.Equal(1e-3, json["delta"]!.GetValue<double>());
        Assert.Equal(result.RunDir, json["run_dir"]!.GetValue<string>());
        var rows = json["results"]!.AsArray();
        Assert.Equal(["non-private", "dp-scratch", "dp-full", "dp-lora"], rows.Select(r => r!["setting"]!.GetValue<string>()));
        Assert.Equal("inf", rows[0]!["epsilon"]!.ToString());
        Assert.Equal(lora.TrainableParameters, rows[3]!["trainable_parameters"]!.GetValue<long>());
        Assert.All(rows, r => Assert.NotNull(r!["test_accuracy"]));
        Assert.All(rows, r => Assert.NotNull(r!["wall_seconds"]));
    }

    /// <summary>
    /// A seeded run stopped by a failed checkpoint write in its private setting (as a kill would leave it: the non-private
    /// setting's done record, the private one's checkpoint after epoch 1, no report) and resumed from its folder ends as the
    /// uninterrupted run: the same accuracy, ε, steps and curve for every setting, and the same model, optimizer state and
    /// ledger, byte for byte, in the private setting's last checkpoint. The non-private setting, trained in both first
    /// attempts, shows that it is reproducible under the seed (which is why a resumed run may train it again).
    /// </summary>
    [BrownFact]
    public void AKilledRunResumesIntoTheUninterruptedOne()
    {
        var vocabulary = PretrainedVocabulary();
        var imdb = new ImdbSplit(Reviews(vocabulary, 300, seed: 1), Reviews(vocabulary, 100, seed: 2));
        var settings = new TextClassificationSettings
        {
            TargetEpsilon = 3,
            Delta = 1e-3,
            MaxTokens = 24,
            CurveReviews = 50,
            Modes = [TextTrainingMode.NonPrivate, TextTrainingMode.DpLora],
            NonPrivate = new TextHyperparameters { Epochs = 1, BatchSize = 32, LearningRate = 3e-3 },
            DpLora = Private with { Epochs = 2 },
            Pretraining = TinyPretraining,
            SeededNoise = true,
            CommandLine = "diffpriv experiment text-classification (test)",
        };
        PublicPretrainingResult Pretrain() => PublicTextPretraining.LoadOrTrain(TinyPretraining);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var whole = TextClassificationExperiment.Run(settings with { OutDir = Path.Combine(_dir, "whole") }, imdb, Pretrain, null);
        _output.WriteLine($"uninterrupted run {clock.Elapsed.TotalSeconds:F1} s: " + string.Join(", ", whole.Outcomes.Select(o => $"{o.Mode.Name()} {o.WallSeconds:F1} s")));

        var killedDir = Path.Combine(_dir, "killed");
        var loraWrites = 0;
        var killed = Assert.Throws<IOException>(() => TextClassificationExperiment.Run(
            settings with { OutDir = killedDir }, imdb, Pretrain, null, openCheckpoint: path =>
                Path.GetFileName(path).StartsWith("dp-lora", StringComparison.Ordinal) && ++loraWrites == 2 ? throw new IOException("killed") : File.Create(path)));
        Assert.Equal("killed", killed.InnerException?.Message);
        Assert.False(File.Exists(Path.Combine(killedDir, "report.md")));
        Assert.False(File.Exists(Path.Combine(killedDir, TextClassificationExperiment.DoneFile(TextTrainingMode.DpLora))));
        Assert.Equal(1, TrainCheckpoint.Read(Path.Combine(killedDir, TextClassificationExperiment.CheckpointFile(TextTrainingMode.DpLora)), null).CompletedEpochs);

        var progress = new RecordingProgress();
        var resumed = TextClassificationExperiment.Run(TextClassificationExperiment.SettingsToResume(killedDir), imdb, Pretrain, progress, resume: true);
        var said = string.Join("\n", progress.Messages);
        _output.WriteLine(said);
        Assert.Contains("[non-private] --resume: finished in an earlier attempt", said, StringComparison.Ordinal);
        Assert.Contains("[dp-lora] --resume: continuing after epoch 1 of 2 (step 5)", said, StringComparison.Ordinal);
        Assert.Equal(whole.Outcomes.Count, resumed.Outcomes.Count);
        var noCurve = Array.Empty<(int, double, double)>();
        foreach (var (a, b) in whole.Outcomes.Zip(resumed.Outcomes))
        {
            Assert.Equal(a with { WallSeconds = 0, Curve = noCurve }, b with { WallSeconds = 0, Curve = noCurve });
            Assert.Equal(a.Curve, b.Curve);
        }

        Assert.Equal(2, resumed.Outcomes[1].Curve.Count); // the first point from the checkpoint's history, the second measured after resuming
        foreach (var mode in settings.Modes.Where(m => m.IsPrivate()))
        {
            Assert.Equal(EngineState(whole.RunDir, mode), EngineState(resumed.RunDir, mode));
        }

        Assert.True(File.Exists(Path.Combine(resumed.RunDir, "report.md")));
        Assert.Contains("already finished", Assert.Throws<ArgumentException>(() => TextClassificationExperiment.Resume(killedDir)).Message, StringComparison.Ordinal);
    }

    /// <summary>The engine's part (model, optimizer state, ledger, counters, generator) of a setting's last checkpoint.</summary>
    private static byte[] EngineState(string runDir, TextTrainingMode mode)
    {
        using var engine = new MemoryStream();
        TrainCheckpoint.Read(Path.Combine(runDir, TextClassificationExperiment.CheckpointFile(mode)), s => s.CopyTo(engine));
        return engine.ToArray();
    }

    [BrownFact]
    public void LoraFineTuningLeavesThePretrainedWeightsAsTheyWere()
    {
        var pretrained = PublicTextPretraining.LoadOrTrain(TinyPretraining);
        using var lm = pretrained.Model;
        var vocabulary = pretrained.Vocabulary!;
        var reviews = Reviews(vocabulary, 120, seed: 4);
        using var x = TextFineTuner.Encode(vocabulary, [.. reviews.Select(r => r.Text)], 24);
        using var y = torch.tensor(reviews.Select(r => r.Label == Sentiment.Positive ? 1L : 0L).ToArray());
        using var model = TextFineTuner.CreateModel(TextTrainingMode.DpLora, TinyPretraining, vocabulary.Size, lm, 24, 2, 2, seed: 5);
        var before = model.named_parameters().Where(p => !p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var head = model.named_parameters().Single(p => p.name == "output.weight").parameter.detach().clone();
        Assert.Contains("embedding.weight", before.Keys);
        TextFineTuner.Train(TextTrainingMode.DpLora, model, x, y, Private with { BatchSize = 30 }, 3, 1e-3, 5, seededNoise: true, null, "test", null);
        foreach (var (name, parameter) in model.named_parameters().Where(p => !p.parameter.requires_grad))
        {
            Assert.True(parameter.allclose(before[name], 0, 0), $"the frozen '{name}' changed");
        }

        // The pretrained body was copied in (not left at random), and the trained head did move.
        Assert.True(model.named_parameters().Single(p => p.name == "embedding.weight").parameter.allclose(lm.named_parameters().Single(p => p.name == "embedding.weight").parameter, 0, 0));
        Assert.False(model.named_parameters().Single(p => p.name == "output.weight").parameter.allclose(head, 0, 0));
    }

    [BrownFact]
    public void TrainTextReadsAUsersCsvAndItsPrivateWordsNeverEnterTheVocabulary()
    {
        var vocabulary = PretrainedVocabulary();
        const string Secret = "zqxjvorbex"; // a private word: in every positive record, in no public text
        Assert.Equal(WordVocabulary.UnknownId, vocabulary.Id(Secret));
        var csv = Path.Combine(_dir, "data.csv");
        var lines = new List<string> { "id,comment,verdict" };
        var reviews = Reviews(vocabulary, 300, seed: 6);
        for (var i = 0; i < reviews.Count; i++)
        {
            var text = reviews[i].Label == Sentiment.Positive ? $"{reviews[i].Text}, {Secret}" : reviews[i].Text;
            lines.Add($"{i},\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\",{(reviews[i].Label == Sentiment.Positive ? "yes" : "no")}");
        }

        File.WriteAllLines(csv, lines);
        var settings = new TextTrainSettings
        {
            DataFile = csv,
            TextColumn = "comment",
            TargetColumn = "verdict",
            Delta = 1e-3,
            MaxTokens = 24,
            Hyperparameters = Private with { Epochs = 3, BatchSize = 40 },
            Pretraining = TinyPretraining,
            Seed = 7,
            OutDir = Path.Combine(_dir, "train-text"),
        };
        var (train, test, labels, declared) = TextTrainRunner.ReadData(settings);
        Assert.Equal(240, train.Count);
        Assert.Equal(60, test.Count);
        Assert.Empty(train.Select(r => r.LineNumber).Intersect(test.Select(r => r.LineNumber)));
        Assert.Equal(["no", "yes"], labels);
        Assert.False(declared);

        var result = TextTrainRunner.Run(settings, train, test, labels, declared, () => PublicTextPretraining.LoadOrTrain(TinyPretraining), null);
        _output.WriteLine($"train text: {result.TestAccuracy:P1} (majority {result.MajorityAccuracy:P1}), ε {result.Epsilon:F3}, {result.TrainableParameters} trained");
        Assert.InRange(result.Epsilon, 2.5, 3.0);
        Assert.True(result.EpsilonLower <= result.Epsilon);
        var json = TextTrainRunner.SummaryJson(result);
        foreach (var field in new[] { "test_accuracy", "epsilon", "delta", "noise_multiplier", "sampling_probability", "steps", "trainable_parameters", "run_dir" })
        {
            Assert.True(json.ContainsKey(field), field);
        }

        Assert.False(json["labels_declared"]!.GetValue<bool>());
        var report = File.ReadAllText(Path.Combine(result.RunDir, "report.md"));
        Assert.Contains("READ FROM THE TRAINING FILE and treated as public", report, StringComparison.Ordinal);
        Assert.Equal(["no", "yes"], File.ReadAllLines(Path.Combine(result.RunDir, "labels.txt")));

        // The model's vocabulary is the public one, whatever the private data held.
        var after = PublicTextPretraining.LoadOrTrain(TinyPretraining);
        after.Model.Dispose();
        Assert.Equal(vocabulary.Sha256, after.Vocabulary!.Sha256);
        Assert.Equal(WordVocabulary.UnknownId, after.Vocabulary.Id(Secret));
    }

    [Fact]
    public void ALabelOutsideTheDeclaredSetIsReportedWithItsLine()
    {
        var csv = Path.Combine(_dir, "labels.csv");
        File.WriteAllText(csv, "text,label\n\"fine, really\",pos\n\"two\nlines\",neg\nthird,neutral\n");
        var settings = new TextTrainSettings { DataFile = csv, TextColumn = "text", TargetColumn = "label", Labels = ["pos", "neg"] };
        var error = Assert.Throws<CsvFormatException>(() => TextTrainRunner.ReadData(settings));
        Assert.Equal(5, error.LineNumber); // the record after the one whose quoted text spans lines 3 and 4
        Assert.Contains("'neutral' is not one of the declared labels", error.Message, StringComparison.Ordinal);

        var single = Path.Combine(_dir, "single.csv");
        File.WriteAllText(single, "text,label\na,x\nb,x\n");
        Assert.Contains("one label only", Assert.Throws<CsvFormatException>(() => TextTrainRunner.ReadData(settings with { DataFile = single, Labels = null })).Message, StringComparison.Ordinal);
    }

    private WordVocabulary PretrainedVocabulary()
    {
        var pretrained = PublicTextPretraining.LoadOrTrain(TinyPretraining);
        pretrained.Model.Dispose();
        return pretrained.Vocabulary!;
    }

    /// <summary>Reviews of 6–20 common public words with one of two marker words (two other words of the public
    /// vocabulary: one for positive, one for negative) somewhere among them.</summary>
    private static List<ImdbReview> Reviews(WordVocabulary vocabulary, int count, int seed)
    {
        var words = vocabulary.Tokens.Skip(10).Take(160).Where(t => t.All(char.IsLetter)).ToArray();
        var (positiveWord, negativeWord) = (words[0], words[1]);
        var filler = words[2..];
        var random = new Random(seed);
        var reviews = new List<ImdbReview>(count);
        for (var i = 0; i < count; i++)
        {
            var positive = i % 2 == 0;
            var text = Enumerable.Range(0, random.Next(6, 21)).Select(_ => filler[random.Next(filler.Length)]).ToList();
            text.Insert(random.Next(text.Count + 1), positive ? positiveWord : negativeWord);
            reviews.Add(new ImdbReview(string.Join(' ', text), positive ? Sentiment.Positive : Sentiment.Negative));
        }

        return reviews;
    }
}
