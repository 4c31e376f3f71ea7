using DiffPriv.Experiments.Models;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Pretraining;

/// <summary>The outcome of <see cref="PublicTextPretraining.LoadOrTrain(PublicPretrainingSettings, IProgress{ProgressUpdate}?)"/>: the model, where its weights are and where they came from.</summary>
/// <param name="Model">The language model (<see cref="DiffPriv.Models.ModelZoo.TransformerLm"/> over words or
/// <see cref="DiffPriv.Models.ModelZoo.ByteTransformerLm"/>) with the pretrained weights, in evaluation mode; the caller owns
/// and disposes it.</param>
/// <param name="WeightsFile">The cached weights file (its sidecar is <see cref="ModelProvenance.SidecarPath"/>).</param>
/// <param name="Provenance">The weights' provenance: public corpora with their sizes, settings, seed and SHA-256.</param>
/// <param name="Loaded">True: the weights were loaded from the cache and nothing was trained; false: trained by this call.</param>
/// <param name="TrainLosses">Mean cross-entropy (nats per token) of each training step; empty when <paramref name="Loaded"/>.</param>
/// <param name="ValidationLoss">Mean cross-entropy (nats per token) on the held-out windows of the corpora, after training.</param>
/// <param name="Seconds">Wall time of the call.</param>
public sealed record PublicPretrainingResult(
    nn.Module<Tensor, Tensor> Model,
    string WeightsFile,
    ModelProvenance Provenance,
    bool Loaded,
    IReadOnlyList<double> TrainLosses,
    double ValidationLoss,
    double Seconds)
{
    /// <summary>Validation perplexity per token: e raised to <see cref="ValidationLoss"/>.</summary>
    public double ValidationPerplexity => Math.Exp(ValidationLoss);

    /// <summary>With words: the public vocabulary the model reads (built from the corpora, saved at
    /// <see cref="PublicTextPretraining.VocabularyPath"/>); null with bytes.</summary>
    public DiffPriv.Models.WordVocabulary? Vocabulary { get; init; }
}
