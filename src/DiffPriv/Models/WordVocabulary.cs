using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace DiffPriv.Models;

/// <summary>
/// A word-level vocabulary built from PUBLIC text only, with the fixed tokenisation rule of <see cref="Tokenize"/>: id 0 is
/// padding (<see cref="PadId"/>), id 1 stands for every token outside the vocabulary (<see cref="UnknownId"/>), and ids
/// 2, 3, … are the most frequent tokens of the public text, most frequent first.
/// </summary>
/// <remarks>
/// <para>Why public text only: a vocabulary is a list of the words its text contains. Built from private records, it
/// would publish their rare words (a name, a diagnosis, an account number) with the model, a leak that no privacy
/// accountant sees. <see cref="Build"/> is meant for published corpora (the pretraining corpora); private text is only
/// ever <see cref="Encode(string)">encoded</see> with a finished vocabulary, which reveals nothing and costs no budget:
/// private words outside it become <see cref="UnknownId"/>.</para>
/// <para>The vocabulary is saved as UTF-8 text, one token per line in id order (<see cref="Save"/>); its
/// <see cref="Sha256"/> is the hash of that text, so a model's provenance can name the vocabulary it was trained with.</para>
/// </remarks>
public sealed partial class WordVocabulary
{
    /// <summary>The padding id, 0: the token of positions after the end of a short text.</summary>
    public const int PadId = 0;

    /// <summary>The id of every token the vocabulary does not hold, 1.</summary>
    public const int UnknownId = 1;

    /// <summary>The text of <see cref="PadId"/> in the saved form.</summary>
    public const string PadToken = "<pad>";

    /// <summary>The text of <see cref="UnknownId"/> in the saved form.</summary>
    public const string UnknownToken = "<unk>";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private WordVocabulary(string[] tokens)
    {
        _tokens = tokens;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            if (!_ids.TryAdd(tokens[i], i))
            {
                throw new FormatException($"The token '{tokens[i]}' appears twice (ids {_ids[tokens[i]]} and {i}).");
            }
        }

        Sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(SavedText())));
    }

    /// <summary>Number of ids, including <see cref="PadId"/> and <see cref="UnknownId"/>: the rows of an embedding over it.</summary>
    public int Size => _tokens.Length;

    /// <summary>The tokens in id order (index = id); the first two are <see cref="PadToken"/> and <see cref="UnknownToken"/>.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The SHA-256 (lower-case hex) of the saved form: equal vocabularies have equal hashes.</summary>
    public string Sha256 { get; }

    /// <summary>
    /// The tokenisation rule, fixed and data-independent: the text is lower-cased (invariant culture), HTML line breaks
    /// (<c>&lt;br /&gt;</c>) become spaces, and the tokens are, left to right, runs of letters with inner apostrophes
    /// (<c>don't</c>), runs of digits, and every other non-space character on its own (punctuation).
    /// </summary>
    /// <param name="text">Any text.</param>
    /// <returns>The tokens in order.</returns>
    public static IEnumerable<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lower = LineBreakTag().Replace(text, " ").ToLowerInvariant();
        foreach (Match match in TokenPattern().Matches(lower))
        {
            yield return match.Value;
        }
    }

    /// <summary>
    /// The vocabulary of the <paramref name="size"/> − 2 most frequent tokens of <paramref name="publicTexts"/> (ties in
    /// ordinal order of the token), after <see cref="PadToken"/> and <see cref="UnknownToken"/>. Fewer when the texts hold
    /// fewer distinct tokens. PUBLIC TEXT ONLY (see the class remarks).
    /// </summary>
    /// <param name="publicTexts">Published text.</param>
    /// <param name="size">The number of ids, ≥ 3.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 3.</exception>
    public static WordVocabulary Build(IEnumerable<string> publicTexts, int size)
    {
        ArgumentNullException.ThrowIfNull(publicTexts);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 3);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in publicTexts)
        {
            foreach (var token in Tokenize(text))
            {
                counts[token] = counts.GetValueOrDefault(token) + 1;
            }
        }

        var words = counts
            .OrderByDescending(kv => kv.Value)
            .ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(size - 2)
            .Select(kv => kv.Key);
        return new WordVocabulary([PadToken, UnknownToken, .. words]);
    }

    /// <summary>Reads a vocabulary saved by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file does not start with the two reserved tokens, holds an empty line or a token
    /// twice (the message names the file and the line).</exception>
    public static WordVocabulary Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var lines = File.ReadAllText(path, Encoding.UTF8).Split('\n');
        if (lines.Length > 0 && lines[^1].Length == 0)
        {
            lines = lines[..^1];
        }

        if (lines.Length < 2 || lines[0] != PadToken || lines[1] != UnknownToken)
        {
            throw new FormatException($"{path}: not a word vocabulary (its first two lines must be {PadToken} and {UnknownToken}).");
        }

        for (var i = 2; i < lines.Length; i++)
        {
            if (lines[i].Length == 0 || lines[i].Any(char.IsWhiteSpace))
            {
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{path}:{i + 1}: a token must be non-empty and hold no white space."));
            }
        }

        try
        {
            return new WordVocabulary(lines);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Writes the vocabulary as UTF-8 text, one token per line in id order (no byte-order mark).</summary>
    /// <param name="path">The file; replaced if it exists.</param>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllText(path, SavedText(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    /// <summary>The id of one token (as <see cref="Tokenize"/> produces it), or <see cref="UnknownId"/>.</summary>
    /// <param name="token">A token.</param>
    /// <returns>Its id.</returns>
    public int Id(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _ids.TryGetValue(token, out var id) && id > UnknownId ? id : UnknownId;
    }

    /// <summary>The ids of every token of <paramref name="text"/>, in order.</summary>
    /// <param name="text">Any text (private text is fine: encoding reveals nothing about it).</param>
    /// <returns>One id per token, none of them <see cref="PadId"/>.</returns>
    public long[] Encode(string text) => [.. Tokenize(text).Select(t => (long)Id(t))];

    /// <summary>
    /// The ids of <paramref name="text"/>, at most <paramref name="maxTokens"/> of them: a longer text keeps its first
    /// ⌈max/2⌉ and its last ⌊max/2⌋ tokens (the opening and the conclusion, where a review or a message tends to say what it
    /// thinks), a shorter one is returned whole. No padding.
    /// </summary>
    /// <param name="text">Any text.</param>
    /// <param name="maxTokens">The most ids returned, ≥ 1.</param>
    /// <returns>Between 0 and <paramref name="maxTokens"/> ids.</returns>
    public long[] Encode(string text, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        var all = Encode(text);
        if (all.Length <= maxTokens)
        {
            return all;
        }

        var tail = maxTokens / 2;
        var head = maxTokens - tail;
        return [.. all.AsSpan(0, head), .. all.AsSpan(all.Length - tail)];
    }

    /// <summary>The share of <paramref name="text"/>'s tokens outside the vocabulary, in [0, 1] (0 for a text without tokens).</summary>
    /// <param name="text">Any text.</param>
    /// <returns>Unknown tokens over all tokens.</returns>
    public double UnknownRate(string text)
    {
        var ids = Encode(text);
        return ids.Length == 0 ? 0 : ids.Count(i => i == UnknownId) / (double)ids.Length;
    }

    private string SavedText() => string.Join('\n', _tokens) + "\n";

    [GeneratedRegex(@"<br\s*/?>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LineBreakTag();

    [GeneratedRegex(@"\p{L}+(?:['’]\p{L}+)*|\p{Nd}+|[^\s\p{L}\p{Nd}]", RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();
}
