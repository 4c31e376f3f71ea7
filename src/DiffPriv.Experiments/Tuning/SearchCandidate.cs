namespace DiffPriv.Experiments.Tuning;

/// <summary>One point of a hyperparameter grid: the learning rate and the clipping norm of a run.</summary>
/// <param name="LearningRate">The learning rate, finite and &gt; 0.</param>
/// <param name="MaxGradNorm">The clipping norm C, finite and &gt; 0.</param>
public sealed record SearchCandidate(double LearningRate, double MaxGradNorm);
