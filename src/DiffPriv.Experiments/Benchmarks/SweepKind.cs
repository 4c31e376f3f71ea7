namespace DiffPriv.Experiments.Benchmarks;

/// <summary>The quantity a <see cref="DpStepSweep"/> varies, every other setting held at its default or given value.</summary>
public enum SweepKind
{
    /// <summary>Examples per step (<see cref="BenchSetup.BatchSize"/>).</summary>
    Batch,

    /// <summary>Tokens per example (<see cref="BenchSetup.SequenceLength"/>); the sequence models only.</summary>
    Sequence,

    /// <summary>The model's width (<see cref="BenchSetup.Width"/>).</summary>
    Width,
}
