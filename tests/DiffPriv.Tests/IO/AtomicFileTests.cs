using DiffPriv.IO;

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

    /// <summary>A file stream that fails like a full or read-only disk once <c>failAfter</c> bytes were written.</summary>
    internal sealed class FailingStream(Stream inner, long failAfter, string failure) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_written + count > failAfter)
            {
                throw new IOException(failure);
            }

            inner.Write(buffer, offset, count);
            _written += count;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
