using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using DiffPriv.Datasets;
using DiffPriv.IO;

namespace DiffPriv.Experiments.Training;

/// <summary>
/// The files that let <c>diffpriv train</c> (mnist, fashion-mnist, csv and text) and <c>diffpriv experiment secret-sharer</c>
/// resume after a kill: <see cref="SettingsFile"/>,
/// written when the run folder is made, holds the command, the run's settings and the SHA-256 of the files it reads, and
/// <see cref="CheckpointFile"/>, rewritten atomically at the end of every <see cref="TrainSettings.CheckpointEvery"/>-th
/// epoch, holds the model, the optimizer state, the privacy ledger, the seeded generator, the step and epoch counters and
/// the epochs' metrics. <c>--resume RUN_DIR</c> reads the settings back (<see cref="Load"/> for the image runs) and the
/// runner continues from the checkpoint.
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
        Save($"train {settings.DatasetId}", settings with { OutDir = runDir }, runDir, []);
    }

    /// <summary>
    /// The settings of the run in <paramref name="runDir"/>, to resume it: its output folder is <paramref name="runDir"/>
    /// (wherever the folder was when the run started).
    /// </summary>
    /// <param name="runDir">The run folder.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="ArgumentException">The folder is not a resumable run (no such folder, no settings, a finished run,
    /// a run of <c>train csv</c> or <c>train text</c>, a run whose kind cannot be resumed); the message says which.</exception>
    public static TrainSettings Load(string runDir)
    {
        var (settings, dir) = Load<TrainSettings>(runDir, command => command.StartsWith("train ", StringComparison.Ordinal) && command is not (CsvCommand or TextCommand));
        if (!Resumable(settings, out var why))
        {
            throw new ArgumentException($"--resume: the run in {dir} cannot be resumed: {why}", nameof(runDir));
        }

        return settings with { OutDir = dir };
    }

    /// <summary>The command of <c>diffpriv train csv</c> runs, as settings files name it.</summary>
    internal const string CsvCommand = "train csv";

    /// <summary>The command of <c>diffpriv train text</c> runs, as settings files name it.</summary>
    internal const string TextCommand = "train text";

    /// <summary>
    /// Writes the settings of a run of <paramref name="command"/> (e.g. <c>train csv</c>) to <see cref="SettingsFile"/>,
    /// atomically, with the SHA-256 of each of <paramref name="inputs"/> (files the run reads; a resumed run must read the same).
    /// </summary>
    internal static void Save<T>(string command, T settings, string runDir, IEnumerable<string?> inputs)
    {
        Directory.CreateDirectory(runDir);
        var saved = new JsonObject
        {
            ["Version"] = Version,
            ["Command"] = command,
            ["Settings"] = JsonSerializer.SerializeToNode(settings, Json),
            ["Inputs"] = new JsonObject(inputs.OfType<string>().Distinct(StringComparer.Ordinal)
                .Select(f => KeyValuePair.Create(Path.GetFullPath(f), (JsonNode?)Sha256(f)))),
        };
        AtomicFile.Write(Path.Combine(runDir, SettingsFile), s =>
        {
            using var writer = new StreamWriter(s, leaveOpen: true);
            writer.Write(saved.ToJsonString(Json) + "\n");
        });
    }

    /// <summary>
    /// Starts a new run of <paramref name="command"/> in <paramref name="runDir"/>: removes what an earlier run in the folder
    /// left that this one could be taken for (its checkpoint, its report and <paramref name="staleFiles"/>), then writes
    /// the settings (<see cref="Save{T}"/>) and <c>command.txt</c>.
    /// </summary>
    internal static void StartNew<T>(string command, T settings, string runDir, IEnumerable<string?> inputs, string commandLine, params string[] staleFiles)
    {
        Directory.CreateDirectory(runDir);
        foreach (var stale in staleFiles.Append(CheckpointFile).Append(ReportFile))
        {
            File.Delete(Path.Combine(runDir, stale));
        }

        Save(command, settings, runDir, inputs);
        File.WriteAllText(Path.Combine(runDir, "command.txt"), commandLine + "\n");
    }

    /// <summary>
    /// Reads the settings of the run in <paramref name="runDir"/> for a command that accepts the folder's command
    /// (<paramref name="accepts"/>; a folder of another command is refused with the command that resumes it), after
    /// checking that the run has not finished and that every input file it recorded is unchanged.
    /// </summary>
    /// <returns>The settings and the folder's full path.</returns>
    /// <exception cref="ArgumentException">The folder is not a resumable run of this command; the message says why.</exception>
    internal static (T Settings, string RunDir) Load<T>(string runDir, Func<string, bool> accepts)
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

        JsonObject? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--resume: {path} cannot be read ({e.Message})", nameof(runDir), e);
        }

        if (root?["Settings"] is not JsonObject node || root["Version"]?.GetValue<int>() != Version)
        {
            throw new ArgumentException($"--resume: {path} is not a settings file of this version ({Version})", nameof(runDir));
        }

        // Files written before commands were recorded are the image runs' (train mnist, train fashion-mnist).
        var command = root["Command"]?.GetValue<string>() ?? "train " + (node["Dataset"]?.GetValue<string>() == nameof(DatasetName.FashionMnist) ? "fashion-mnist" : "mnist");
        if (!accepts(command))
        {
            throw new ArgumentException($"--resume: the run in {dir} was started by diffpriv {command}: resume it with diffpriv {command} --resume {dir}", nameof(runDir));
        }

        if (File.Exists(Path.Combine(dir, ReportFile)))
        {
            throw new ArgumentException($"--resume: the run in {dir} has already finished (its {ReportFile} is written); there is nothing to resume", nameof(runDir));
        }

        foreach (var (file, hash) in root["Inputs"]?.AsObject() ?? [])
        {
            if (!File.Exists(file) || Sha256(file) != hash?.GetValue<string>())
            {
                throw new ArgumentException(
                    $"--resume: {file} {(File.Exists(file) ? "has changed" : "is gone")} since the run in {dir} started: a run resumes on the data it started with", nameof(runDir));
            }
        }

        T? settings;
        try
        {
            settings = node.Deserialize<T>(Json);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--resume: {path} cannot be read ({e.Message})", nameof(runDir), e);
        }

        return (settings ?? throw new ArgumentException($"--resume: {path} holds no settings", nameof(runDir)), dir);
    }

    /// <summary>
    /// The done record at <paramref name="path"/> (what a finished phase of an experiment measured, as JSON), or null when
    /// the phase had not finished.
    /// </summary>
    /// <exception cref="InvalidDataException">The record is damaged.</exception>
    internal static T? ReadDone<T>(string path, JsonSerializerOptions? options = null)
        where T : class
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), options ?? Json)
                ?? throw new InvalidDataException($"{path} holds no result.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The done record {path} is damaged.", e);
        }
    }

    /// <summary>Writes the done record of a finished phase to <paramref name="path"/>, atomically (see <see cref="ReadDone{T}"/>).</summary>
    internal static void WriteDone<T>(string path, T done, JsonSerializerOptions? options = null) =>
        AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, done, options ?? Json));

    private static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Whether a run with <paramref name="settings"/> writes checkpoints it can resume from.</summary>
    internal static bool Resumable(TrainSettings settings, out string why)
    {
        why = settings.OneRunAudit ? "the one-run audit's canaries and their scores are not in the checkpoint"
            : "";
        return why.Length == 0;
    }
}
