using System.CommandLine;
using System.CommandLine.Parsing;
using DiffPriv.Experiments.Training;

namespace DiffPriv.Cli.Commands;

/// <summary>
/// <c>--resume RUN_DIR</c> and <c>--checkpoint-every N</c>, the same on every command that resumes after a kill (train
/// mnist, fashion-mnist, csv, text; experiment secret-sharer, user-level, text-classification): one wording, one rule that <c>--resume</c> takes no other option but <c>--json</c>.
/// </summary>
internal sealed class ResumeOptions
{
    public Option<string?> Resume { get; } = new("--resume")
    {
        Description = "Resume the run in RUN_DIR after a kill: its settings come from RUN_DIR/settings.json and training continues from its last " +
            "checkpoint (resume.bin; experiment user-level and text-classification: one per private setting). Give no other option (--json alone may be added). A seeded run resumes into exactly the uninterrupted run; " +
            "an unseeded one keeps its plan (steps, σ) and draws fresh noise. A finished run, or the run of another command, exits 2 with a message.",
        HelpName = "RUN_DIR",
    };

    public Option<int?> CheckpointEvery { get; } = new("--checkpoint-every")
    {
        Description = "Write the checkpoint to resume from (resume.bin in the run folder, or one per setting, atomically: temporary file, flush, rename) at the end of " +
            "every N epochs and of the last one (default 1: every epoch).",
        HelpName = "N",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Resume);
        command.Options.Add(CheckpointEvery);
    }

    /// <summary>The folder to resume, or null without <c>--resume</c>; with it, any other option but <paramref name="json"/> is a usage error.</summary>
    public string? Folder(ParseResult result, Option json)
    {
        if (result.GetValue(Resume) is not { } dir)
        {
            return null;
        }

        var others = result.CommandResult.Children.OfType<OptionResult>()
            .Where(o => !o.Implicit && o.Option != Resume && o.Option != json)
            .Select(o => o.Option.Name)
            .ToList();
        if (others.Count > 0)
        {
            throw new UsageException(
                $"--resume RUN_DIR takes every setting from RUN_DIR/{TrainResume.SettingsFile}: {string.Join(", ", others)} cannot be given with it (only --json)");
        }

        return dir;
    }

    /// <summary>Resumes a run through <paramref name="resume"/>; its refusals (<see cref="ArgumentException"/>: a finished run, another command's) are usage errors (exit 2).</summary>
    public static T Refusing<T>(Func<T> resume)
    {
        try
        {
            return resume();
        }
        catch (ArgumentException refused)
        {
            throw UsageException.From(refused);
        }
    }

    /// <summary>The checkpoint interval in epochs (default 1).</summary>
    public int Every(ParseResult result)
    {
        var every = result.GetValue(CheckpointEvery) ?? 1;
        return every >= 1 ? every : throw new UsageException($"--checkpoint-every must be ≥ 1 (got {every})");
    }

    /// <summary>Without <c>--resume</c>, each of <paramref name="required"/> must be given.</summary>
    public static void Require(ParseResult result, params Option[] required)
    {
        foreach (var option in required.Where(o => result.GetResult(o) is null or { Implicit: true }))
        {
            throw new UsageException($"{option.Name} is required (unless --resume RUN_DIR is given)");
        }
    }
}
