namespace DiffPriv.TestSupport;

/// <summary>
/// A write-only stream that fails as a full or read-only disk does once <paramref name="failAfter"/> bytes were written
/// (the seam of <c>AtomicFile</c> and the checkpoint writers). Shared by the test projects (linked into each).
/// </summary>
/// <param name="inner">The stream written until the failure.</param>
/// <param name="failAfter">Bytes accepted before the failure.</param>
/// <param name="failure">The message of the <see cref="IOException"/> thrown.</param>
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
