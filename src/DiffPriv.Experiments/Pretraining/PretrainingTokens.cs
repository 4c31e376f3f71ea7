namespace DiffPriv.Experiments.Pretraining;

/// <summary>What the pretrained language model reads: bytes or words of a public vocabulary.</summary>
public enum PretrainingTokens
{
    /// <summary>Words: a <see cref="DiffPriv.Models.WordVocabulary"/> built from the pretraining corpora (public text) with
    /// <see cref="PublicPretrainingSettings.VocabularySize"/> ids; the model is <see cref="DiffPriv.Models.ModelZoo.TransformerLm"/>.</summary>
    Words,

    /// <summary>UTF-8 bytes (<see cref="DiffPriv.Models.ByteVocabulary"/>); the model is <see cref="DiffPriv.Models.ModelZoo.ByteTransformerLm"/>.</summary>
    Bytes,
}
