namespace DiffPriv.Experiments.SecretSharer;

/// <summary>The scores of one trained language model.</summary>
/// <param name="Name">"non-private" or "private".</param>
/// <param name="TestScores">Log-perplexity (nats per character) of every test sequence.</param>
/// <param name="TrainScores">Log-perplexity of every original training sequence (canaries excluded).</param>
/// <param name="CanaryScores">Log-perplexity of every canary, in plan order.</param>
/// <param name="ReferenceScores">Log-perplexity of every reference candidate.</param>
/// <param name="TestNatsPerChar">Mean negative log-likelihood per predicted test character (all characters pooled).</param>
/// <param name="Seconds">Training wall time.</param>
/// <param name="History">Per epoch: (epoch, mean train loss of the epoch's batches, test nats per character).</param>
public sealed record LanguageModelScores(
    string Name,
    double[] TestScores,
    double[] TrainScores,
    double[] CanaryScores,
    double[] ReferenceScores,
    double TestNatsPerChar,
    double Seconds,
    IReadOnlyList<(int Epoch, double TrainLoss, double TestNatsPerChar)> History)
{
    /// <summary>Perplexity per character, e^(nats per char).</summary>
    public double Perplexity => Math.Exp(TestNatsPerChar);

    /// <summary>Bits per character.</summary>
    public double BitsPerChar => TestNatsPerChar / Math.Log(2);
}
