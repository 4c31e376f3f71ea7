using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffPriv.Experiments.Models;

/// <summary>
/// Where a saved model's weights came from: the data they were trained on (each corpus public or not), the architecture
/// needed to load them, the seed, the SHA-256 of the weights file, the DiffPriv version and the time they were saved.
/// Kept as a JSON sidecar next to the weights (<c>&lt;weights&gt;.provenance.json</c>, see <see cref="SidecarPath"/>), so
/// that a later run can refuse weights that changed since, that do not fit, or that saw private data.
/// </summary>
public sealed record ModelProvenance
{
    /// <summary>What is appended to the weights file's path to name its sidecar.</summary>
    public const string SidecarSuffix = ".provenance.json";

    /// <summary>The sidecar format this version writes and reads.</summary>
    public const int CurrentFormat = 1;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        NumberHandling = JsonNumberHandling.Strict,
        // A file for people and tools, never embedded in HTML: "+" and "ε" as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The sidecar format (<see cref="CurrentFormat"/>).</summary>
    public int Format { get; init; } = CurrentFormat;

    /// <summary>The architecture the weights belong to.</summary>
    public required ModelArchitecture Architecture { get; init; }

    /// <summary>Everything the weights were trained on, in order (e.g. public pretraining, then the training split).</summary>
    public required IReadOnlyList<TrainingCorpus> Corpora { get; init; }

    /// <summary>
    /// The training settings that produced the weights (e.g. learning rate, steps, batch size), as invariant-culture text by
    /// name, so that a cache can tell whether saved weights are the ones a run would train; null when not recorded (and
    /// then not written to the sidecar).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Settings { get; init; }

    /// <summary>The run's <c>--seed</c> (initialisation, subsets, noise); null: not seeded.</summary>
    public long? Seed { get; init; }

    /// <summary>SHA-256 of the weights file, lower-case hex; empty until <see cref="Write"/> computes it.</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>The DiffPriv version that saved the weights (the assembly's informational version).</summary>
    [JsonPropertyName("diffpriv_version")]
    public string DiffPrivVersion { get; init; } = CurrentVersion;

    /// <summary>When the sidecar was written (UTC).</summary>
    public DateTimeOffset SavedUtc { get; init; }

    /// <summary>Whether any corpus the weights saw is not public (the weights then carry private data).</summary>
    [JsonIgnore]
    public bool SawPrivateData => Corpora.Any(c => !c.IsPublic);

    /// <summary>The corpora not marked public.</summary>
    [JsonIgnore]
    public IReadOnlyList<TrainingCorpus> PrivateCorpora => Corpora.Where(c => !c.IsPublic).ToList();

    /// <summary>This DiffPriv's version (the informational version of the DiffPriv.Experiments assembly).</summary>
    public static string CurrentVersion { get; } =
        typeof(ModelProvenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The sidecar of a weights file: its path with <see cref="SidecarSuffix"/> appended.</summary>
    /// <param name="weightsPath">The weights file.</param>
    /// <returns>The sidecar's path.</returns>
    public static string SidecarPath(string weightsPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(weightsPath);
        return weightsPath + SidecarSuffix;
    }

    /// <summary>The SHA-256 of a file, lower-case hex.</summary>
    /// <param name="path">The file.</param>
    /// <returns>64 hex digits.</returns>
    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Writes the sidecar of a saved weights file: this provenance with the file's SHA-256, this DiffPriv version and
    /// the current time.
    /// </summary>
    /// <param name="weightsPath">The weights file, already saved.</param>
    /// <returns>The provenance as written.</returns>
    public ModelProvenance Write(string weightsPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(weightsPath);
        var written = this with
        {
            Format = CurrentFormat,
            Sha256 = HashFile(weightsPath),
            DiffPrivVersion = CurrentVersion,
            SavedUtc = DateTimeOffset.UtcNow,
        };
        File.WriteAllText(SidecarPath(weightsPath), written.ToJson() + "\n");
        return written;
    }

    /// <summary>The sidecar's JSON text.</summary>
    /// <returns>Indented JSON with snake_case names.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// Reads the sidecar of a weights file and checks that it describes that file: the weights and the sidecar exist, the
    /// sidecar is valid, and the file's SHA-256 is the one recorded.
    /// </summary>
    /// <param name="weightsPath">The weights file.</param>
    /// <returns>The provenance.</returns>
    /// <exception cref="ModelProvenanceException">
    /// The weights or the sidecar are missing, the sidecar is malformed, or the file changed since it was saved.
    /// </exception>
    public static ModelProvenance Read(string weightsPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(weightsPath);
        if (!File.Exists(weightsPath))
        {
            throw new ModelProvenanceException(ProvenanceProblem.MissingWeights, "no such file");
        }

        var sidecar = SidecarPath(weightsPath);
        if (!File.Exists(sidecar))
        {
            throw new ModelProvenanceException(
                ProvenanceProblem.MissingSidecar,
                $"no provenance sidecar {Path.GetFileName(sidecar)} next to it; only weights saved by DiffPriv with their provenance can be reused");
        }

        var provenance = Parse(File.ReadAllText(sidecar), Path.GetFileName(sidecar));
        provenance.EnsureHash(HashFile(weightsPath));
        return provenance;
    }

    /// <summary>
    /// Reads and checks the sidecar of weights that are to start training on other data: as <see cref="Read"/>, and the
    /// weights saw public data only and fit <paramref name="expected"/>.
    /// </summary>
    /// <param name="weightsPath">The weights file.</param>
    /// <param name="expected">The architecture they are to be loaded into.</param>
    /// <returns>The provenance.</returns>
    /// <exception cref="ModelProvenanceException">As <see cref="Read"/>, or the weights saw private data, or do not fit.</exception>
    public static ModelProvenance ReadPublic(string weightsPath, ModelArchitecture expected)
    {
        var provenance = Read(weightsPath);
        provenance.EnsurePublic();
        provenance.EnsureArchitecture(expected);
        return provenance;
    }

    /// <summary>
    /// The bytes of the weights file, read once and checked against <see cref="Sha256"/>: load the weights from these, not
    /// from the file again, so that what is loaded is what was checked.
    /// </summary>
    /// <param name="weightsPath">The weights file this provenance describes.</param>
    /// <returns>The file's contents.</returns>
    /// <exception cref="ModelProvenanceException">The file's SHA-256 is not the recorded one.</exception>
    public byte[] ReadWeights(string weightsPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(weightsPath);
        var bytes = File.ReadAllBytes(weightsPath);
        EnsureHash(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        return bytes;
    }

    /// <summary>Throws unless every corpus the weights saw is public.</summary>
    /// <exception cref="ModelProvenanceException">The weights were trained on private data.</exception>
    public void EnsurePublic()
    {
        var secret = PrivateCorpora;
        if (secret.Count > 0)
        {
            var names = string.Join("; ", secret.Select(c => c.Epsilon is { } e
                ? string.Create(CultureInfo.InvariantCulture, $"{c.Name} (with DP-SGD, ε = {e:G4})")
                : c.Name));
            throw new ModelProvenanceException(
                ProvenanceProblem.PrivateData,
                $"these weights were trained on private data ({names}); only weights trained on public data alone can be reused");
        }
    }

    /// <summary>Throws unless the weights' architecture is <paramref name="expected"/>.</summary>
    /// <param name="expected">The architecture they are to be loaded into.</param>
    /// <exception cref="ModelProvenanceException">The architectures differ.</exception>
    public void EnsureArchitecture(ModelArchitecture expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var differences = Architecture.Differences(expected);
        if (differences.Count > 0)
        {
            throw new ModelProvenanceException(
                ProvenanceProblem.ArchitectureMismatch,
                $"the weights do not fit this run: {string.Join(", ", differences)} (saved vs this run)");
        }
    }

    /// <summary>Parses sidecar JSON and checks that it is complete.</summary>
    /// <param name="json">The sidecar's text.</param>
    /// <param name="source">The sidecar's name for error messages.</param>
    /// <returns>The provenance.</returns>
    /// <exception cref="ModelProvenanceException">The text is not valid provenance.</exception>
    public static ModelProvenance Parse(string json, string source = "the sidecar")
    {
        ArgumentNullException.ThrowIfNull(json);
        ModelProvenance? provenance;
        try
        {
            provenance = JsonSerializer.Deserialize<ModelProvenance>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw Malformed(source, e.Message, e);
        }

        if (provenance is null)
        {
            throw Malformed(source, "it holds null, not an object");
        }

        if (provenance.Format != CurrentFormat)
        {
            throw Malformed(source, $"format {provenance.Format}, but this DiffPriv reads format {CurrentFormat}");
        }

        if (provenance.Sha256.Length != 64 || !provenance.Sha256.All(char.IsAsciiHexDigitLower))
        {
            throw Malformed(source, "sha256 is not 64 lower-case hex digits");
        }

        if (provenance.Corpora.Count == 0 || provenance.Corpora.Any(c => c is null || string.IsNullOrWhiteSpace(c.Name)))
        {
            throw Malformed(source, "it names no training data, or a corpus without a name");
        }

        var a = provenance.Architecture;
        if (string.IsNullOrWhiteSpace(a.Name) || a.VocabularySize < 1 || a.EmbeddingSize < 1 || a.HiddenSize < 1 || a.SequenceLength < 1)
        {
            throw Malformed(source, "the architecture is incomplete");
        }

        return provenance;
    }

    private void EnsureHash(string actual)
    {
        if (!string.Equals(actual, Sha256, StringComparison.Ordinal))
        {
            throw new ModelProvenanceException(
                ProvenanceProblem.HashMismatch,
                $"its SHA-256 is {actual}, but its sidecar recorded {Sha256}: the file changed after it was saved");
        }
    }

    private static ModelProvenanceException Malformed(string source, string detail, Exception? inner = null) =>
        new(ProvenanceProblem.MalformedSidecar, $"{source} is not valid provenance: {detail}", inner);
}
