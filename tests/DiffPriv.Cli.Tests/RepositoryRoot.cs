namespace DiffPriv.Cli.Tests;

/// <summary>The checkout these tests were built in (for tests about the repository's own files).</summary>
internal static class RepositoryRoot
{
    /// <summary>The folder holding DiffPriv.slnx.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "DiffPriv.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("These tests run from the test project's output folder inside the checkout.");
    }
}
