using System.Text;

namespace DiffPriv.Models;

/// <summary>
/// The byte-level vocabulary of <see cref="ModelZoo.ByteTransformerLm"/>: the 256 byte values of UTF-8 text are the token
/// ids 0–255, followed by two reserved ids, <see cref="PadId"/> and <see cref="ClassificationId"/>, for fine-tuning.
/// </summary>
/// <remarks>
/// The vocabulary is public by construction: it is fixed in advance and never built from any text, so no vocabulary (no
/// list of words or characters) is ever derived from private data, and tokenising private text reveals nothing through
/// the vocabulary and costs no privacy budget. Any text, in any language, encodes without unknown tokens.
/// </remarks>
public static class ByteVocabulary
{
    /// <summary>Number of byte values, 256: the ids 0–255 and the width of the language model's output.</summary>
    public const int ByteCount = 256;

    /// <summary>The reserved padding id, 256 (never produced by <see cref="Encode"/>).</summary>
    public const int PadId = 256;

    /// <summary>The reserved classification id, 257 (e.g. a [CLS] position for fine-tuning a classifier).</summary>
    public const int ClassificationId = 257;

    /// <summary>Number of token ids, 258: the input width of the embedding.</summary>
    public const int Size = 258;

    /// <summary>The UTF-8 bytes of <paramref name="text"/> as token ids in [0, 255].</summary>
    /// <param name="text">Any text.</param>
    /// <returns>One id per UTF-8 byte.</returns>
    public static long[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. Encoding.UTF8.GetBytes(text).Select(b => (long)b)];
    }

    /// <summary>The text of byte ids; reserved ids are skipped, invalid UTF-8 becomes U+FFFD.</summary>
    /// <param name="ids">Token ids in [0, <see cref="Size"/>).</param>
    /// <returns>The decoded text.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, <see cref="Size"/>).</exception>
    public static string Decode(IEnumerable<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(id, nameof(ids));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, Size, nameof(ids));
            if (id < ByteCount)
            {
                bytes.Add((byte)id);
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }
}
