namespace DiffPriv.Experiments;

/// <summary>What a <see cref="ProgressUpdate"/> carries.</summary>
public enum ProgressKind
{
    /// <summary>A line of the run's own log (settings, per-epoch results, phases).</summary>
    Message,

    /// <summary>A detail of data loading or fetching; interfaces may show it less prominently.</summary>
    Detail,

    /// <summary>Something the user should look at (e.g. δ not below 1/N); the run goes on.</summary>
    Warning,

    /// <summary>A training step finished; <see cref="ProgressUpdate.Step"/> holds the numbers.</summary>
    Step,
}
