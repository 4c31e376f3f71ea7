using System.Text.Json.Nodes;
using DiffPriv.Experiments.Models;

namespace DiffPriv.Experiments.Tests;

public sealed class ModelProvenanceTests : IDisposable
{
    private static readonly ModelArchitecture Lstm = new(ModelArchitecture.CharLstm, 73, 64, 256, 80);

    private static readonly TrainingCorpus Brown = new("Brown corpus, all 15 genres", IsPublic: true, Sequences: 104086, Epochs: 5);

    private static readonly TrainingCorpus Reuters = new("Reuters-21578 training split with canaries", IsPublic: false, Sequences: 20574, Epochs: 36, Epsilon: 8, Delta: 1e-5);

    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-provenance-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Weights(string name = "model.bin", byte fill = 7)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, Enumerable.Repeat(fill, 1000).ToArray());
        return path;
    }

    [Fact]
    public void WrittenSidecarReadsBackWithTheFilesHash()
    {
        var path = Weights();
        var written = new ModelProvenance { Architecture = Lstm, Corpora = [Brown], Seed = 1 }.Write(path);
        Assert.Equal(path + ".provenance.json", ModelProvenance.SidecarPath(path));
        Assert.True(File.Exists(path + ".provenance.json"));
        // SHA-256 of 1000 bytes of 7, computed independently of the class.
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Enumerable.Repeat((byte)7, 1000).ToArray())), written.Sha256);
        Assert.Equal(ModelProvenance.CurrentVersion, written.DiffPrivVersion);
        Assert.NotEqual("unknown", written.DiffPrivVersion);
        Assert.InRange(written.SavedUtc, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        var read = ModelProvenance.Read(path);
        Assert.Equal(Lstm, read.Architecture);
        Assert.Equal([Brown], read.Corpora);
        Assert.Equal(1L, read.Seed);
        Assert.Equal(written.Sha256, read.Sha256);
        Assert.Equal(written.SavedUtc, read.SavedUtc);
        Assert.Equal(written.DiffPrivVersion, read.DiffPrivVersion);
        Assert.False(read.SawPrivateData);
        Assert.Equal(read.Sha256, ModelProvenance.ReadPublic(path, Lstm).Sha256);

        // The sidecar is plain JSON with snake_case names that other tools can read.
        var json = JsonNode.Parse(File.ReadAllText(path + ".provenance.json"))!;
        Assert.Equal(written.Sha256, json["sha256"]!.GetValue<string>());
        Assert.True(json["corpora"]![0]!["is_public"]!.GetValue<bool>());
        Assert.Equal(256, json["architecture"]!["hidden_size"]!.GetValue<int>());
        Assert.Equal(1, json["format"]!.GetValue<int>());
    }

    [Fact]
    public void ChangedWeightsAreRefused()
    {
        var path = Weights();
        new ModelProvenance { Architecture = Lstm, Corpora = [Brown] }.Write(path);
        var bytes = File.ReadAllBytes(path);
        bytes[500] ^= 1; // one bit
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelProvenanceException>(() => ModelProvenance.Read(path));
        Assert.Equal(ProvenanceProblem.HashMismatch, e.Problem);
        Assert.Contains("changed after it was saved", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WeightsAreReadOnceAndCheckedAgainstTheRecordedHash()
    {
        var path = Weights();
        new ModelProvenance { Architecture = Lstm, Corpora = [Brown] }.Write(path);
        var provenance = ModelProvenance.Read(path);
        Assert.Equal(File.ReadAllBytes(path), provenance.ReadWeights(path));

        // Changed between the check and the load: the bytes to load are refused.
        File.WriteAllBytes(path, Enumerable.Repeat((byte)8, 1000).ToArray());
        var e = Assert.Throws<ModelProvenanceException>(() => provenance.ReadWeights(path));
        Assert.Equal(ProvenanceProblem.HashMismatch, e.Problem);
    }

    [Fact]
    public void WeightsThatSawPrivateDataAreRefusedForPublicUse()
    {
        var path = Weights();
        var provenance = new ModelProvenance { Architecture = Lstm, Corpora = [Brown, Reuters] }.Write(path);
        Assert.True(provenance.SawPrivateData);
        Assert.Equal([Reuters], provenance.PrivateCorpora);

        // Read alone checks the file, not what it may be used for; ReadPublic refuses it, even though the training was DP.
        Assert.True(ModelProvenance.Read(path).SawPrivateData);
        var e = Assert.Throws<ModelProvenanceException>(() => ModelProvenance.ReadPublic(path, Lstm));
        Assert.Equal(ProvenanceProblem.PrivateData, e.Problem);
        Assert.Contains("trained on private data (Reuters-21578 training split with canaries (with DP-SGD, ε = 8))", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WeightsOfAnotherArchitectureAreRefused()
    {
        var path = Weights();
        new ModelProvenance { Architecture = Lstm, Corpora = [Brown] }.Write(path);
        var e = Assert.Throws<ModelProvenanceException>(() => ModelProvenance.ReadPublic(path, Lstm with { HiddenSize = 16, SequenceLength = 40 }));
        Assert.Equal(ProvenanceProblem.ArchitectureMismatch, e.Problem);
        Assert.Contains("hidden size 256 vs 16, sequence length 80 vs 40", e.Message, StringComparison.Ordinal);
        Assert.Empty(Lstm.Differences(Lstm with { }));
    }

    [Fact]
    public void MissingFilesAreRefused()
    {
        var missing = Assert.Throws<ModelProvenanceException>(() => ModelProvenance.Read(Path.Combine(_dir, "absent.bin")));
        Assert.Equal(ProvenanceProblem.MissingWeights, missing.Problem);

        var bare = Weights("bare.bin");
        var e = Assert.Throws<ModelProvenanceException>(() => ModelProvenance.Read(bare));
        Assert.Equal(ProvenanceProblem.MissingSidecar, e.Problem);
        Assert.Contains("no provenance sidecar bare.bin.provenance.json", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"format": 1, "architecture": {"name": "char-lstm", "vocabulary_size": 73, "embedding_size": 64, "hidden_size": 256, "sequence_length": 80}, "corpora": [], "sha256": "@HASH"}""")]
    [InlineData("""{"format": 1, "architecture": null, "corpora": [{"name": "x", "is_public": true, "sequences": 1, "epochs": 1}], "sha256": "@HASH"}""")]
    [InlineData("""{"format": 1, "architecture": {"name": "char-lstm", "vocabulary_size": 73, "embedding_size": 64, "hidden_size": 256}, "corpora": [{"name": "x", "is_public": true, "sequences": 1, "epochs": 1}], "sha256": "@HASH"}""")]
    [InlineData("""{"format": 1, "architecture": {"name": "char-lstm", "vocabulary_size": 73, "embedding_size": 64, "hidden_size": 256, "sequence_length": 80}, "corpora": [{"name": "x", "sequences": 1, "epochs": 1}], "sha256": "@HASH"}""")]
    [InlineData("""{"format": 1, "architecture": {"name": "char-lstm", "vocabulary_size": 73, "embedding_size": 64, "hidden_size": 256, "sequence_length": 80}, "corpora": [{"name": "x", "is_public": true, "sequences": 1, "epochs": 1}], "sha256": "abc"}""")]
    [InlineData("""{"format": 2, "architecture": {"name": "char-lstm", "vocabulary_size": 73, "embedding_size": 64, "hidden_size": 256, "sequence_length": 80}, "corpora": [{"name": "x", "is_public": true, "sequences": 1, "epochs": 1}], "sha256": "@HASH"}""")]
    public void MalformedSidecarsAreRefused(string json)
    {
        var path = Weights();
        File.WriteAllText(ModelProvenance.SidecarPath(path), json.Replace("@HASH", ModelProvenance.HashFile(path), StringComparison.Ordinal));
        var e = Assert.Throws<ModelProvenanceException>(() => ModelProvenance.Read(path));
        Assert.Equal(ProvenanceProblem.MalformedSidecar, e.Problem);
        Assert.Contains("model.bin.provenance.json is not valid provenance", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHandWrittenCompleteSidecarIsAccepted()
    {
        // The counterpart of the malformed cases: the same text with every field present reads, so those fail for their flaw.
        var path = Weights();
        var json = """{"format": 1, "architecture": {"name": "char-lstm", "vocabulary_size": 73, "embedding_size": 64, "hidden_size": 256, "sequence_length": 80}, "corpora": [{"name": "x", "is_public": true, "sequences": 1, "epochs": 1}], "sha256": "@HASH"}""";
        File.WriteAllText(ModelProvenance.SidecarPath(path), json.Replace("@HASH", ModelProvenance.HashFile(path), StringComparison.Ordinal));
        var read = ModelProvenance.ReadPublic(path, Lstm);
        Assert.Equal("x", read.Corpora.Single().Name);
        Assert.Null(read.Seed);
    }

    [Fact]
    public void TransformerFieldsRoundTripAndAreLeftOutOfLstmSidecars()
    {
        var lstmPath = Weights("lstm.bin");
        new ModelProvenance { Architecture = Lstm, Corpora = [Brown], Seed = 1 }.Write(lstmPath);
        var lstmJson = File.ReadAllText(ModelProvenance.SidecarPath(lstmPath));
        Assert.DoesNotContain("heads", lstmJson, StringComparison.Ordinal);
        Assert.DoesNotContain("settings", lstmJson, StringComparison.Ordinal);
        Assert.DoesNotContain("bytes", lstmJson, StringComparison.Ordinal);

        var transformer = new ModelArchitecture(ModelArchitecture.ByteTransformerLm, 258, 16, 32, 32) { Heads = 2, Layers = 1 };
        var corpus = Brown with { Bytes = 20_000 };
        var path = Weights("transformer.bin", fill: 9);
        new ModelProvenance
        {
            Architecture = transformer,
            Corpora = [corpus],
            Settings = new Dictionary<string, string> { ["steps"] = "40", ["learning_rate"] = "0.01" },
        }.Write(path);
        var read = ModelProvenance.Read(path);
        Assert.Equal(transformer, read.Architecture);
        Assert.Equal([corpus], read.Corpora);
        Assert.Equal("40", read.Settings!["steps"]);
        Assert.Equal("0.01", read.Settings["learning_rate"]);
        Assert.Equal(["heads 2 vs 4", "layers 1 vs none"], transformer.Differences(transformer with { Heads = 4, Layers = null }));
    }
}
