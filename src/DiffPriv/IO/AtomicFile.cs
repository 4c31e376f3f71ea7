namespace DiffPriv.IO;

/// <summary>
/// Writes a file so that readers see either its previous content or the complete new one: the bytes go to a temporary
/// file in the same folder, are flushed to the disk (fsync), and the temporary file is renamed over the target (a rename
/// within one file system replaces atomically). A write that fails (a full or read-only disk) removes the temporary file
/// and leaves the target as it was.
/// </summary>
public static class AtomicFile
{
    /// <summary>The temporary file beside <paramref name="path"/> that a write goes through.</summary>
    /// <param name="path">The target.</param>
    /// <returns>The temporary path.</returns>
    public static string TemporaryPath(string path) => path + ".tmp";

    /// <summary>Writes <paramref name="path"/> atomically with what <paramref name="write"/> puts into the stream.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="write">Writes the whole content; the stream is flushed and closed afterwards.</param>
    /// <param name="open">Opens the temporary file for writing (default: a new <see cref="FileStream"/>); a seam for tests that
    /// simulate a full or read-only disk. A <see cref="FileStream"/> is flushed to the disk before the rename.</param>
    /// <exception cref="IOException">Writing, flushing or renaming failed; the message names the file and says the previous
    /// content is unchanged. The original error is the inner exception.</exception>
    public static void Write(string path, Action<Stream> write, Func<string, Stream>? open = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        var temporary = TemporaryPath(path);
        try
        {
            using (var stream = (open ?? OpenFile)(temporary))
            {
                write(stream);
                if (stream is FileStream file)
                {
                    file.Flush(flushToDisk: true);
                }
                else
                {
                    stream.Flush();
                }
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new IOException(
                $"Could not write {path} ({e.Message}); {(File.Exists(path) ? "the previous version of it is unchanged" : "no file was written")}.", e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static FileStream OpenFile(string path) => new(path, FileMode.Create, FileAccess.Write, FileShare.None);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The temporary file is left behind; the next write replaces it.
        }
    }
}
