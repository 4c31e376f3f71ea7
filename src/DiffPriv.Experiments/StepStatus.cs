using System.Globalization;

namespace DiffPriv.Experiments;

/// <summary>A snapshot of a running training, for progress display.</summary>
/// <param name="Epoch">The current epoch, from 1.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Step">Steps done so far.</param>
/// <param name="TotalSteps">Steps in the run.</param>
/// <param name="Loss">Mean loss of this epoch's batches so far (a local diagnostic of private data, not covered by ε).</param>
/// <param name="TrainAccuracy">Accuracy on this epoch's batches so far, in [0, 1]; NaN where it does not apply.</param>
/// <param name="EpsilonSoFar">ε after the last finished epoch; null before the first, or for non-private training.</param>
/// <param name="TimeLeft">Estimated time to the end of the run.</param>
public sealed record StepStatus(int Epoch, int Epochs, long Step, long TotalSteps, double Loss, double TrainAccuracy, double? EpsilonSoFar, TimeSpan? TimeLeft)
{
    /// <summary>One line: epoch, step, loss, accuracy, ε and time left.</summary>
    /// <returns>The line.</returns>
    public string Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        var eps = EpsilonSoFar is { } e ? $"ε {e.ToString("F3", inv)}" : "ε –";
        var left = TimeLeft is { } t ? $"~{(int)t.TotalMinutes}:{t.Seconds:00} left" : "";
        var accuracy = double.IsNaN(TrainAccuracy) ? "" : $"train acc {(100 * TrainAccuracy).ToString("F2", inv)}%  ";
        return $"epoch {Epoch}/{Epochs}  step {Step}/{TotalSteps}  loss {Loss.ToString("F4", inv)}  {accuracy}{eps}  {left}".TrimEnd();
    }
}
