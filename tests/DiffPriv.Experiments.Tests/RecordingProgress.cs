namespace DiffPriv.Experiments.Tests;

/// <summary>Keeps every progress update a run reports, in order, on the reporting thread.</summary>
internal sealed class RecordingProgress : IProgress<ProgressUpdate>
{
    public List<ProgressUpdate> Updates { get; } = [];

    public int Steps => Updates.Count(u => u.Kind == ProgressKind.Step);

    public IEnumerable<string> Messages => Updates.Where(u => u.Kind == ProgressKind.Message).Select(u => u.Text);

    public void Report(ProgressUpdate value) => Updates.Add(value);
}
