namespace DiffPriv.Experiments.Training;

/// <summary>
/// The checkpoints of one <c>diffpriv train</c> run (<see cref="TrainResume.CheckpointFile"/> in its folder, or a file of
/// its own for each phase of an experiment that trains several models in turn), for every
/// command that resumes: the one to resume from, read when the run starts, and the ones written at the end of every
/// <c>every</c>-th epoch and of the last (<see cref="TrainCheckpoint.Write"/>: atomically, so a kill or a failed write
/// leaves the previous one). One rule for when a checkpoint is due, how σ is checked on resume and what the run says.
/// </summary>
internal sealed class RunCheckpoints
{
    private readonly int _every;
    private readonly Func<string, Stream>? _open;

    /// <summary>Reads the checkpoint to resume from when <paramref name="resume"/> and the folder holds one.</summary>
    /// <param name="runDir">The run folder.</param>
    /// <param name="every">A checkpoint at the end of every this many epochs (and of the last), ≥ 1.</param>
    /// <param name="resume">Whether the run resumes (its settings came from the folder).</param>
    /// <param name="open">Test seam: opens the temporary checkpoint file for writing (default: a file stream).</param>
    /// <param name="file">The checkpoint's file name in the run folder (default <see cref="TrainResume.CheckpointFile"/>).</param>
    /// <exception cref="InvalidDataException">The checkpoint is truncated or is not a runner checkpoint.</exception>
    public RunCheckpoints(string runDir, int every, bool resume, Func<string, Stream>? open, string file = TrainResume.CheckpointFile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        (RunDir, _every, _open) = (runDir, every, open);
        Path = System.IO.Path.Combine(runDir, file);
        Resuming = resume;
        Resumed = resume && File.Exists(Path) ? TrainCheckpoint.Read(Path, null) : null;
    }

    /// <summary>The run folder.</summary>
    public string RunDir { get; }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>Whether the run resumes.</summary>
    public bool Resuming { get; }

    /// <summary>The checkpoint the run resumes from (its header; the engine's part is read by <see cref="Restore"/>), or null.</summary>
    public TrainCheckpoint? Resumed { get; }

    /// <summary>Wall time of the earlier attempts.</summary>
    public double SecondsBefore => Resumed?.ElapsedSeconds ?? 0;

    /// <summary>The first epoch to run and the steps taken before it.</summary>
    public (int Epoch, long Steps) Start => Resumed is { } from ? (from.CompletedEpochs + 1, from.Steps) : (1, 0L);

    /// <summary>Whether a checkpoint is written at the end of <paramref name="epoch"/> of <paramref name="epochs"/>.</summary>
    public bool Due(int epoch, int epochs) => epoch % _every == 0 || epoch == epochs;

    /// <summary>Writes <paramref name="checkpoint"/> and, after it, the engine's state (<paramref name="saveEngine"/>), atomically.</summary>
    /// <exception cref="IOException">The write failed; the previous checkpoint is unchanged.</exception>
    public void Write(TrainCheckpoint checkpoint, Action<Stream> saveEngine) => checkpoint.Write(Path, saveEngine, _open);

    /// <summary>
    /// When resuming from a checkpoint: checks that the run's σ is the checkpoint's (the same plan) and restores the engine's
    /// state through <paramref name="loadEngine"/>; otherwise does nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">σ differs from the checkpoint's; nothing was restored.</exception>
    public void Restore(Action<Stream> loadEngine, double sigma)
    {
        if (Resumed is not { } from)
        {
            return;
        }

        if (from.NoiseMultiplier != sigma)
        {
            throw new InvalidOperationException(
                $"--resume: this run's σ is {from.NoiseMultiplier:R} but the settings give σ = {sigma:R} now; the checkpoint was not resumed.");
        }

        TrainCheckpoint.Read(Path, loadEngine);
    }

    /// <summary>What a resumed run says before training (where it continues from), or null for a new run.</summary>
    /// <param name="epochs">The run's epochs.</param>
    /// <param name="seeded">Whether the noise is seeded (else a resumed run's noise is fresh).</param>
    public string? ResumeLine(int epochs, bool seeded) =>
        Resumed is { } from
            ? $"--resume: continuing after epoch {from.CompletedEpochs} of {epochs} (step {from.Steps}) from {Path}{(seeded ? "" : "; the noise from here on is fresh (secure), the plan is the run's")}"
            : Resuming ? "--resume: the run stopped before its first checkpoint; it starts again from the beginning with its settings" : null;

    /// <summary>Where the checkpoints go and how to resume, as a run says before training.</summary>
    /// <param name="command">The command that resumes the run, e.g. <c>train csv</c>.</param>
    public string CheckpointLine(string command) =>
        $"checkpoints: {Path} after every {(_every == 1 ? "epoch" : $"{_every} epochs")} and the last (resume with: diffpriv {command} --resume {RunDir})";
}
