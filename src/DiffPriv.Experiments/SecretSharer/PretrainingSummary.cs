namespace DiffPriv.Experiments.SecretSharer;

/// <summary>The public pretraining both models started from.</summary>
/// <param name="Corpus">The public corpus.</param>
/// <param name="Sequences">Its sequences used.</param>
/// <param name="Epochs">Epochs of pretraining.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="TestNatsPerChar">The pretrained model's nats per character on the Reuters test sequences.</param>
public sealed record PretrainingSummary(string Corpus, int Sequences, int Epochs, double Seconds, double TestNatsPerChar)
{
    /// <summary>Perplexity per character on the Reuters test sequences.</summary>
    public double Perplexity => Math.Exp(TestNatsPerChar);
}
