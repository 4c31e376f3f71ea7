using System.Text;

namespace DiffPriv.Datasets.Text;

/// <summary>
/// Turns running text into training sequences for a character-level language model: blocks (paragraphs, table rows)
/// → sentences (a rule-based splitter) → lower-cased, whitespace-normalised sentences → sequences of at most
/// <see cref="DefaultMaxSequenceLength"/> characters cut at word boundaries. Each sequence is one privacy unit.
/// Nothing is dropped or deduplicated here apart from whitespace.
/// </summary>
public static class TextProcessing
{
    /// <summary>The longest sequence in characters (80, TF Privacy's character-LM tutorial); the start token comes on top.</summary>
    public const int DefaultMaxSequenceLength = 80;

    private static readonly HashSet<string> AbbreviationSet = new(
        [
            // Titles and name parts.
            "mr", "mrs", "ms", "dr", "prof", "sen", "sens", "rep", "reps", "gov", "gen", "col", "lt", "capt", "sgt", "adm",
            "st", "jr", "sr", "messrs", "rev", "alex",

            // Months as abbreviated in dates ("Jan. 5"); "mar", "may" and "june" are words, so left out.
            "jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",

            // U.S. states as abbreviated in datelines; the ones that are also words ("ind", "miss", "wash") are left out.
            "ala", "ariz", "ark", "calif", "colo", "conn", "fla", "ill", "kan", "kans", "mich", "minn", "mont", "neb", "nev",
            "okla", "tenn", "tex", "wis", "wyo",

            // Others that precede a number or a name.
            "no", "nos", "vs", "approx", "dept", "fig", "ft", "mt", "pt", "vol", "etc", "cf",
        ],
        StringComparer.Ordinal);

    /// <summary>
    /// Lower-case words (without their period) after which a period does not end a sentence. Initials such as
    /// <c>u.s.</c>, <c>e.f.</c> or a single letter are recognised by their shape. <c>inc</c>, <c>corp</c>, <c>co</c>,
    /// <c>ltd</c>, <c>mln</c>, <c>dlrs</c> and <c>pct</c> are NOT abbreviations here: Reuters writes them without a period, so
    /// "… Morgan Stanley Inc. It makes sense …" or "… 57 mln. No other details …" end a sentence.
    /// </summary>
    public static IReadOnlySet<string> Abbreviations => AbbreviationSet;

    /// <summary>Lower-cases (invariant culture) and normalises whitespace: runs of white space become one space; the ends are trimmed.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The normalised text.</returns>
    public static string Normalize(string text) => CollapseWhitespace(text).ToLowerInvariant();

    /// <summary>Replaces every run of white space (including line breaks) by one space and trims the ends; case is kept.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The text with single spaces.</returns>
    public static string CollapseWhitespace(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = result.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                result.Append(' ');
                pendingSpace = false;
            }

            result.Append(c);
        }

        return result.ToString();
    }

    /// <summary>
    /// Splits a document into blocks at hard line breaks: a line break followed by indentation or by another line break.
    /// Newswire wraps prose lines without indentation and starts paragraphs and table rows with it, so a block is a
    /// paragraph or one table row. Blocks are returned with their inner line breaks (use <see cref="SplitSentences"/>).
    /// </summary>
    /// <param name="document">The document text.</param>
    /// <returns>The non-blank blocks, in order.</returns>
    public static IReadOnlyList<string> SplitBlocks(string document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var blocks = new List<string>();
        var start = 0;
        for (var i = 0; i < document.Length; i++)
        {
            if (document[i] == '\n' && i + 1 < document.Length && document[i + 1] is ' ' or '\t' or '\n' or '\r')
            {
                Add(document[start..i]);
                start = i + 1;
            }
        }

        Add(document[start..]);
        return blocks;

        void Add(string block)
        {
            if (!string.IsNullOrWhiteSpace(block))
            {
                blocks.Add(block);
            }
        }
    }

    /// <summary>
    /// Splits one block into sentences with simple rules on the ORIGINAL case (call before lower-casing): a sentence ends
    /// at <c>.</c>, <c>!</c> or <c>?</c> (plus any closing quotes or brackets) followed by a space and then an upper-case
    /// letter or a digit (after optional opening quotes or brackets) — except after an abbreviation
    /// (<see cref="Abbreviations"/>), after initials (<c>U.S.</c>, <c>J.</c>), or inside a run of periods (an
    /// ellipsis or a table's dot leaders). Whitespace is normalised; case is kept.
    /// </summary>
    /// <param name="block">A paragraph (see <see cref="SplitBlocks"/>).</param>
    /// <returns>The sentences, in order; joined with spaces they give back the whitespace-normalised block.</returns>
    public static IReadOnlyList<string> SplitSentences(string block)
    {
        var text = CollapseWhitespace(block);
        var sentences = new List<string>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is not ('.' or '!' or '?'))
            {
                continue;
            }

            if (c == '.' && ((i > 0 && text[i - 1] == '.') || (i + 1 < text.Length && text[i + 1] == '.')))
            {
                continue;
            }

            var end = i + 1;
            while (end < text.Length && text[end] is '"' or '\'' or ')' or ']')
            {
                end++;
            }

            if (end + 1 >= text.Length || text[end] != ' ')
            {
                continue;
            }

            var next = end + 1;
            while (next < text.Length && text[next] is '"' or '\'' or '(' or '[' or '<')
            {
                next++;
            }

            if (next == text.Length || !(char.IsUpper(text[next]) || char.IsAsciiDigit(text[next])))
            {
                continue;
            }

            if (c == '.' && IsAbbreviation(WordBefore(text, i)))
            {
                continue;
            }

            sentences.Add(text[start..end]);
            start = end + 1;
            i = end;
        }

        if (start < text.Length)
        {
            sentences.Add(text[start..]);
        }

        return sentences;
    }

    /// <summary>
    /// Cuts a sentence into pieces of at most <paramref name="maxLength"/> characters at spaces: the fewest pieces
    /// possible, with lengths as even as possible (a 90-character sentence gives two pieces of about 45, not 80 + 10).
    /// A single word longer than <paramref name="maxLength"/> is cut inside the word. Spaces at the cuts are dropped; no
    /// other character is lost or changed.
    /// </summary>
    /// <param name="sentence">A whitespace-normalised sentence (single spaces, no leading or trailing space).</param>
    /// <param name="maxLength">The longest piece, ≥ 1.</param>
    /// <returns>The pieces, in order (none for an empty sentence).</returns>
    public static IReadOnlyList<string> CutIntoSequences(string sentence, int maxLength = DefaultMaxSequenceLength)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        if (sentence.Length <= maxLength)
        {
            return sentence.Length == 0 ? [] : [sentence];
        }

        // Tokens: the words, with over-long words cut into chunks of maxLength that join without a space.
        var tokens = new List<(string Text, bool SpaceBefore)>();
        foreach (var word in sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            for (var at = 0; at < word.Length; at += maxLength)
            {
                tokens.Add((word[at..Math.Min(word.Length, at + maxLength)], at == 0 && tokens.Count > 0));
            }
        }

        var fewest = Pack(tokens, maxLength)!;
        var total = tokens.Sum(t => t.Text.Length + (t.SpaceBefore ? 1 : 0));
        for (var width = Math.Max(1, (total - (fewest.Count - 1)) / fewest.Count); width < maxLength; width++)
        {
            if (Pack(tokens, width) is { } even && even.Count <= fewest.Count)
            {
                return even;
            }
        }

        return fewest;
    }

    /// <summary>The sentences of a document: <see cref="SplitBlocks"/>, then <see cref="SplitSentences"/> of each block.</summary>
    /// <param name="document">Running text.</param>
    /// <returns>Whitespace-normalised sentences with their original case.</returns>
    public static IReadOnlyList<string> Sentences(string document) =>
        [.. SplitBlocks(document).SelectMany(SplitSentences)];

    /// <summary>The training sequences of sentences: each is <see cref="Normalize"/>d, then <see cref="CutIntoSequences"/>.</summary>
    /// <param name="sentences">Sentences.</param>
    /// <param name="maxLength">The longest sequence.</param>
    /// <returns>The sequences, in order.</returns>
    public static IReadOnlyList<string> ToSequences(IEnumerable<string> sentences, int maxLength = DefaultMaxSequenceLength)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        return [.. sentences.SelectMany(s => CutIntoSequences(Normalize(s), maxLength))];
    }

    // Greedy packing with the given width; null when a token is wider.
    private static List<string>? Pack(List<(string Text, bool SpaceBefore)> tokens, int width)
    {
        var pieces = new List<string>();
        var current = new StringBuilder();
        foreach (var (text, spaceBefore) in tokens)
        {
            if (text.Length > width)
            {
                return null;
            }

            var joined = current.Length + (spaceBefore ? 1 : 0) + text.Length;
            if (current.Length > 0 && joined > width)
            {
                pieces.Add(current.ToString());
                current.Clear();
            }
            else if (current.Length > 0 && spaceBefore)
            {
                current.Append(' ');
            }

            current.Append(text);
        }

        if (current.Length > 0)
        {
            pieces.Add(current.ToString());
        }

        return pieces;
    }

    private static string WordBefore(string text, int period)
    {
        var start = text.LastIndexOf(' ', Math.Max(0, period - 1)) + 1;
        while (start < period && text[start] is '"' or '\'' or '(' or '[' or '<')
        {
            start++;
        }

        return text[start..period].ToLowerInvariant();
    }

    // "u.s", "e.f", "j": single letters joined by periods.
    private static bool IsAbbreviation(string word)
    {
        if (AbbreviationSet.Contains(word))
        {
            return true;
        }

        if (word.Length == 0)
        {
            return false;
        }

        for (var i = 0; i < word.Length; i++)
        {
            var expectLetter = i % 2 == 0;
            if (expectLetter ? !char.IsLetter(word[i]) : word[i] != '.')
            {
                return false;
            }
        }

        return word.Length % 2 == 1;
    }
}
