using System.Text;

namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// A canary format: literal text with random slots, e.g. <c>"my pin is {d}{d}{d}{d}{d}{d}"</c> (Carlini et al. 2019,
/// "The Secret Sharer", §3: "the random number is ▢▢▢▢▢▢"). <c>{d}</c> is a digit 0–9, <c>{l}</c> a lower-case letter
/// a–z; <c>{{</c> and <c>}}</c> are literal braces. Every secret of the format has the same length, so scores of
/// different secrets are comparable. The candidate space has <see cref="SpaceSize"/> members (10⁶ for six digits).
/// </summary>
public sealed class CanaryFormat
{
    private const string Digits = "0123456789";
    private const string Letters = "abcdefghijklmnopqrstuvwxyz";

    // Literal text before each slot, and after the last one.
    private readonly string[] _literals;
    private readonly string[] _alphabets;

    /// <summary>Parses a format.</summary>
    /// <param name="template">Text with at least one slot <c>{d}</c> or <c>{l}</c>.</param>
    /// <exception cref="ArgumentException">No slot, an unknown <c>{…}</c> or an unmatched brace.</exception>
    public CanaryFormat(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var literals = new List<string>();
        var alphabets = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{')
            {
                current.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < template.Length && template[i + 1] == '}')
            {
                current.Append('}');
                i++;
            }
            else if (c == '{' && i + 2 < template.Length && template[i + 2] == '}' && template[i + 1] is 'd' or 'l')
            {
                literals.Add(current.ToString());
                current.Clear();
                alphabets.Add(template[i + 1] == 'd' ? Digits : Letters);
                i += 2;
            }
            else if (c is '{' or '}')
            {
                throw new ArgumentException(
                    $"Unexpected '{c}' at position {i} of the canary format \"{template}\": slots are {{d}} (digit) and {{l}} (letter); write {{{{ or }}}} for a literal brace.",
                    nameof(template));
            }
            else
            {
                current.Append(c);
            }
        }

        literals.Add(current.ToString());
        if (alphabets.Count == 0)
        {
            throw new ArgumentException($"The canary format \"{template}\" has no random slot ({{d}} or {{l}}).", nameof(template));
        }

        Template = template;
        _literals = [.. literals];
        _alphabets = [.. alphabets];
        Log2SpaceSize = _alphabets.Sum(a => Math.Log2(a.Length));
        SpaceSize = _alphabets.Aggregate(1.0, (size, a) => size * a.Length);
    }

    /// <summary>The format as given.</summary>
    public string Template { get; }

    /// <summary>The number of random slots.</summary>
    public int SlotCount => _alphabets.Length;

    /// <summary>The number of distinct secrets of the format (exact below 2⁵³).</summary>
    public double SpaceSize { get; }

    /// <summary>log2 of <see cref="SpaceSize"/>: the largest exposure any secret of the format can have (bits).</summary>
    public double Log2SpaceSize { get; }

    /// <summary>The length in characters of every secret of the format.</summary>
    public int SecretLength => _literals.Sum(l => l.Length) + _alphabets.Length;

    /// <summary>A secret drawn uniformly from the format's space: each slot independently uniform over its alphabet.</summary>
    /// <param name="nextInt">Returns a uniform integer in [0, n) for its argument n ≥ 1.</param>
    public string Sample(Func<int, int> nextInt)
    {
        ArgumentNullException.ThrowIfNull(nextInt);
        var symbols = new int[_alphabets.Length];
        for (var s = 0; s < symbols.Length; s++)
        {
            symbols[s] = Draw(nextInt, _alphabets[s].Length);
        }

        return Render(symbols);
    }

    /// <summary>Whether <paramref name="text"/> is a secret of this format.</summary>
    public bool Matches(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length != SecretLength)
        {
            return false;
        }

        var position = 0;
        for (var s = 0; s <= _alphabets.Length; s++)
        {
            if (string.CompareOrdinal(text, position, _literals[s], 0, _literals[s].Length) != 0)
            {
                return false;
            }

            position += _literals[s].Length;
            if (s < _alphabets.Length)
            {
                if (!_alphabets[s].Contains(text[position], StringComparison.Ordinal))
                {
                    return false;
                }

                position++;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => Template;

    /// <summary>The secret with the given index in [0, <see cref="SpaceSize"/>) (mixed radix, last slot fastest).</summary>
    internal string FromIndex(long index)
    {
        var symbols = new int[_alphabets.Length];
        for (var s = symbols.Length - 1; s >= 0; s--)
        {
            var radix = _alphabets[s].Length;
            symbols[s] = (int)(index % radix);
            index /= radix;
        }

        return Render(symbols);
    }

    /// <summary>The number of distinct values of the first <paramref name="slots"/> slots together.</summary>
    internal double PrefixSpaceSize(int slots) => _alphabets.Take(slots).Aggregate(1.0, (size, a) => size * a.Length);

    /// <summary>The symbols in the first <paramref name="slots"/> slots of a secret of this format, e.g. "281" for
    /// <c>"my pin is 281974"</c> and 3 slots.</summary>
    internal string SlotPrefix(string secret, int slots)
    {
        var prefix = new StringBuilder(slots);
        var position = 0;
        for (var s = 0; s < slots; s++)
        {
            position += _literals[s].Length;
            prefix.Append(secret[position]);
            position++;
        }

        return prefix.ToString();
    }

    /// <summary>nextInt(n), checked to be in [0, n).</summary>
    internal static int Draw(Func<int, int> nextInt, int n)
    {
        var k = nextInt(n);
        if (k < 0 || k >= n)
        {
            throw new InvalidOperationException($"The random source returned {k} for a draw in [0, {n}).");
        }

        return k;
    }

    private string Render(int[] symbols)
    {
        var text = new StringBuilder(SecretLength);
        for (var s = 0; s < symbols.Length; s++)
        {
            text.Append(_literals[s]).Append(_alphabets[s][symbols[s]]);
        }

        return text.Append(_literals[^1]).ToString();
    }
}
