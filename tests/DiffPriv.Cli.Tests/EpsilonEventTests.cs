using System.Text.Json;

namespace DiffPriv.Cli.Tests;

/// <summary>
/// <c>diffpriv epsilon --event FILE</c>. Reference values: google/differential-privacy @
/// b5b0286e313b64a692abfc8c528d54ef47d960a0, python/dp_accounting — its RdpAccountant with DEFAULT_RDP_ORDERS,
/// run on the same events (its tests state no number for these settings; see the Accounting tests' README).
/// </summary>
public sealed class EpsilonEventTests : IDisposable
{
    private const string Zcdp = """{"type":"zcdp","rho":0.5}""";

    private const string Tree = """{"type":"single_epoch_tree_aggregation","noise_multiplier":1.13,"step_counts":1600}""";
    private const string DpSgd = """{"type":"self_composed","event":{"type":"poisson_sampled","sampling_probability":0.004,"event":{"type":"gaussian","noise_multiplier":1.1}},"count":1000}""";

    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-event-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string json, string name = "event.json")
    {
        var path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, json);
        return path;
    }

    private static JsonElement Json(string stdout) => JsonDocument.Parse(stdout).RootElement.Clone();

    // dp_accounting: RdpAccountant(REPLACE_SPECIAL) after SingleEpochTreeAggregationDpEvent(1.13, 1600) gives
    // ε(1e-6) = 18.709609893772754 at order 2.7 (the StackOverflow setting of its test_compute_eps_tree).
    [Fact]
    public void TreeAggregationUnderReplaceSpecial()
    {
        var (code, stdout, stderr) = CliRunner.Run("epsilon", "--event", File(Tree), "--neighboring-relation", "replace-special", "--delta", "1e-6", "--json");
        Assert.True(code == 0, stderr);
        var root = Json(stdout);
        Assert.Equal("replace-special", root.GetProperty("neighboring_relation").GetString());
        Assert.Equal(1e-6, root.GetProperty("delta").GetDouble());
        Assert.Equal("single_epoch_tree_aggregation", root.GetProperty("event").GetProperty("type").GetString());
        var results = root.GetProperty("results").EnumerateArray().ToList();
        var result = Assert.Single(results, r => r.GetProperty("accountant").GetString() == "rdp");
        Assert.Equal(18.709609893772754, result.GetProperty("epsilon").GetDouble(), 1e-12 * 18.7);
        Assert.Equal(2.7, result.GetProperty("optimal_order").GetDouble(), 12);

        // The PLD accountant analyses the tree exactly (11 Gaussians of σ = 1.13: one of σ/√11; not in dp_accounting).
        var pld = Assert.Single(results, r => r.GetProperty("accountant").GetString() == "pld");
        var exact = DiffPriv.Accounting.GaussianMechanism.GetEpsilon(1.13 / Math.Sqrt(11), 1e-6);
        Assert.InRange(exact, pld.GetProperty("epsilon_lower").GetDouble(), pld.GetProperty("epsilon").GetDouble());
        Assert.Empty(root.GetProperty("unsupported").EnumerateArray());
    }

    [Fact]
    public void TextNamesTheRelationAndTheAccountantsThatCannot()
    {
        var (code, stdout, stderr) = CliRunner.Run("epsilon", "--event", File(Tree), "--neighboring-relation", "replace-special", "--delta", "1e-6");
        Assert.True(code == 0, stderr);
        Assert.Contains("replace-special adjacency", stdout);
        Assert.Contains("ε = 18.710", stdout);
        Assert.Contains("optimal order 2.7", stdout);
        Assert.Contains("ε = 17.667  δ = 1e-6   (PLD accountant", stdout);
        Assert.Contains("Replacing any one record by the special record", stdout);

        var zcdp = CliRunner.Run("epsilon", "--event", File(Zcdp), "--delta", "1e-6");
        Assert.True(zcdp.ExitCode == 0, zcdp.Stderr);
        Assert.Contains("pld: cannot analyse this event", zcdp.Stdout);
    }

    [Fact]
    public void DpSgdAsAnEventEqualsTheRunOptions()
    {
        var byEvent = CliRunner.Run("epsilon", "--event", File(DpSgd), "--json");
        var byOptions = CliRunner.Run("epsilon", "-q", "0.004", "--noise-multiplier", "1.1", "--steps", "1000", "--accountant", "all", "--json");
        Assert.True(byEvent.ExitCode == 0, byEvent.Stderr);
        Assert.Equal(0, byOptions.ExitCode);
        var eventRoot = Json(byEvent.Stdout);
        Assert.Equal("add-or-remove-one", eventRoot.GetProperty("neighboring_relation").GetString());
        Assert.Empty(eventRoot.GetProperty("unsupported").EnumerateArray());
        // --accountant defaults to all with --event: PLD then RDP, as with --accountant all.
        Assert.Equal(Json(byOptions.Stdout).GetProperty("results").GetRawText(), eventRoot.GetProperty("results").GetRawText());
    }

    // dp_accounting: RdpAccountant after RepeatAndSelectDpEvent(GaussianDpEvent(1.0), 10, inf): ε(1e-6) 10.70755939614865 at
    // order 5.9. The JSON string "Infinity" stands for dp_accounting's np.inf.
    [Fact]
    public void InfinityIsAcceptedForThePoissonShape()
    {
        var json = """{"type":"repeat_and_select","event":{"type":"gaussian","noise_multiplier":1.0},"mean":10,"shape":"Infinity"}""";
        var (code, stdout, stderr) = CliRunner.Run("epsilon", "--event", File(json), "--accountant", "rdp", "--delta", "1e-6", "--json");
        Assert.True(code == 0, stderr);
        var result = Assert.Single(Json(stdout).GetProperty("results").EnumerateArray());
        Assert.Equal(10.70755939614865, result.GetProperty("epsilon").GetDouble(), 1e-9 * 10.7);
        Assert.Equal(5.9, result.GetProperty("optimal_order").GetDouble(), 12);
    }

    [Fact]
    public void NamedAccountantThatCannotExitsTwoAndSaysWhichCan()
    {
        var (code, stdout, stderr) = CliRunner.Run("epsilon", "--event", File(Zcdp), "--accountant", "pld");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("pld cannot analyse this event under add-or-remove-one", line);
        Assert.Contains("--accountant rdp", line);
    }

    [Fact]
    public void EventNoAccountantCanExitsTwoAndSaysWhereItCould()
    {
        var (code, stdout, stderr) = CliRunner.Run("epsilon", "--event", File(Tree));
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("no accountant can analyse this event under add-or-remove-one", line);
        Assert.Contains("--neighboring-relation replace-special", line);

        var withReplacement = """{"type":"sampled_with_replacement","source_dataset_size":60,"sample_size":10,"event":{"type":"gaussian","noise_multiplier":1}}""";
        var none = CliRunner.Run("epsilon", "--event", File(withReplacement), "--accountant", "rdp");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no accountant can analyse this event under add-or-remove-one", none.Stderr);
        Assert.DoesNotContain("--neighboring-relation", none.Stderr);
    }

    [Theory]
    [InlineData("--steps", "10")]
    [InlineData("--epochs", "2")]
    [InlineData("--noise-multiplier", "1.0")]
    [InlineData("--sampling-probability", "0.01")]
    [InlineData("--dataset-size", "1000")]
    [InlineData("--batch-size", "10")]
    public void EventWithRunOptionsExitsTwo(string option, string value)
    {
        var (code, stdout, stderr) = CliRunner.Run("epsilon", "--event", File(DpSgd), option, value);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(option, line);
        Assert.Contains("--event", line);
    }

    [Theory]
    [InlineData("{", "is not a valid event")]
    [InlineData("""{"type":"quantum","noise_multiplier":1}""", "is not a valid event")]
    [InlineData("""{"type":"gaussian","noise_multipler":1.1}""", "is not a valid event")]
    [InlineData("""{"type":"sampled_without_replacement","source_dataset_size":60000,"event":{"type":"gaussian","noise_multiplier":1}}""", "sample_size")]
    [InlineData("""{"type":"sampled_without_replacement","source_dataset_size":60,"sample_size":100,"event":{"type":"gaussian","noise_multiplier":1}}""", "sample_size = 100")]
    [InlineData("""{"type":"single_epoch_tree_aggregation","noise_multiplier":-1,"step_counts":[3]}""", "noise_multiplier = -1")]
    [InlineData("""{"type":"repeat_and_select","event":null,"mean":2,"shape":1}""", "invalid event: event")]
    public void CorruptFileExitsTwoNamingTheFileAndTheProblem(string json, string problem)
    {
        var path = File(json, "corrupt.json");
        var (code, stdout, stderr) = CliRunner.Run("epsilon", "--event", path);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("corrupt.json", line);
        Assert.Contains(problem, line);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void MissingFileExitsTwoNamingIt()
    {
        var path = Path.Combine(_dir, "missing.json");
        var (code, stdout, stderr) = CliRunner.Run("epsilon", "--event", path);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("cannot read", stderr);
        Assert.Contains("missing.json", stderr);
    }

    [Theory]
    [InlineData("--event", "replace-all")]
    [InlineData("--noise-multiplier", "replace-one")]
    public void NeighboringRelationIsCheckedAndNeedsAnEvent(string mode, string relation)
    {
        string[] args = mode == "--event"
            ? ["epsilon", "--event", File(DpSgd), "--neighboring-relation", relation]
            : ["epsilon", "-q", "0.01", "--noise-multiplier", "1", "--steps", "10", "--neighboring-relation", relation];
        var (code, stdout, stderr) = CliRunner.Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("--neighboring-relation", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void BadDeltaOrAccountantWithAnEventExitsTwo()
    {
        var path = File(DpSgd);
        Assert.Contains("--delta", CliRunner.Run("epsilon", "--event", path, "--delta", "0").Stderr);
        Assert.Contains("--accountant", CliRunner.Run("epsilon", "--event", path, "--accountant", "prv").Stderr);
        Assert.Equal(2, CliRunner.Run("epsilon", "--event", path, "--delta", "1").ExitCode);
    }

    // dp_accounting: 10 epochs of two restarted trees of 235 steps each, σ 1.13, replace-special: ε(1e-5)
    // 67.54542820911871 at order 1.6. A self-composed tree event is how DP-FTRL over several epochs is written.
    [Fact]
    public void EpochsOfRestartedTrees()
    {
        var json = """{"type":"self_composed","event":{"type":"single_epoch_tree_aggregation","noise_multiplier":1.13,"step_counts":[235,235]},"count":10}""";
        var (code, stdout, stderr) = CliRunner.Run("epsilon", "--event", File(json), "--neighboring-relation", "replace-special", "--json");
        Assert.True(code == 0, stderr);
        var result = Assert.Single(Json(stdout).GetProperty("results").EnumerateArray(), r => r.GetProperty("accountant").GetString() == "rdp");
        Assert.Equal(67.54542820911871, result.GetProperty("epsilon").GetDouble(), 1e-12 * 67.5);
        Assert.Equal(1.6, result.GetProperty("optimal_order").GetDouble(), 12);
    }
}
