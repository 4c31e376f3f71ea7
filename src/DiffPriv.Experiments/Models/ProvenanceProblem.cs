namespace DiffPriv.Experiments.Models;

/// <summary>Why a saved model's weights cannot be reused (see <see cref="ModelProvenanceException"/>).</summary>
public enum ProvenanceProblem
{
    /// <summary>The weights file does not exist.</summary>
    MissingWeights,

    /// <summary>The weights file has no provenance sidecar next to it.</summary>
    MissingSidecar,

    /// <summary>The sidecar is not valid provenance JSON (or was written by an unknown format version).</summary>
    MalformedSidecar,

    /// <summary>The weights file's SHA-256 differs from the one its sidecar recorded: the file changed after it was saved.</summary>
    HashMismatch,

    /// <summary>The weights were trained on data not marked public.</summary>
    PrivateData,

    /// <summary>The recorded architecture differs from the one the weights are to be loaded into.</summary>
    ArchitectureMismatch,
}
