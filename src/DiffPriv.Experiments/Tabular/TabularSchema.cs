using System.Globalization;
using System.Text.Json;

namespace DiffPriv.Experiments.Tabular;

/// <summary>One column as a schema declares it: its kind and, optionally, its public range or categories.</summary>
/// <param name="Kind">Numeric, categorical or ignored.</param>
/// <param name="Range">A numeric column's public [low, high] (values outside are clipped); null: estimated with DP.</param>
/// <param name="Impute">A numeric column's public value for a missing entry; null: the middle of the range.</param>
/// <param name="Categories">A categorical column's public categories (other values count as "other"); null: released with DP.</param>
internal sealed record SchemaColumn(TabularColumnKind Kind, (double Low, double High)? Range, double? Impute, IReadOnlyList<string>? Categories);

/// <summary>
/// The user's declaration of what is public about a table (<c>--schema FILE</c>), JSON:
/// <c>{"columns": {"age": {"type": "numeric", "range": [0, 120]}, "sex": {"type": "categorical", "categories": ["f", "m"]},
/// "id": {"type": "ignore"}}, "target": {"name": "income", "classes": ["&lt;=50K", "&gt;50K"]}, "missing": ["", "?", "NA"]}</c>.
/// Every key is optional; an unknown key is an error (a misspelt key would silently cost privacy). A numeric column may
/// also give <c>"impute"</c>, its public value for a missing entry. Columns the schema does not name are typed from their
/// values, and their ranges or categories are computed with DP.
/// </summary>
internal sealed class TabularSchema
{
    /// <summary>The missing-value markers when neither the schema nor anything else says: empty, <c>?</c> and <c>NA</c>.</summary>
    public static readonly IReadOnlyList<string> DefaultMissing = ["", "?", "NA"];

    private TabularSchema(string? fileName, IReadOnlyDictionary<string, SchemaColumn> columns, string? targetName, IReadOnlyList<string>? classes, IReadOnlyList<string> missing)
    {
        FileName = fileName;
        Columns = columns;
        TargetName = targetName;
        Classes = classes;
        Missing = missing;
    }

    /// <summary>The schema with nothing declared.</summary>
    public static TabularSchema Empty { get; } = new(null, new Dictionary<string, SchemaColumn>(StringComparer.Ordinal), null, null, DefaultMissing);

    /// <summary>The schema file, or null for <see cref="Empty"/>.</summary>
    public string? FileName { get; }

    /// <summary>The declared columns by name (ordinal).</summary>
    public IReadOnlyDictionary<string, SchemaColumn> Columns { get; }

    /// <summary>The declared target column, or null.</summary>
    public string? TargetName { get; }

    /// <summary>The declared classes in class order, or null.</summary>
    public IReadOnlyList<string>? Classes { get; }

    /// <summary>The values (compared after trimming white space) that mean "missing".</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Reads and checks a schema file.</summary>
    /// <param name="path">The file, named in error messages as given.</param>
    /// <returns>The schema.</returns>
    /// <exception cref="ArgumentException">The file is not valid JSON (<c>FILE:LINE: …</c>) or not a valid schema (<c>FILE: …</c>).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static TabularSchema Read(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses schema text; see <see cref="Read"/>.</summary>
    public static TabularSchema Parse(string json, string fileName)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{fileName}:{(e.LineNumber ?? 0) + 1}: not valid JSON ({e.Message.Split(" Path:", 2)[0].TrimEnd('.')})");
        }

        using (document)
        {
            var root = Object(document.RootElement, fileName, "the schema");
            Keys(root, fileName, "the schema", "columns", "target", "missing");
            var columns = new Dictionary<string, SchemaColumn>(StringComparer.Ordinal);
            if (root.TryGetProperty("columns", out var cols))
            {
                foreach (var column in Object(cols, fileName, "\"columns\"").EnumerateObject())
                {
                    if (!columns.TryAdd(column.Name, Column(column.Value, fileName, column.Name)))
                    {
                        throw Fail(fileName, $"column '{column.Name}' is declared twice");
                    }
                }
            }

            string? targetName = null;
            List<string>? classes = null;
            if (root.TryGetProperty("target", out var target))
            {
                Keys(Object(target, fileName, "\"target\""), fileName, "\"target\"", "name", "classes");
                if (target.TryGetProperty("name", out var name))
                {
                    targetName = name.ValueKind == JsonValueKind.String ? name.GetString() : throw Fail(fileName, "\"target\".\"name\" must be a string");
                }

                if (target.TryGetProperty("classes", out var list))
                {
                    classes = Strings(list, fileName, "\"target\".\"classes\"");
                    if (classes.Count < 2)
                    {
                        throw Fail(fileName, "\"target\".\"classes\" must list at least two classes");
                    }
                }
            }

            if (targetName is not null && columns.ContainsKey(targetName))
            {
                throw Fail(fileName, $"'{targetName}' is the target: it cannot also be declared under \"columns\"");
            }

            var missing = root.TryGetProperty("missing", out var m) ? Strings(m, fileName, "\"missing\"", allowEmpty: true) : DefaultMissing;
            return new TabularSchema(fileName, columns, targetName, classes, missing);
        }
    }

    /// <summary>Whether a field is missing: null (an ARFF <c>?</c>) or one of <see cref="Missing"/> after trimming.</summary>
    public bool IsMissing(string? value) => value is null || Missing.Contains(value.Trim(), StringComparer.Ordinal);

    private static SchemaColumn Column(JsonElement e, string file, string name)
    {
        var what = $"column '{name}'";
        Keys(Object(e, file, what), file, what, "type", "range", "impute", "categories");
        if (!e.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw Fail(file, $"{what} needs \"type\": \"numeric\", \"categorical\" or \"ignore\"");
        }

        var kind = type.GetString() switch
        {
            "numeric" => TabularColumnKind.Numeric,
            "categorical" => TabularColumnKind.Categorical,
            "ignore" => TabularColumnKind.Ignored,
            var other => throw Fail(file, $"{what}: \"type\" must be \"numeric\", \"categorical\" or \"ignore\" (got \"{other}\")"),
        };
        (double, double)? range = null;
        double? impute = null;
        List<string>? categories = null;
        if (e.TryGetProperty("range", out var r))
        {
            if (kind != TabularColumnKind.Numeric)
            {
                throw Fail(file, $"{what}: \"range\" is for numeric columns");
            }

            if (r.ValueKind != JsonValueKind.Array || r.GetArrayLength() != 2 || r.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Number)
                || r[0].GetDouble() is var low && r[1].GetDouble() is var high && !(low < high && double.IsFinite(low) && double.IsFinite(high)))
            {
                throw Fail(file, $"{what}: \"range\" must be [low, high] with finite numbers low < high");
            }

            range = (r[0].GetDouble(), r[1].GetDouble());
        }

        if (e.TryGetProperty("impute", out var i))
        {
            if (kind != TabularColumnKind.Numeric || i.ValueKind != JsonValueKind.Number)
            {
                throw Fail(file, $"{what}: \"impute\" is a number, for numeric columns");
            }

            impute = i.GetDouble();
        }

        if (e.TryGetProperty("categories", out var c))
        {
            if (kind != TabularColumnKind.Categorical)
            {
                throw Fail(file, $"{what}: \"categories\" is for categorical columns");
            }

            categories = Strings(c, file, $"{what}: \"categories\"");
            if (categories.Count == 0)
            {
                throw Fail(file, $"{what}: \"categories\" must list at least one category");
            }
        }

        return new SchemaColumn(kind, range, impute, categories);
    }

    private static JsonElement Object(JsonElement e, string file, string what) =>
        e.ValueKind == JsonValueKind.Object ? e : throw Fail(file, $"{what} must be a JSON object");

    private static void Keys(JsonElement e, string file, string what, params string[] allowed)
    {
        foreach (var p in e.EnumerateObject().Where(p => !allowed.Contains(p.Name, StringComparer.Ordinal)))
        {
            throw Fail(file, $"{what}: unknown key \"{p.Name}\" (allowed: {string.Join(", ", allowed.Select(a => $"\"{a}\""))})");
        }
    }

    private static List<string> Strings(JsonElement e, string file, string what, bool allowEmpty = false)
    {
        if (e.ValueKind != JsonValueKind.Array || e.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
        {
            throw Fail(file, $"{what} must be an array of strings");
        }

        var values = e.EnumerateArray().Select(x => x.GetString()!.Trim()).ToList();
        if (!allowEmpty && values.Any(v => v.Length == 0))
        {
            throw Fail(file, $"{what} holds an empty string");
        }

        if (values.Distinct(StringComparer.Ordinal).Count() != values.Count)
        {
            throw Fail(file, $"{what} lists a value twice");
        }

        return values;
    }

    private static ArgumentException Fail(string file, string problem) => new(string.Create(CultureInfo.InvariantCulture, $"{file}: {problem}"));
}
