using System.Diagnostics;
using DiffPriv.Data;

namespace DiffPriv.Cli.Tests;

/// <summary>
/// How the build lays out its output, where it matters to a running program. The compiler rewrites its output in
/// obj/ in place; if bin/ held a hard link to that file, a rebuild would change the assembly a running
/// <c>./diffpriv</c> has mapped, and the run would crash with corrupted constants.
/// </summary>
public class BuildLayoutTests
{
    [Fact]
    public void LoadedLibraryIsNotTheCompilersOutputFile()
    {
        var loaded = typeof(PrivacyEngine).Assembly.Location;
        var root = Datasets.FindRepositoryRoot() ?? throw new InvalidOperationException("The tests run outside a DiffPriv checkout.");

        // bin/<Configuration>/<framework>/ of this test project: the library's compiler output is obj/<Configuration>/<framework>/.
        var framework = new DirectoryInfo(Path.GetDirectoryName(loaded)!);
        var configuration = framework.Parent!.Name;
        var compiled = Path.Combine(root, "src", "DiffPriv", "obj", configuration, framework.Name, "DiffPriv.dll");
        Assert.True(File.Exists(compiled), $"no compiler output at {compiled}");

        Assert.NotEqual(Inode(compiled), Inode(loaded));
    }

    private static string Inode(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-L", "-c", "%d:%i", path]) { RedirectStandardOutput = true })!;
        var id = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        Assert.Equal(0, stat.ExitCode);
        return id;
    }
}
