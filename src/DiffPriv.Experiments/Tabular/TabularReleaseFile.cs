using System.Text.Json;
using DiffPriv.Accounting.Events;
using DiffPriv.Experiments.Training;
using DiffPriv.IO;

namespace DiffPriv.Experiments.Tabular;

/// <summary>
/// The preprocessing's release of a <c>train csv</c> run (<see cref="TabularTrainRunner.PreprocessingFile"/>): every
/// column's use, range and categories, the target's classes, the DP events and their σ, ε and threshold, exactly as
/// <see cref="TabularPreprocessing.Release"/> returned them. Written atomically before the first training step, read back
/// on resume, so a resumed run neither draws the preprocessing's noise again nor charges it again. It holds what the run
/// publishes anyway (schema.json has the same ranges, categories and classes).
/// </summary>
internal static class TabularReleaseFile
{
    private const string Format = "DiffPriv.TabularRelease.v1";

    /// <summary>Writes <paramref name="release"/> to <paramref name="path"/>, atomically.</summary>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Write(string path, PreprocessingRelease release)
    {
        var saved = new Saved(
            Format,
            [.. release.Columns.Select(c => new SavedColumn(c.Name, c.Kind, c.KindSource, c.ValuesSource, c.Range?.Low, c.Range?.High, c.Impute, c.Categories))],
            release.Target,
            DpEventJson.Serialize(new ComposedDpEvent(release.Events)),
            release.NoiseMultiplier,
            release.Epsilon,
            release.CategoryThreshold,
            release.DpNumeric,
            release.DpCategorical);
        var text = JsonSerializer.Serialize(saved, TrainResume.Json);
        AtomicFile.Write(path, s =>
        {
            using var writer = new StreamWriter(s, leaveOpen: true);
            writer.Write(text + "\n");
        });
    }

    /// <summary>The release saved in <paramref name="path"/>, or null when there is no such file.</summary>
    /// <exception cref="InvalidDataException">The file is not a release of this format.</exception>
    public static PreprocessingRelease? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var saved = JsonSerializer.Deserialize<Saved>(File.ReadAllText(path), TrainResume.Json);
            if (saved is null || saved.Format != Format || DpEventJson.Deserialize(saved.Events) is not ComposedDpEvent events)
            {
                throw new InvalidDataException($"{path} is not a preprocessing release of this version ({Format}).");
            }

            var columns = saved.Columns
                .Select(c => new ColumnPlan(c.Name, c.Kind, c.KindSource, c.ValuesSource, c.Low is { } low && c.High is { } high ? (low, high) : null, c.Impute, c.Categories))
                .ToList();
            return new PreprocessingRelease(
                columns, saved.Target, events.Events, saved.NoiseMultiplier, saved.Epsilon, saved.CategoryThreshold, saved.DpNumeric, saved.DpCategorical);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} cannot be read ({e.Message}).", e);
        }
    }

    private sealed record Saved(
        string Format,
        IReadOnlyList<SavedColumn> Columns,
        TargetPlan Target,
        string Events,
        double? NoiseMultiplier,
        double Epsilon,
        double? CategoryThreshold,
        int DpNumeric,
        int DpCategorical);

    private sealed record SavedColumn(
        string Name, TabularColumnKind Kind, TabularSource KindSource, TabularSource ValuesSource, double? Low, double? High, double? Impute, IReadOnlyList<string>? Categories);
}
