using System.Text.Json.Nodes;
using DiffPriv.Datasets;
using DiffPriv.Datasets.Ratings;

namespace DiffPriv.Cli.Tests;

/// <summary>A fact that needs MovieLens (r-cran-dslabs, 4.7 MB, about 1 s to fetch): skipped, with the reason, when it cannot be fetched here.</summary>
public sealed class MovieLensFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() =>
    {
        try
        {
            MovieLensRatings.Load();
            return null;
        }
        catch (DataFetchException e)
        {
            return e.Message;
        }
    });

    public MovieLensFactAttribute()
    {
        if (Unavailable.Value is { } reason)
        {
            Skip = $"MovieLens cannot be fetched on this machine ({reason}).";
        }
    }
}

/// <summary><c>diffpriv experiment user-level</c>: its JSON names the privacy unit of every setting; bad input exits 2.</summary>
public sealed partial class UserLevelExperimentCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-cli-user-level-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [MovieLensFact]
    public void AQuickUserLevelRunPrintsOneJsonObjectWithEpsilonPerUser()
    {
        var runDir = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = CliRunner.Run(
            "experiment", "user-level", "--quick", "--settings", "user-level", "--target-epsilon", "4", "--seeded-noise", "--out", runDir, "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!.AsObject();
        Assert.Equal(4.0, json["target_epsilon"]!.GetValue<double>());
        Assert.Equal(200, json["users"]!.GetValue<int>());
        var result = Assert.Single(json["results"]!.AsArray())!;
        Assert.Equal("user-level", result["setting"]!.GetValue<string>());
        Assert.Equal("user", result["privacy_unit"]!.GetValue<string>());
        Assert.InRange(result["epsilon"]!.GetValue<double>(), 3.8, 4.0);
        Assert.Equal(0.2, result["sampling_probability"]!.GetValue<double>(), 12); // 40 of 200 users
        Assert.Contains("privacy unit: user", stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(runDir, "report.md")));
    }

    [Theory]
    [InlineData("--target-epsilon", "0", "--target-epsilon must be a finite number > 0")]
    [InlineData("--delta", "1", "--delta must be in (0, 1)")]
    [InlineData("--settings", "user-level,bogus", "--settings takes distinct names from non-private, user-level, example-level")]
    public void BadInputExitsWithCodeTwoAndNamesTheOption(string option, string value, string message)
    {
        var (code, _, stderr) = CliRunner.Run("experiment", "user-level", option, value, "--out", Path.Combine(_dir, "never"));
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }
}
