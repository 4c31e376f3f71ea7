using System.Globalization;

namespace DiffPriv.Auditing.MembershipInference;

/// <summary>
/// Reads an <see cref="AttackInput"/> from CSV: a header, then one row per example with columns <c>split</c>
/// (<c>train</c> = member, <c>test</c> = non-member), <c>loss</c>, and optionally <c>label</c> (class index) and
/// <c>logit_0</c> … <c>logit_k</c> (k ≥ 1, all of them). Columns may come in any order; numbers use '.' as the decimal
/// separator; blank lines are skipped. Every problem is reported as a <see cref="FormatException"/> whose message names
/// the line (1 = the header) and the column (1-based, with its name).
/// </summary>
public static class AttackInputCsv
{
    private const string Split = "split";
    private const string Loss = "loss";
    private const string Label = "label";
    private const string LogitPrefix = "logit_";

    /// <summary>Reads the file at <paramref name="path"/>.</summary>
    /// <param name="path">A CSV file.</param>
    /// <returns>The input, validated.</returns>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FormatException">Malformed content; the message names the line and column.</exception>
    public static AttackInput ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"file not found: {path}", path);
        }

        using var reader = new StreamReader(path);
        return Read(reader);
    }

    /// <summary>Reads CSV text.</summary>
    /// <param name="reader">The text.</param>
    /// <returns>The input, validated.</returns>
    /// <exception cref="FormatException">Malformed content; the message names the line and column.</exception>
    public static AttackInput Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var header = reader.ReadLine();
        if (header is null || string.IsNullOrWhiteSpace(header))
        {
            throw new FormatException("line 1: no header; expected columns split, loss and optionally label, logit_0 … logit_k");
        }

        var names = header.Split(',').Select(Unquote).ToArray();
        int? splitColumn = null, lossColumn = null, labelColumn = null;
        var logitColumns = new SortedDictionary<int, int>();
        for (var c = 0; c < names.Length; c++)
        {
            var name = names[c];
            if (Array.IndexOf(names, name) != c)
            {
                throw new FormatException($"line 1, column {c + 1} ({name}): duplicate column");
            }

            switch (name)
            {
                case Split:
                    splitColumn = c;
                    break;
                case Loss:
                    lossColumn = c;
                    break;
                case Label:
                    labelColumn = c;
                    break;
                default:
                    if (name.StartsWith(LogitPrefix, StringComparison.Ordinal)
                        && int.TryParse(name.AsSpan(LogitPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var k))
                    {
                        logitColumns[k] = c;
                        break;
                    }

                    throw new FormatException($"line 1, column {c + 1} ({name}): unknown column; expected split, loss, label, logit_0 … logit_k");
            }
        }

        if (splitColumn is null)
        {
            throw new FormatException("line 1: missing column 'split' (train = member, test = non-member)");
        }

        if (lossColumn is null)
        {
            throw new FormatException("line 1: missing column 'loss' (the per-example loss)");
        }

        var classes = logitColumns.Count;
        if (classes > 0)
        {
            var missing = Enumerable.Range(0, classes).FirstOrDefault(k => !logitColumns.ContainsKey(k), -1);
            if (missing >= 0)
            {
                throw new FormatException($"line 1: missing column 'logit_{missing}' (logit columns must be logit_0 … logit_{classes - 1})");
            }

            if (classes < 2)
            {
                throw new FormatException("line 1: only one logit column; give logit_0 … logit_k for k + 1 ≥ 2 classes");
            }
        }

        var memberLosses = new List<double>();
        var nonMemberLosses = new List<double>();
        var memberLogits = new List<IReadOnlyList<double>>();
        var nonMemberLogits = new List<IReadOnlyList<double>>();
        var memberLabels = new List<int>();
        var nonMemberLabels = new List<int>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var fields = line.Split(',');
            if (fields.Length != names.Length)
            {
                throw new FormatException($"line {lineNumber}: {fields.Length} fields, expected {names.Length} (one per header column)");
            }

            var split = Unquote(fields[splitColumn.Value]);
            var isMember = split switch
            {
                "train" => true,
                "test" => false,
                _ => throw new FormatException($"line {lineNumber}, column {splitColumn + 1} (split): '{split}' is neither 'train' nor 'test'"),
            };
            var loss = Number(fields, lossColumn.Value, names, lineNumber);
            (isMember ? memberLosses : nonMemberLosses).Add(loss);
            if (classes > 0)
            {
                var logits = new double[classes];
                for (var k = 0; k < classes; k++)
                {
                    logits[k] = Number(fields, logitColumns[k], names, lineNumber);
                }

                (isMember ? memberLogits : nonMemberLogits).Add(logits);
            }

            if (labelColumn is { } lc)
            {
                var text = Unquote(fields[lc]);
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var label) || label < 0)
                {
                    throw new FormatException($"line {lineNumber}, column {lc + 1} (label): '{text}' is not a class index (an integer ≥ 0)");
                }

                if (classes > 0 && label >= classes)
                {
                    throw new FormatException($"line {lineNumber}, column {lc + 1} (label): class {label} has no logit column (logit_0 … logit_{classes - 1})");
                }

                (isMember ? memberLabels : nonMemberLabels).Add(label);
            }
        }

        if (memberLosses.Count == 0 || nonMemberLosses.Count == 0)
        {
            var present = memberLosses.Count == 0 ? "test" : "train";
            throw new FormatException(
                memberLosses.Count + nonMemberLosses.Count == 0
                    ? "line 1: no data rows after the header"
                    : $"column {splitColumn + 1} (split): every row is '{present}'; membership inference needs both train (member) and test (non-member) rows");
        }

        var input = new AttackInput
        {
            MemberLosses = memberLosses,
            NonMemberLosses = nonMemberLosses,
            MemberLogits = classes > 0 ? memberLogits : null,
            NonMemberLogits = classes > 0 ? nonMemberLogits : null,
            MemberLabels = labelColumn is not null ? memberLabels : null,
            NonMemberLabels = labelColumn is not null ? nonMemberLabels : null,
        };
        input.Validate();
        return input;
    }

    private static string Unquote(string field)
    {
        var t = field.Trim();
        return t.Length >= 2 && t[0] == '"' && t[^1] == '"' ? t[1..^1].Trim() : t;
    }

    private static double Number(string[] fields, int column, string[] names, int line)
    {
        var text = Unquote(fields[column]);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            throw new FormatException($"line {line}, column {column + 1} ({names[column]}): '{text}' is not a number");
        }

        if (!double.IsFinite(value))
        {
            throw new FormatException($"line {line}, column {column + 1} ({names[column]}): '{text}' is not a finite number");
        }

        return value;
    }
}
