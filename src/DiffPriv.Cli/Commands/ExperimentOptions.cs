using System.CommandLine;

namespace DiffPriv.Cli.Commands;

/// <summary>
/// The options every multi-setting experiment shares (<c>--target-epsilon</c>, <c>--delta</c>, <c>--quick</c>,
/// <c>--settings</c>, <c>--seed</c>, <c>--seeded-noise</c>, <c>--out</c>, <c>--json</c>) and their checks, so that
/// <c>experiment text-classification</c> and <c>experiment user-level</c> parse them in one place.
/// </summary>
/// <typeparam name="TMode">The experiment's setting (an enum).</typeparam>
internal sealed class ExperimentOptions<TMode>
    where TMode : struct, Enum
{
    private readonly IReadOnlyList<TMode> _all;
    private readonly Func<TMode, string> _name;

    public ExperimentOptions(string epsilonDescription, double defaultDelta, string quickDescription, IReadOnlyList<TMode> all, Func<TMode, string> name, string seedDescription, string seededNoiseDescription, string runFolderName)
    {
        _all = all;
        _name = name;
        Epsilon = new Option<double?>("--target-epsilon", "--epsilon") { Description = epsilonDescription };
        Delta = new Option<double?>("--delta") { Description = $"δ in (0, 1) (default {Experiments.Reports.PrivacyStatement.Delta(defaultDelta)})." };
        Quick = new Option<bool>("--quick") { Description = quickDescription };
        Settings = new Option<string?>("--settings")
        {
            HelpName = "LIST",
            Description = $"Comma-separated settings to run (default all: {string.Join(",", all.Select(name))}).",
        };
        Seed = new Option<long?>("--seed") { Description = seedDescription };
        SeededNoise = new Option<bool>("--seeded-noise") { Description = seededNoiseDescription };
        OutDir = new Option<string?>("--out", "-o") { Description = $"Run folder (default runs/{runFolderName}-<timestamp>)." };
        Json = new Option<bool>("--json") { Description = "Print one JSON object on stdout; progress goes to stderr." };
    }

    public Option<double?> Epsilon { get; }

    public Option<double?> Delta { get; }

    public Option<bool> Quick { get; }

    public Option<string?> Settings { get; }

    public Option<long?> Seed { get; }

    public Option<bool> SeededNoise { get; }

    public Option<string?> OutDir { get; }

    public Option<bool> Json { get; }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Epsilon, Delta, Quick, Settings, Seed, SeededNoise, OutDir, Json })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The given ε, checked finite and &gt; 0, or null.</summary>
    public double? ReadEpsilon(ParseResult result) => result.GetValue(Epsilon) is { } e
        ? e > 0 && double.IsFinite(e) ? e : throw new UsageException($"--target-epsilon must be a finite number > 0 (got {AccountingOptions.Format(e)})")
        : null;

    /// <summary>The given δ, checked in (0, 1), or null.</summary>
    public double? ReadDelta(ParseResult result) => result.GetValue(Delta) is { } d
        ? d is > 0 and < 1 ? d : throw new UsageException($"--delta must be in (0, 1) (got {AccountingOptions.Format(d)})")
        : null;

    /// <summary>The settings named by <c>--settings</c> (distinct, known), or null when it was not given.</summary>
    public IReadOnlyList<TMode>? ReadModes(ParseResult result)
    {
        if (result.GetValue(Settings) is not { } list)
        {
            return null;
        }

        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var modes = names.Select(n => _all.Where(m => _name(m) == n).Select(m => (TMode?)m).FirstOrDefault()).ToList();
        if (names.Length == 0 || modes.Any(m => m is null) || modes.Distinct().Count() != modes.Count)
        {
            throw new UsageException($"--settings takes distinct names from {string.Join(", ", _all.Select(_name))} (got '{list}')");
        }

        return modes.Select(m => m!.Value).ToList();
    }

    /// <summary>The command line as typed, for the run folder's <c>command.txt</c>.</summary>
    public static string CommandLine(ParseResult result) => "./diffpriv " + string.Join(" ", result.Tokens.Select(t => t.Value));
}
