namespace DiffPriv.Experiments.Benchmarks;

/// <summary>What to benchmark.</summary>
/// <param name="Model"><c>mnist-cnn</c>, <c>embedding-bag</c>, <c>char-lstm</c>, <c>transformer</c> or <c>transformer-lora</c>.</param>
/// <param name="BatchSize">Examples per step (≥ 1).</param>
/// <param name="VocabularySize">char-lstm only: distinct characters (≥ 2).</param>
public sealed record BenchSetup(string Model, int BatchSize, int VocabularySize = DpStepBenchmark.CharLstmVocabulary);
