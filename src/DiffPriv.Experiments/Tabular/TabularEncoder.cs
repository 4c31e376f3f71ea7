namespace DiffPriv.Experiments.Tabular;

/// <summary>A table encoded for the classifier.</summary>
/// <param name="Features">Row-major [Rows, Width] features.</param>
/// <param name="Labels">The class index of each row; −1 for a test row whose class is not among the classes (always counted wrong).</param>
/// <param name="Rows">Rows kept.</param>
/// <param name="MissingTarget">Rows left out because their target is missing.</param>
/// <param name="UnknownClass">Training rows left out because their class was not released (DP); always 0 for test tables.</param>
internal sealed record EncodedTable(float[] Features, long[] Labels, int Rows, int MissingTarget, int UnknownClass);

/// <summary>
/// Turns records into features from public facts only (ranges, categories, classes, the missing-value markers); the
/// layout depends on nothing else, so it is the same for every table. A numeric column gives two features: the value
/// clipped to its range and mapped linearly to [−1, 1] (a missing value takes the public impute value) and a 0/1
/// missing indicator. A categorical column gives one 0/1 feature per category, one for any other value and one for a
/// missing value. The target's value (trimmed) is looked up among the classes.
/// </summary>
internal sealed class TabularEncoder
{
    private readonly IReadOnlyList<ColumnPlan> _columns;
    private readonly IReadOnlyList<Dictionary<string, int>> _categoryIndex;
    private readonly Dictionary<string, int> _classIndex;
    private readonly TabularSchema _schema;

    /// <summary>Creates the encoder.</summary>
    /// <param name="columns">Every feature column with its range or categories known (ignored columns are skipped).</param>
    /// <param name="target">The target with its classes known.</param>
    /// <param name="schema">The missing-value markers.</param>
    public TabularEncoder(IReadOnlyList<ColumnPlan> columns, TargetPlan target, TabularSchema schema)
    {
        _columns = [.. columns.Where(c => c.Kind != TabularColumnKind.Ignored)];
        _categoryIndex = [.. _columns.Select(c => (c.Categories ?? []).Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i, StringComparer.Ordinal))];
        Target = target;
        Classes = target.Classes ?? throw new ArgumentException("The target's classes must be known.", nameof(target));
        _classIndex = Classes.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i, StringComparer.Ordinal);
        _schema = schema;
        FeatureNames = [.. _columns.SelectMany(Names)];
    }

    /// <summary>The target.</summary>
    public TargetPlan Target { get; }

    /// <summary>The classes in class order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>One name per feature, e.g. <c>age</c>, <c>age (missing)</c>, <c>sex=f</c>, <c>sex (other)</c>.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The number of features.</summary>
    public int Width => FeatureNames.Count;

    /// <summary>Encodes a table whose header holds every used column and the target (by name).</summary>
    /// <param name="table">The table.</param>
    /// <param name="training">Training: rows whose class is not among the classes are left out. Test: they are kept with label −1.</param>
    /// <returns>The features and labels.</returns>
    public EncodedTable Encode(TabularTable table, bool training)
    {
        var indices = _columns.Select(c => table.ColumnIndex(c.Name)).ToArray();
        var t = table.ColumnIndex(Target.Name);
        var features = new List<float>(table.Rows.Count * Width);
        var labels = new List<long>(table.Rows.Count);
        int missingTarget = 0, unknown = 0;
        var row = new float[Width];
        foreach (var record in table.Rows)
        {
            var value = record.Values[t];
            if (_schema.IsMissing(value))
            {
                missingTarget++;
                continue;
            }

            var label = _classIndex.TryGetValue(value!.Trim(), out var k) ? k : -1;
            if (label < 0 && training)
            {
                unknown++;
                continue;
            }

            Array.Clear(row);
            var offset = 0;
            for (var c = 0; c < _columns.Count; c++)
            {
                offset = EncodeField(c, record.Values[indices[c]], row, offset);
            }

            features.AddRange(row);
            labels.Add(label);
        }

        return new EncodedTable([.. features], [.. labels], labels.Count, missingTarget, unknown);
    }

    private int EncodeField(int c, string? value, float[] row, int offset)
    {
        var column = _columns[c];
        var missing = _schema.IsMissing(value);
        if (column.Kind == TabularColumnKind.Numeric)
        {
            var (low, high) = column.Range!.Value;
            var x = missing ? column.Impute ?? column.Middle : TabularPreprocessing.Number(value!)!.Value;
            row[offset] = (float)((2 * (Math.Clamp(x, low, high) - low) / (high - low)) - 1);
            row[offset + 1] = missing ? 1 : 0;
            return offset + 2;
        }

        var categories = column.Categories!.Count;
        var slot = missing ? categories + 1 : _categoryIndex[c].TryGetValue(value!.Trim(), out var i) ? i : categories;
        row[offset + slot] = 1;
        return offset + categories + 2;
    }

    private static IEnumerable<string> Names(ColumnPlan c) => c.Kind == TabularColumnKind.Numeric
        ? [c.Name, $"{c.Name} (missing)"]
        : [.. c.Categories!.Select(v => $"{c.Name}={v}"), $"{c.Name} (other)", $"{c.Name} (missing)"];
}
