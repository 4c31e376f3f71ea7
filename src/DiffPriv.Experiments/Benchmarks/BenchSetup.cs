namespace DiffPriv.Experiments.Benchmarks;

/// <summary>What to benchmark.</summary>
/// <param name="Model"><c>mnist-cnn</c>, <c>embedding-bag</c>, <c>char-lstm</c>, <c>transformer</c> or <c>transformer-lora</c>.</param>
/// <param name="BatchSize">Examples per step (≥ 1).</param>
/// <param name="VocabularySize">char-lstm only: distinct characters (≥ 2).</param>
public sealed record BenchSetup(string Model, int BatchSize, int VocabularySize = DpStepBenchmark.CharLstmVocabulary)
{
    /// <summary>
    /// Tokens per example (≥ 1) of the sequence models: characters of <c>char-lstm</c>, bytes of the transformers, ids in
    /// each bag of <c>embedding-bag</c>; null: the model's default (<see cref="DpStepBenchmark.DefaultSequenceLength"/>).
    /// <c>mnist-cnn</c> has none.
    /// </summary>
    public int? SequenceLength { get; init; }

    /// <summary>
    /// The model's width (≥ 1): the LSTM hidden size of <c>char-lstm</c>, d_model of the transformers (a multiple of their
    /// 4 heads; feed-forward 4·d_model), the embedding dimension of <c>embedding-bag</c>, the channel multiplier of
    /// <c>mnist-cnn</c>; null: the model's default (<see cref="DpStepBenchmark.DefaultWidth"/>).
    /// </summary>
    public int? Width { get; init; }

    /// <summary>The sequence length in effect: <see cref="SequenceLength"/> or the model's default; null for <c>mnist-cnn</c>.</summary>
    public int? EffectiveSequenceLength => DpStepBenchmark.DefaultSequenceLength(Model) is { } d ? SequenceLength ?? d : null;

    /// <summary>The width in effect: <see cref="Width"/> or the model's default.</summary>
    public int EffectiveWidth => Width ?? DpStepBenchmark.DefaultWidth(Model);
}
