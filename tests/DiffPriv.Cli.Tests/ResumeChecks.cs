using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Experiments.Training;
using DiffPriv.TestSupport;

namespace DiffPriv.Cli.Tests;

/// <summary>What every resume test checks: a stopped run kept its last good checkpoint, a resumed run is the uninterrupted one.</summary>
internal static class ResumeChecks
{
    /// <summary>The files and the <c>--json</c> line (but the wall times, at any depth, and the folder) of the two runs are the same.</summary>
    public static void AssertSameRun(string straightDir, string straightStdout, string resumedDir, string resumedStdout, params string[] files)
    {
        foreach (var file in files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(straightDir, file)), File.ReadAllBytes(Path.Combine(resumedDir, file)));
        }

        var a = WithoutWallTimes(JsonNode.Parse(straightStdout.TrimEnd().Split('\n')[^1])!).AsObject();
        var b = WithoutWallTimes(JsonNode.Parse(resumedStdout.TrimEnd().Split('\n')[^1])!).AsObject();
        foreach (var (key, value) in a.Where(p => p.Key is not "run_dir"))
        {
            Assert.Equal(value?.ToJsonString(), b[key]?.ToJsonString());
        }
    }

    private static JsonNode WithoutWallTimes(JsonNode node)
    {
        if (node is JsonObject o)
        {
            o.Remove("wall_seconds");
            foreach (var (_, child) in o)
            {
                if (child is not null)
                {
                    WithoutWallTimes(child);
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array.OfType<JsonNode>())
            {
                WithoutWallTimes(child);
            }
        }

        return node;
    }

    /// <summary>The final checkpoint's engine part (model, optimizer state, ledger, counters, generator): the checkpoint file after its header.</summary>
    public static byte[] EngineState(string runDir, string file = TrainResume.CheckpointFile)
    {
        byte[]? rest = null;
        TrainCheckpoint.Read(Path.Combine(runDir, file), s =>
        {
            using var copy = new MemoryStream();
            s.CopyTo(copy);
            rest = copy.ToArray();
        });
        return rest!;
    }

    /// <summary>The privacy ledger of the run's last checkpoint.</summary>
    public static PrivacyLedger Ledger(string runDir, string file = TrainResume.CheckpointFile)
    {
        using var engine = new MemoryStream(EngineState(runDir, file));
        using var reader = new BinaryReader(engine);
        _ = reader.ReadString(); // the engine checkpoint's format
        return PrivacyLedger.FromJson(reader.ReadString());
    }
}

/// <summary>A checkpoint writer whose first <c>good</c> writes succeed and whose next one fails as a full disk.</summary>
internal sealed class FailingCheckpoints(string runDir, int good = 1)
{
    private int _opened;

    /// <summary>The checkpoint file.</summary>
    public string Checkpoint { get; } = Path.Combine(runDir, TrainResume.CheckpointFile);

    /// <summary>The checkpoint as it was when the failing write began.</summary>
    public byte[]? LastGood { get; private set; }

    /// <summary>The runners' seam: opens the temporary checkpoint file.</summary>
    public Stream Open(string path)
    {
        if (++_opened <= good)
        {
            return File.Create(path);
        }

        LastGood = File.ReadAllBytes(Checkpoint);
        return new FailingStream(File.Create(path), failAfter: 1000, "No space left on device");
    }

    /// <summary>The run stopped with a message naming the file, and the last good checkpoint is as it was.</summary>
    public void AssertStoppedKeepingTheLastGood(IOException error)
    {
        Assert.Contains(Checkpoint, error.Message, StringComparison.Ordinal);
        Assert.Contains("No space left on device", error.Message, StringComparison.Ordinal);
        Assert.Contains("previous version of it is unchanged", error.Message, StringComparison.Ordinal);
        Assert.NotNull(LastGood);
        Assert.Equal(LastGood, File.ReadAllBytes(Checkpoint));
        Assert.False(File.Exists(Checkpoint + ".tmp"));
    }
}
