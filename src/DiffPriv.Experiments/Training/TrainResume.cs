using System.Text.Json;
using System.Text.Json.Serialization;
using DiffPriv.IO;

namespace DiffPriv.Experiments.Training;

/// <summary>
/// The files that let <c>diffpriv train</c> resume after a kill: <see cref="SettingsFile"/>, written when the run folder
/// is made, holds the run's settings, and <see cref="CheckpointFile"/>, rewritten atomically at the end of every
/// <see cref="TrainSettings.CheckpointEvery"/>-th epoch, holds the model, the optimizer state, the privacy ledger, the
/// seeded generator, the step and epoch counters and the epochs' metrics. <c>--resume RUN_DIR</c> reads the settings
/// back (<see cref="Load"/>) and the runner continues from the checkpoint.
/// </summary>
public static class TrainResume
{
    /// <summary>The settings of the run, as JSON.</summary>
    public const string SettingsFile = "settings.json";

    /// <summary>The latest checkpoint of a run in progress (see <see cref="TrainResume"/>).</summary>
    public const string CheckpointFile = "resume.bin";

    /// <summary>The report a finished run writes last; a run folder with it has nothing left to resume.</summary>
    public const string ReportFile = "report.md";

    private const int Version = 1;

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Writes <paramref name="settings"/> to the run folder (atomically), with the folder as its output folder.</summary>
    /// <param name="settings">The run's settings.</param>
    /// <param name="runDir">The run folder (created if missing).</param>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Save(TrainSettings settings, string runDir)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Directory.CreateDirectory(runDir);
        var text = JsonSerializer.Serialize(new SavedSettings(Version, settings with { OutDir = runDir }), Json);
        AtomicFile.Write(Path.Combine(runDir, SettingsFile), s =>
        {
            using var writer = new StreamWriter(s, leaveOpen: true);
            writer.Write(text + "\n");
        });
    }

    /// <summary>
    /// The settings of the run in <paramref name="runDir"/>, to resume it: its output folder is <paramref name="runDir"/>
    /// (wherever the folder was when the run started).
    /// </summary>
    /// <param name="runDir">The run folder.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="ArgumentException">The folder is not a resumable run (no such folder, no settings, a finished run,
    /// a run whose kind cannot be resumed); the message says which.</exception>
    public static TrainSettings Load(string runDir)
    {
        ArgumentNullException.ThrowIfNull(runDir);
        var dir = Path.GetFullPath(runDir);
        if (!Directory.Exists(dir))
        {
            throw new ArgumentException($"--resume: there is no run folder {dir}", nameof(runDir));
        }

        var path = Path.Combine(dir, SettingsFile);
        if (!File.Exists(path))
        {
            throw new ArgumentException($"--resume: {dir} holds no {SettingsFile}: it is not the folder of a diffpriv train run (or the run was started by an older version)", nameof(runDir));
        }

        if (File.Exists(Path.Combine(dir, ReportFile)))
        {
            throw new ArgumentException($"--resume: the run in {dir} has already finished (its {ReportFile} is written); there is nothing to resume", nameof(runDir));
        }

        SavedSettings? saved;
        try
        {
            saved = JsonSerializer.Deserialize<SavedSettings>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--resume: {path} cannot be read ({e.Message})", nameof(runDir), e);
        }

        if (saved?.Settings is not { } settings || saved.Version != Version)
        {
            throw new ArgumentException($"--resume: {path} is not a settings file of this version ({Version})", nameof(runDir));
        }

        if (!Resumable(settings, out var why))
        {
            throw new ArgumentException($"--resume: the run in {dir} cannot be resumed: {why}", nameof(runDir));
        }

        return settings with { OutDir = dir };
    }

    /// <summary>Whether a run with <paramref name="settings"/> writes checkpoints it can resume from.</summary>
    internal static bool Resumable(TrainSettings settings, out string why)
    {
        why = settings.OneRunAudit ? "the one-run audit's canaries and their scores are not in the checkpoint"
            : "";
        return why.Length == 0;
    }

    private sealed record SavedSettings(int Version, TrainSettings Settings);
}
