using DiffPriv.IO;
using DiffPriv.TestSupport;

namespace DiffPriv.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffpriv-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AWriteReplacesTheFileWholeAndLeavesNoTemporaryFile()
    {
        var path = Path.Combine(_dir, "state.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        AtomicFile.Write(path, s => s.Write([4, 5, 6, 7]));
        Assert.Equal([4, 5, 6, 7], File.ReadAllBytes(path));
        Assert.False(File.Exists(AtomicFile.TemporaryPath(path)));
        Assert.Equal(Path.GetDirectoryName(path), Path.GetDirectoryName(AtomicFile.TemporaryPath(path)));
    }

    [Theory]
    [InlineData("No space left on device")]
    [InlineData("Read-only file system")]
    public void AFailingWriteSaysSoAndKeepsTheLastGoodFile(string failure)
    {
        var path = Path.Combine(_dir, "state.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        var error = Assert.Throws<IOException>(() =>
            AtomicFile.Write(path, s => s.Write(new byte[10_000]), open: p => new FailingStream(File.Create(p), failAfter: 4096, failure)));
        Assert.Contains(path, error.Message);
        Assert.Contains(failure, error.Message);
        Assert.Contains("previous version of it is unchanged", error.Message);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.False(File.Exists(AtomicFile.TemporaryPath(path)));

        // Without a previous file, nothing is left behind.
        var fresh = Path.Combine(_dir, "fresh.bin");
        Assert.Contains("no file was written", Assert.Throws<IOException>(() =>
            AtomicFile.Write(fresh, s => s.Write(new byte[10]), open: _ => throw new UnauthorizedAccessException(failure))).Message);
        Assert.False(File.Exists(fresh));
    }
}
