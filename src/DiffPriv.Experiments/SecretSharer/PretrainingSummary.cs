using DiffPriv.Experiments.Models;

namespace DiffPriv.Experiments.SecretSharer;

/// <summary>The public pretraining both models started from: done in this run, or loaded from an earlier run's weights.</summary>
/// <param name="Corpus">The public corpus (the corpora of the loaded weights, joined by "; ").</param>
/// <param name="Sequences">Its sequences used.</param>
/// <param name="Epochs">Epochs of pretraining (of loaded weights: the most over their corpora).</param>
/// <param name="Seconds">Wall time of the pretraining in this run (0 when loaded).</param>
/// <param name="TestNatsPerChar">The pretrained model's nats per character on the Reuters test sequences.</param>
public sealed record PretrainingSummary(string Corpus, int Sequences, int Epochs, double Seconds, double TestNatsPerChar)
{
    /// <summary>Perplexity per character on the Reuters test sequences.</summary>
    public double Perplexity => Math.Exp(TestNatsPerChar);

    /// <summary>The weights file: saved in the run folder, or loaded (<see cref="Loaded"/>).</summary>
    public string? WeightsFile { get; init; }

    /// <summary>Whether the weights were loaded from <see cref="WeightsFile"/> (<c>--pretrained</c>) rather than trained in this run.</summary>
    public bool Loaded { get; init; }

    /// <summary>The weights' provenance (what their sidecar says).</summary>
    public ModelProvenance? Provenance { get; init; }
}
