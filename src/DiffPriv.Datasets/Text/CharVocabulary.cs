using static TorchSharp.torch;

namespace DiffPriv.Datasets.Text;

/// <summary>
/// A character vocabulary fixed in advance from PUBLIC knowledge, never built from the training text: a vocabulary
/// collected from private data is itself a release of that data — a character that occurs in a single training
/// sentence (a foreign letter in a name, a rare symbol in an ID) would enter the model's output layer and reveal that
/// some training sentence contains it, whatever noise DP-SGD adds to the weights. Characters outside the set map to
/// <see cref="UnknownId"/>. Ids: 0 padding, 1 start of sequence, 2 end of sequence, 3 unknown, then the characters in
/// the order given.
/// </summary>
public sealed class CharVocabulary
{
    /// <summary>Id of padding (positions after the end of a shorter sequence in a batch; mask them out of the loss).</summary>
    public const long PadId = 0;

    /// <summary>Id of the start-of-sequence token that <see cref="Encode"/> puts first.</summary>
    public const long StartId = 1;

    /// <summary>Id of the optional end-of-sequence token (<see cref="Encode"/> with <c>appendEnd</c>).</summary>
    public const long EndId = 2;

    /// <summary>Id of every character outside the vocabulary.</summary>
    public const long UnknownId = 3;

    /// <summary>Number of special ids before the first character id.</summary>
    public const int SpecialCount = 4;

    /// <summary>The character <see cref="Decode"/> writes for <see cref="UnknownId"/> (U+FFFD, the Unicode replacement character).</summary>
    public const char UnknownCharacter = '\uFFFD';

    /// <summary>
    /// The public default set for lower-cased English text: the 69 printable ASCII characters other than upper-case
    /// letters — space, a–z, 0–9 and the 32 ASCII punctuation and symbol characters. 73 ids with the specials.
    /// </summary>
    public const string DefaultCharacters =
        " abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"()[]{}<>-_/\\&%$#@*+=~^|`";

    private readonly Dictionary<char, long> _ids = [];

    /// <summary>Creates a vocabulary over a fixed, public character set.</summary>
    /// <param name="characters">The characters, each once, no control characters; ids follow their order from <see cref="SpecialCount"/>.</param>
    /// <exception cref="ArgumentException">The set is empty, repeats a character, or holds a control character.</exception>
    public CharVocabulary(string characters)
    {
        ArgumentException.ThrowIfNullOrEmpty(characters);
        for (var i = 0; i < characters.Length; i++)
        {
            var c = characters[i];
            if (char.IsControl(c) || c == UnknownCharacter)
            {
                throw new ArgumentException($"The character U+{(int)c:X4} at index {i} cannot be in a vocabulary.", nameof(characters));
            }

            if (!_ids.TryAdd(c, SpecialCount + i))
            {
                throw new ArgumentException($"The character '{c}' appears twice (index {i}).", nameof(characters));
            }
        }

        Characters = characters;
    }

    /// <summary>The default vocabulary over <see cref="DefaultCharacters"/>.</summary>
    public static CharVocabulary Default { get; } = new(DefaultCharacters);

    /// <summary>The characters, in id order (the id of <c>Characters[i]</c> is <see cref="SpecialCount"/> + i).</summary>
    public string Characters { get; }

    /// <summary>Number of ids (specials plus characters): the embedding's and the output layer's size.</summary>
    public int Size => SpecialCount + Characters.Length;

    /// <summary>Whether <paramref name="c"/> has its own id.</summary>
    /// <param name="c">A character.</param>
    /// <returns>True if it is in the set.</returns>
    public bool Contains(char c) => _ids.ContainsKey(c);

    /// <summary>The id of a character, or <see cref="UnknownId"/>.</summary>
    /// <param name="c">A character.</param>
    /// <returns>An id in [<see cref="UnknownId"/>, <see cref="Size"/>).</returns>
    public long IdOf(char c) => _ids.TryGetValue(c, out var id) ? id : UnknownId;

    /// <summary>Encodes a text as <c>[StartId, id(text[0]), …, id(text[^1])]</c>, optionally followed by <see cref="EndId"/>.</summary>
    /// <param name="text">The text (already normalised: the default set has no upper-case letters).</param>
    /// <param name="appendEnd">Append <see cref="EndId"/>.</param>
    /// <returns>Length 1 + text.Length (+ 1 with <paramref name="appendEnd"/>).</returns>
    public long[] Encode(string text, bool appendEnd = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new long[1 + text.Length + (appendEnd ? 1 : 0)];
        ids[0] = StartId;
        for (var i = 0; i < text.Length; i++)
        {
            ids[i + 1] = IdOf(text[i]);
        }

        if (appendEnd)
        {
            ids[^1] = EndId;
        }

        return ids;
    }

    /// <summary>
    /// Turns ids back into text: padding and start ids are skipped, decoding stops at the first end id, and
    /// <see cref="UnknownId"/> becomes <see cref="UnknownCharacter"/>.
    /// </summary>
    /// <param name="ids">Ids in [0, <see cref="Size"/>).</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, <see cref="Size"/>).</exception>
    public string Decode(ReadOnlySpan<long> ids)
    {
        var chars = new char[ids.Length];
        var n = 0;
        foreach (var id in ids)
        {
            if (id is < 0 || id >= Size)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Ids must lie in [0, {Size}).");
            }

            switch (id)
            {
                case PadId or StartId:
                    continue;
                case EndId:
                    return new string(chars, 0, n);
                case UnknownId:
                    chars[n++] = UnknownCharacter;
                    break;
                default:
                    chars[n++] = Characters[(int)(id - SpecialCount)];
                    break;
            }
        }

        return new string(chars, 0, n);
    }

    /// <summary>
    /// Encodes a batch as an int64 tensor [B, T]: row b is <see cref="Encode"/>(texts[b], appendEnd) followed by
    /// <see cref="PadId"/> up to T. A language model reads positions 0..T−2 and predicts 1..T−1, ignoring padding.
    /// </summary>
    /// <param name="texts">B ≥ 1 texts.</param>
    /// <param name="length">T; null: the longest encoded text. Must be at least the longest encoded text.</param>
    /// <param name="appendEnd">Append <see cref="EndId"/> to each text.</param>
    /// <returns>A new CPU tensor, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The batch is empty or a text does not fit in <paramref name="length"/>.</exception>
    public Tensor EncodeBatch(IReadOnlyList<string> texts, int? length = null, bool appendEnd = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            throw new ArgumentException("The batch is empty.", nameof(texts));
        }

        var extra = appendEnd ? 2 : 1;
        var longest = texts.Max(t => t.Length) + extra;
        var width = length ?? longest;
        if (width < longest)
        {
            throw new ArgumentException($"A text needs {longest} positions with its start{(appendEnd ? " and end" : string.Empty)} token, more than length {width}.", nameof(length));
        }

        var values = new long[(long)texts.Count * width];
        for (var b = 0; b < texts.Count; b++)
        {
            Encode(texts[b], appendEnd).CopyTo(values, (long)b * width);
        }

        return tensor(values, [texts.Count, width], ScalarType.Int64);
    }
}
