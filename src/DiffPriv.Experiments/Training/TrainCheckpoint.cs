using System.Text;
using System.Text.Json;
using DiffPriv.IO;

namespace DiffPriv.Experiments.Training;

/// <summary>
/// The runner's checkpoint (<see cref="TrainResume.CheckpointFile"/>): a header with where the run stands and the
/// epochs' metrics, followed by the engine's checkpoint (<c>PrivacyEngine.SaveCheckpoint</c>: model, optimizer state,
/// ledger, counters, seeded generator). Written atomically, so a kill or a failed write leaves the previous one.
/// </summary>
/// <param name="CompletedEpochs">Epochs finished (the checkpoint is taken at the end of the last of them).</param>
/// <param name="Steps">Private steps taken.</param>
/// <param name="InitSeed">The seed of the model's initialisation and of the audit split (drawn at random without --seed).</param>
/// <param name="NoiseMultiplier">σ of the run (calibrated once; a resumed run must find the same); 0 with --no-dp.</param>
/// <param name="ElapsedSeconds">Wall time spent so far, over all the attempts.</param>
/// <param name="History">The finished epochs' metrics.</param>
internal sealed record TrainCheckpoint(int CompletedEpochs, long Steps, long InitSeed, double NoiseMultiplier, double ElapsedSeconds, IReadOnlyList<EpochMetrics> History)
{
    private const string Magic = "DiffPriv.TrainCheckpoint.v1";

    /// <summary>Examples the private steps processed so far (the run's <c>examples_per_rank</c> on one process).</summary>
    public long ExamplesProcessed { get; init; }

    /// <summary>Language models: each finished epoch's test loss in nats per predicted character (beside <see cref="History"/>); else null.</summary>
    public IReadOnlyList<double>? TestNatsPerChar { get; init; }

    /// <summary>With <c>--ema</c>: the parameter average so far, one array per trainable parameter (float32); else null.</summary>
    public IReadOnlyList<float[]>? Average { get; init; }

    /// <summary>Writes the header and then, through <paramref name="writeEngine"/>, the engine's checkpoint, atomically.</summary>
    /// <exception cref="IOException">The write failed; the previous checkpoint is unchanged.</exception>
    public void Write(string path, Action<Stream> writeEngine, Func<string, Stream>? open = null) =>
        AtomicFile.Write(
            path,
            stream =>
            {
                using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write(Magic);
                    writer.Write(JsonSerializer.Serialize(this, TrainResume.Json));
                }

                writeEngine(stream);
            },
            open);

    /// <summary>Reads the header of <paramref name="path"/> and hands the rest of the stream to <paramref name="readEngine"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a runner checkpoint or is truncated.</exception>
    public static TrainCheckpoint Read(string path, Action<Stream>? readEngine)
    {
        using var stream = File.OpenRead(path);
        TrainCheckpoint header;
        using (var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true))
        {
            try
            {
                if (reader.ReadString() != Magic)
                {
                    throw new InvalidDataException($"{path} is not a diffpriv train checkpoint ({Magic}).");
                }

                header = JsonSerializer.Deserialize<TrainCheckpoint>(reader.ReadString(), TrainResume.Json)
                    ?? throw new InvalidDataException($"{path} holds no run state.");
            }
            catch (Exception e) when (e is EndOfStreamException or JsonException)
            {
                throw new InvalidDataException($"The checkpoint {path} is truncated or damaged.", e);
            }
        }

        readEngine?.Invoke(stream);
        return header;
    }
}
