namespace DiffPriv.Experiments.Training;

/// <summary>Everything a finished run reports.</summary>
public sealed record TrainResult(
    TrainSettings Settings,
    long TrainExamples,
    long TestExamples,
    double? NoiseMultiplier,
    double? SamplingProbability,
    long Steps,
    double Epsilon,
    double? EpsilonLower,
    double? RdpEpsilon,
    double? RdpOrder,
    double TestAccuracy,
    double WallSeconds,
    string RunDir,
    IReadOnlyList<EpochMetrics> History,
    string PrivacyStatement)
{
    /// <summary>The membership-inference audit (<c>--audit</c>), or null.</summary>
    public TrainAuditResult? Audit { get; init; }

    /// <summary>The one-run audit of the gradient canaries inserted into this run (<see cref="TrainSettings.OneRunAudit"/>), or null.</summary>
    public DiffPriv.Auditing.OneRun.OneRunAuditResult? OneRunAudit { get; init; }

    /// <summary>With adaptive clipping: the clip norm after the last step; otherwise null.</summary>
    public double? FinalClip { get; init; }

    /// <summary>With <see cref="TrainSettings.ValidationExamples"/> &gt; 0: the accuracy on that validation split (the first
    /// examples of the test set, not counted in <see cref="TestAccuracy"/>); otherwise null.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>The number of MPI ranks that trained the model (1 in a single process).</summary>
    public int WorldSize { get; init; } = 1;

    /// <summary>With DP-SGD: how many examples each rank computed gradients for, indexed by rank (private: diagnostics); otherwise null.</summary>
    public IReadOnlyList<long>? ExamplesPerRank { get; init; }

    /// <summary>In a data-parallel job: the share of rank 0's training time spent in MPI calls (waiting for the other ranks
    /// included); otherwise null.</summary>
    public double? CommunicationShare { get; init; }
}
