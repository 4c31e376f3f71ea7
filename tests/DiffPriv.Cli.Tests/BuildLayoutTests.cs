using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DiffPriv.Cli.Tests;

/// <summary>
/// The layering of the libraries, checked on what the build resolved (each project's <c>obj/project.assets.json</c>,
/// the dependency closure NuGet restored, not the text of the project files), and how the build lays out its output.
/// </summary>
public partial class BuildLayoutTests
{
    /// <summary>Each library and the projects it may reference directly (its closure follows from these).</summary>
    public static TheoryData<string, string[]> AllowedReferences => new()
    {
        { "DiffPriv.Accounting", [] },
        { "DiffPriv.Auditing", ["DiffPriv.Accounting"] },
        { "DiffPriv", ["DiffPriv.Accounting"] },
        { "DiffPriv.Datasets", ["DiffPriv"] },
        { "DiffPriv.Distributed", ["DiffPriv"] },
        { "DiffPriv.Experiments", ["DiffPriv.Datasets", "DiffPriv.Auditing", "DiffPriv.Distributed"] },
        { "DiffPriv.Cli", ["DiffPriv.Experiments"] },
    };

    private static readonly string[] Libraries =
        ["DiffPriv.Accounting", "DiffPriv.Auditing", "DiffPriv", "DiffPriv.Datasets", "DiffPriv.Distributed", "DiffPriv.Experiments", "DiffPriv.Cli"];

    [Theory]
    [MemberData(nameof(AllowedReferences))]
    public void ProjectReferencesOnlyTheLayersBelowIt(string project, string[] allowed)
    {
        var direct = Assets(project).DirectProjects;
        var extra = direct.Except(allowed).ToList();
        Assert.True(extra.Count == 0, $"{project} references {string.Join(", ", extra)}; it may reference only {string.Join(", ", allowed)}");
    }

    [Theory]
    [InlineData("DiffPriv.Accounting")]
    [InlineData("DiffPriv.Auditing")]
    public void AccountingAndAuditingNeverLoadTorchSharp(string project)
    {
        var packages = Assets(project).Packages;
        var torch = packages.Where(IsTorch).ToList();
        Assert.True(torch.Count == 0, $"{project}'s dependency closure holds {string.Join(", ", torch)}");
    }

    [Theory]
    [InlineData("DiffPriv")]
    [InlineData("DiffPriv.Datasets")]
    [InlineData("DiffPriv.Distributed")]
    [InlineData("DiffPriv.Experiments")]
    public void LibrariesUseManagedTorchSharpOnly(string project)
    {
        var packages = Assets(project).Packages;
        Assert.Contains("TorchSharp", packages);
        var native = packages.Where(p => p.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase) || p.StartsWith("TorchSharp-", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(native.Count == 0, $"{project} pulls in a libtorch backend ({string.Join(", ", native)}); the application chooses it");
    }

    [Fact]
    public void ClosureFollowsTheLayers()
    {
        // The whole closure, not just direct references: Auditing must not reach DiffPriv through anything.
        Assert.Empty(Assets("DiffPriv.Accounting").Projects);
        Assert.Equal(["DiffPriv.Accounting"], Assets("DiffPriv.Auditing").Projects);
        Assert.Equal(["DiffPriv.Accounting"], Assets("DiffPriv").Projects);
        Assert.Equal(["DiffPriv", "DiffPriv.Accounting"], Assets("DiffPriv.Datasets").Projects);
        Assert.Equal(["DiffPriv", "DiffPriv.Accounting"], Assets("DiffPriv.Distributed").Projects);
        Assert.Equal(["DiffPriv", "DiffPriv.Accounting", "DiffPriv.Auditing", "DiffPriv.Datasets", "DiffPriv.Distributed"], Assets("DiffPriv.Experiments").Projects);
    }

    [Fact]
    public void CliDoesNotUseTorchSharp()
    {
        var offenders = SourceFiles("DiffPriv.Cli").Where(f => File.ReadLines(f).Any(l => l.TrimStart().StartsWith("using TorchSharp", StringComparison.Ordinal) ||
            l.Contains("using static TorchSharp", StringComparison.Ordinal))).ToList();
        Assert.True(offenders.Count == 0, $"the CLI parses, calls and prints; TorchSharp code belongs in a library: {string.Join(", ", offenders)}");
    }

    [Fact]
    public void LibrariesNeverLookForTheRepository()
    {
        var offenders = new List<string>();
        foreach (var file in Libraries.SelectMany(SourceFiles))
        {
            var text = File.ReadAllText(file);
            if (text.Contains("CallerFilePath", StringComparison.Ordinal) || text.Contains("FindRepositoryRoot", StringComparison.Ordinal) ||
                ScriptsPath().IsMatch(text))
            {
                offenders.Add(Path.GetRelativePath(Root, file));
            }
        }

        Assert.True(offenders.Count == 0, $"a library found through the checkout does not work from a package: {string.Join(", ", offenders)}");
    }

    /// <summary>
    /// The compiler rewrites its output in obj/ in place; if bin/ held a hard link to that file, a rebuild would change
    /// the assembly a running <c>./diffpriv</c> has mapped, and the run would crash with corrupted constants.
    /// </summary>
    [Fact]
    public void LoadedLibraryIsNotTheCompilersOutputFile()
    {
        var loaded = typeof(PrivacyEngine).Assembly.Location;

        // bin/<Configuration>/<framework>/ of this test project: the library's compiler output is obj/<Configuration>/<framework>/.
        var framework = new DirectoryInfo(Path.GetDirectoryName(loaded)!);
        var configuration = framework.Parent!.Name;
        var compiled = Path.Combine(Root, "src", "DiffPriv", "obj", configuration, framework.Name, "DiffPriv.dll");
        Assert.True(File.Exists(compiled), $"no compiler output at {compiled}");

        Assert.NotEqual(Inode(compiled), Inode(loaded));
    }

    [Fact]
    public void AssetsReaderSeesTorchSharpInTheCore()
    {
        // The reader itself: a closure it reads as empty would make every "no TorchSharp" check above pass vacuously.
        Assert.Contains("TorchSharp", Assets("DiffPriv").Packages);
        Assert.Contains("TorchSharp", Assets("DiffPriv.Cli").Packages);
        Assert.Contains("DiffPriv.Experiments", Assets("DiffPriv.Cli").Projects);
    }

    private static bool IsTorch(string package) =>
        package.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase) || package.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase);

    private static string Root => RepositoryRoot.Path;

    private static IEnumerable<string> SourceFiles(string project) =>
        Directory.EnumerateFiles(Path.Combine(Root, "src", project), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) &&
                        !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    private sealed record ResolvedAssets(List<string> DirectProjects, List<string> Projects, List<string> Packages);

    private static ResolvedAssets Assets(string project)
    {
        var path = Path.Combine(Root, "src", project, "obj", "project.assets.json");
        Assert.True(File.Exists(path), $"{path} is missing: restore the solution first");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var projects = new List<string>();
        var packages = new List<string>();
        foreach (var target in doc.RootElement.GetProperty("targets").EnumerateObject())
        {
            foreach (var library in target.Value.EnumerateObject())
            {
                var name = library.Name.Split('/')[0];
                var list = library.Value.GetProperty("type").GetString() == "project" ? projects : packages;
                if (!list.Contains(name))
                {
                    list.Add(name);
                }
            }
        }

        var direct = new List<string>();
        foreach (var framework in doc.RootElement.GetProperty("project").GetProperty("restore").GetProperty("frameworks").EnumerateObject())
        {
            foreach (var reference in framework.Value.GetProperty("projectReferences").EnumerateObject())
            {
                direct.Add(Path.GetFileNameWithoutExtension(reference.Name));
            }
        }

        projects.Sort(StringComparer.Ordinal);
        return new ResolvedAssets(direct, projects, packages);
    }

    private static string Inode(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-L", "-c", "%d:%i", path]) { RedirectStandardOutput = true })!;
        var id = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        Assert.Equal(0, stat.ExitCode);
        return id;
    }

    [GeneratedRegex(@"scripts/[\w.-]+\.sh")]
    private static partial Regex ScriptsPath();
}
