using System.Globalization;
using System.Text.Json.Serialization;

namespace DiffPriv.Experiments.Models;

/// <summary>
/// What weights need to be loaded into a model: its kind and the sizes that fix the shapes of its parameters, and the
/// sequence length of the data it was trained on.
/// </summary>
/// <param name="Name">The model's kind, e.g. <c>char-lstm</c> (embedding → LSTM → linear).</param>
/// <param name="VocabularySize">Token ids (input and output width).</param>
/// <param name="EmbeddingSize">Embedding width.</param>
/// <param name="HiddenSize">Hidden units of the recurrent layer (for a transformer: the feed-forward width).</param>
/// <param name="SequenceLength">Tokens per training sequence at most.</param>
public sealed record ModelArchitecture(string Name, int VocabularySize, int EmbeddingSize, int HiddenSize, int SequenceLength)
{
    /// <summary>The character-level LSTM of the Secret Sharer experiment.</summary>
    public const string CharLstm = "char-lstm";

    /// <summary>The causal byte-level transformer language model of <c>ModelZoo.ByteTransformerLm</c>.</summary>
    public const string ByteTransformerLm = "byte-transformer-lm";

    /// <summary>The causal word-level transformer language model of <c>ModelZoo.TransformerLm</c> over a public <c>WordVocabulary</c>.</summary>
    public const string WordTransformerLm = "word-transformer-lm";

    /// <summary>Attention heads of a transformer; null for other models (and then not written to the sidecar).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Heads { get; init; }

    /// <summary>Stacked layers of a transformer; null for other models (and then not written to the sidecar).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Layers { get; init; }

    /// <summary>Each field that differs from <paramref name="other"/>, as <c>name: this vs other</c>.</summary>
    /// <param name="other">The architecture to compare with.</param>
    /// <returns>The differences; empty when the two are the same.</returns>
    public IReadOnlyList<string> Differences(ModelArchitecture other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        if (!string.Equals(Name, other.Name, StringComparison.Ordinal))
        {
            differences.Add($"model {Name} vs {other.Name}");
        }

        void Compare(string field, int mine, int theirs)
        {
            if (mine != theirs)
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture, $"{field} {mine} vs {theirs}"));
            }
        }

        Compare("vocabulary size", VocabularySize, other.VocabularySize);
        Compare("embedding size", EmbeddingSize, other.EmbeddingSize);
        Compare("hidden size", HiddenSize, other.HiddenSize);
        Compare("sequence length", SequenceLength, other.SequenceLength);
        if (Heads != other.Heads)
        {
            differences.Add($"heads {Show(Heads)} vs {Show(other.Heads)}");
        }

        if (Layers != other.Layers)
        {
            differences.Add($"layers {Show(Layers)} vs {Show(other.Layers)}");
        }

        return differences;
    }

    private static string Show(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "none";

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} (vocabulary {VocabularySize}, embedding {EmbeddingSize}, hidden {HiddenSize}, sequences of at most {SequenceLength})");
}
