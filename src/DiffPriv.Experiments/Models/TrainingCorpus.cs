using System.Text.Json.Serialization;

namespace DiffPriv.Experiments.Models;

/// <summary>One body of text (or other data) a saved model was trained on.</summary>
/// <param name="Name">What the data is, e.g. <c>Brown corpus, all 15 genres</c>.</param>
/// <param name="IsPublic">
/// Whether the data is public and needs no protection. Anything else (the experiment's training split with its
/// canaries, or your own data) counts as private, whether or not it was trained on with differential privacy.
/// </param>
/// <param name="Sequences">Examples of it used.</param>
/// <param name="Epochs">Passes over it.</param>
/// <param name="Epsilon">ε of the DP-SGD training on it (at <paramref name="Delta"/>); null: trained without differential privacy.</param>
/// <param name="Delta">δ of that guarantee; null without one.</param>
public sealed record TrainingCorpus(string Name, bool IsPublic, int Sequences, int Epochs, double? Epsilon = null, double? Delta = null)
{
    /// <summary>Size of the text trained on, in UTF-8 bytes; null when not recorded (and then not written to the sidecar).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Bytes { get; init; }
}
