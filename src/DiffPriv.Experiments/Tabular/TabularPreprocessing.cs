using System.Globalization;
using DiffPriv.Accounting.Events;
using DiffPriv.Accounting.Pld;
using DiffPriv.Datasets.Tabular;
using DiffPriv.Datasets.Text;

namespace DiffPriv.Experiments.Tabular;

/// <summary>A feature column: how it is used and its public range or categories (null until released with DP).</summary>
internal sealed record ColumnPlan(
    string Name,
    TabularColumnKind Kind,
    TabularSource KindSource,
    TabularSource ValuesSource,
    (double Low, double High)? Range,
    double? Impute,
    IReadOnlyList<string>? Categories)
{
    /// <summary>The column for reports.</summary>
    public TabularColumnSummary ToSummary() => new(
        Name, Kind, KindSource, ValuesSource, Range?.Low, Range?.High, Kind == TabularColumnKind.Numeric ? Impute ?? Middle : null, Categories ?? []);

    /// <summary>The value a missing entry of a numeric column takes: <see cref="Impute"/>, else the middle of the range.</summary>
    public double Middle => Range is { } r ? (r.Low + r.High) / 2 : double.NaN;
}

/// <summary>The target column and its classes (null until released with DP).</summary>
internal sealed record TargetPlan(string Name, IReadOnlyList<string>? Classes, TabularSource Source);

/// <summary>What the preprocessing released and what it cost.</summary>
/// <param name="Columns">Every column but the target, in file order, with its range or categories.</param>
/// <param name="Target">The target and its classes.</param>
/// <param name="Events">The DP events of the preprocessing (empty when everything was declared).</param>
/// <param name="NoiseMultiplier">σ of every count (null when nothing was computed with DP).</param>
/// <param name="Epsilon">ε of <paramref name="Events"/> alone at the run's δ (PLD; 0 when there are none).</param>
/// <param name="CategoryThreshold">τ of the thresholded histograms (null when there are none).</param>
/// <param name="DpNumeric">Numeric columns whose range was estimated with DP.</param>
/// <param name="DpCategorical">Categorical columns (the target included) whose values were released with DP.</param>
internal sealed record PreprocessingRelease(
    IReadOnlyList<ColumnPlan> Columns,
    TargetPlan Target,
    IReadOnlyList<DpEvent> Events,
    double? NoiseMultiplier,
    double Epsilon,
    double? CategoryThreshold,
    int DpNumeric,
    int DpCategorical);

/// <summary>
/// Decides how every column of the training table is used, checks the tables against that, and computes with DP (see
/// <see cref="TabularMechanisms"/>) whatever the schema or the ARFF header leaves undeclared. Nothing is read from the
/// private training table for free except each column's type when it is inferred (stated in the report as public) and
/// the checks that stop the run on bad input.
/// </summary>
internal static class TabularPreprocessing
{
    /// <summary>How every column is used and which facts are declared, with the input checks.</summary>
    /// <param name="train">The training table.</param>
    /// <param name="test">A separate test table, or null.</param>
    /// <param name="target">The target column's name (<c>--target</c>).</param>
    /// <param name="schema">The user's schema, or <see cref="TabularSchema.Empty"/>.</param>
    /// <returns>The feature columns (file order) and the target.</returns>
    /// <exception cref="CsvFormatException">A table lacks a column (line 1), a numeric column holds a non-number (its line),
    /// the target holds fewer than two classes (line 1) or a class outside the declared ones (its line).</exception>
    /// <exception cref="ArgumentException">The schema names a column the table lacks or another target.</exception>
    public static (IReadOnlyList<ColumnPlan> Columns, TargetPlan Target) Plan(TabularTable train, TabularTable? test, string target, TabularSchema schema)
    {
        var targetIndex = CheckColumns(train, target, schema);
        var columns = new List<ColumnPlan>();
        for (var c = 0; c < train.Header.Count; c++)
        {
            if (c != targetIndex)
            {
                columns.Add(PlanColumn(train, c, schema));
            }
        }

        foreach (var column in columns.Where(c => c.Kind == TabularColumnKind.Numeric))
        {
            foreach (var table in new[] { train, test }.OfType<TabularTable>())
            {
                CheckNumbers(table, column, schema);
            }
        }

        var classes = schema.Classes is { } list ? (list, TabularSource.Schema)
            : train.ArffColumns?[targetIndex] is { Kind: ArffColumnKind.Nominal } nominal ? (nominal.NominalValues, TabularSource.ArffHeader)
            : ((IReadOnlyList<string>?)null, TabularSource.DifferentialPrivacy);
        var present = train.Rows.Select(r => r.Values[targetIndex]).Where(v => !schema.IsMissing(v)).Select(v => v!.Trim()).Distinct(StringComparer.Ordinal).Take(2).ToList();
        if (present.Count < 2)
        {
            throw new CsvFormatException(
                train.FileName, 1, $"the target column '{target}' holds {(present.Count == 0 ? "no values" : $"one class only ('{present[0]}')")}: nothing to classify");
        }

        if (classes.Item1 is { } known)
        {
            foreach (var table in new[] { train, test }.OfType<TabularTable>())
            {
                var t = table.ColumnIndex(target);
                foreach (var row in table.Rows.Where(r => !schema.IsMissing(r.Values[t]) && !known.Contains(r.Values[t]!.Trim(), StringComparer.Ordinal)))
                {
                    throw new CsvFormatException(
                        table.FileName, row.LineNumber, $"the target '{row.Values[t]}' is not one of the classes declared in the {Describe(classes.Item2)} ({string.Join(", ", known)})");
                }
            }
        }

        if (test is not null)
        {
            foreach (var name in columns.Where(c => c.Kind != TabularColumnKind.Ignored).Select(c => c.Name).Append(target))
            {
                test.ColumnIndex(name);
            }
        }

        return (columns, new TargetPlan(target, classes.Item1, classes.Item2));
    }

    /// <summary>Checks that the table has the target and every column the schema names, and that the schema's target is the same.</summary>
    /// <returns>The target's column index.</returns>
    /// <exception cref="CsvFormatException">The table has no such target column (line 1).</exception>
    /// <exception cref="ArgumentException">The schema names a column the table lacks or another target.</exception>
    public static int CheckColumns(TabularTable table, string target, TabularSchema schema)
    {
        var targetIndex = table.ColumnIndex(target);
        if (schema.TargetName is { } declared && declared != target)
        {
            throw new ArgumentException($"{schema.FileName}: the schema's target is '{declared}', but --target is '{target}'");
        }

        foreach (var name in schema.Columns.Keys.Where(n => !table.Header.Contains(n, StringComparer.Ordinal)))
        {
            throw new ArgumentException($"{schema.FileName}: column '{name}' is not in {table.FileName} (columns: {string.Join(", ", table.Header.Select(h => $"'{h}'"))})");
        }

        return targetIndex;
    }

    /// <summary>
    /// Computes with DP every range and category list the plan leaves open, and the target's classes when undeclared: one σ
    /// for all, calibrated so that the preprocessing alone has ε ≤ <paramref name="epsilon"/> at <paramref name="delta"/>.
    /// </summary>
    /// <param name="train">The training table.</param>
    /// <param name="columns">From <see cref="Plan"/>.</param>
    /// <param name="target">From <see cref="Plan"/>.</param>
    /// <param name="schema">The missing-value markers.</param>
    /// <param name="epsilon">The preprocessing budget, &gt; 0 when anything must be computed.</param>
    /// <param name="delta">δ of the run.</param>
    /// <param name="gaussian">Draws n independent N(0, std²) values (the noise gate).</param>
    /// <returns>The completed columns and target, with the events and their ε.</returns>
    /// <exception cref="ArgumentException">DP released fewer than two classes of the target.</exception>
    public static PreprocessingRelease Release(
        TabularTable train, IReadOnlyList<ColumnPlan> columns, TargetPlan target, TabularSchema schema, double epsilon, double delta, Func<int, double, double[]> gaussian)
    {
        var numeric = columns.Count(c => c.Kind == TabularColumnKind.Numeric && c.Range is null);
        var categorical = columns.Count(c => c.Kind == TabularColumnKind.Categorical && c.Categories is null) + (target.Classes is null ? 1 : 0);
        if (numeric + categorical == 0)
        {
            return new PreprocessingRelease(columns, target, [], null, 0, null, 0, 0);
        }

        if (!(epsilon > 0 && double.IsFinite(epsilon)))
        {
            throw new ArgumentException($"--preprocessing-epsilon must be a finite number > 0 when the schema leaves ranges or categories open (got {epsilon})");
        }

        var sigma = TabularMechanisms.CalibrateSigma(numeric, categorical, epsilon, delta).NoiseMultiplier;
        var deltaPerColumn = TabularMechanisms.DeltaPerColumn(categorical, delta);
        var threshold = TabularMechanisms.CategoryThreshold(sigma, deltaPerColumn);
        var completed = new List<ColumnPlan>(columns.Count);
        foreach (var column in columns)
        {
            var c = train.ColumnIndex(column.Name);
            var present = train.Rows.Select(r => r.Values[c]).Where(v => !schema.IsMissing(v)).Select(v => v!.Trim());
            if (column.Kind == TabularColumnKind.Numeric && column.Range is null)
            {
                var (low, high, _) = TabularMechanisms.NumericRange(present.Select(v => Number(v)!.Value), sigma, gaussian);
                completed.Add(column with { Range = (low, high) });
            }
            else if (column.Kind == TabularColumnKind.Categorical && column.Categories is null)
            {
                completed.Add(column with { Categories = [.. TabularMechanisms.ReleasedCategories(present, sigma, threshold, gaussian).Select(p => p.Value)] });
            }
            else
            {
                completed.Add(column);
            }
        }

        var released = target;
        if (target.Classes is null)
        {
            var t = train.ColumnIndex(target.Name);
            var classes = TabularMechanisms.ReleasedCategories(
                train.Rows.Select(r => r.Values[t]).Where(v => !schema.IsMissing(v)).Select(v => v!.Trim()), sigma, threshold, gaussian).Select(p => p.Value).ToList();
            if (classes.Count < 2)
            {
                throw new ArgumentException(
                    $"differential privacy released {(classes.Count == 0 ? "none" : $"only one ('{classes[0]}')")} of the classes of '{target.Name}' " +
                    $"(a class needs a noisy count above {threshold.ToString("F0", CultureInfo.InvariantCulture)}): declare them in a schema " +
                    "(\"target\": {\"classes\": [...]}) or raise --preprocessing-epsilon");
            }

            released = target with { Classes = classes };
        }

        var events = TabularMechanisms.Events(numeric, categorical, sigma, deltaPerColumn);
        var spent = new PldAccountant().Compose(new ComposedDpEvent(events)).GetEpsilon(delta);
        return new PreprocessingRelease(completed, released, events, sigma, spent, categorical > 0 ? threshold : null, numeric, categorical);
    }

    /// <summary>A field as a finite invariant-culture number, or null.</summary>
    public static double? Number(string text) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;

    /// <summary>The source as the report words it.</summary>
    public static string Describe(TabularSource source) => source switch
    {
        TabularSource.Schema => "schema",
        TabularSource.ArffHeader => "ARFF header",
        TabularSource.InferredFromValues => "values (inferred, treated as public)",
        TabularSource.DifferentialPrivacy => "differential privacy",
        _ => "nothing",
    };

    private static ColumnPlan PlanColumn(TabularTable train, int c, TabularSchema schema)
    {
        var name = train.Header[c];
        var arff = train.ArffColumns?[c];
        if (schema.Columns.TryGetValue(name, out var declared))
        {
            return declared.Kind switch
            {
                TabularColumnKind.Numeric => new ColumnPlan(
                    name, TabularColumnKind.Numeric, TabularSource.Schema, declared.Range is null ? TabularSource.DifferentialPrivacy : TabularSource.Schema, declared.Range, declared.Impute, null),
                TabularColumnKind.Categorical when declared.Categories is not null => new ColumnPlan(
                    name, TabularColumnKind.Categorical, TabularSource.Schema, TabularSource.Schema, null, null, declared.Categories),
                TabularColumnKind.Categorical when arff is { Kind: ArffColumnKind.Nominal } => new ColumnPlan(
                    name, TabularColumnKind.Categorical, TabularSource.Schema, TabularSource.ArffHeader, null, null, arff.NominalValues),
                TabularColumnKind.Categorical => new ColumnPlan(
                    name, TabularColumnKind.Categorical, TabularSource.Schema, TabularSource.DifferentialPrivacy, null, null, null),
                _ => new ColumnPlan(name, TabularColumnKind.Ignored, TabularSource.Schema, TabularSource.None, null, null, null),
            };
        }

        if (arff is not null)
        {
            return arff.Kind switch
            {
                ArffColumnKind.Numeric => new ColumnPlan(name, TabularColumnKind.Numeric, TabularSource.ArffHeader, TabularSource.DifferentialPrivacy, null, null, null),
                ArffColumnKind.Nominal => new ColumnPlan(name, TabularColumnKind.Categorical, TabularSource.ArffHeader, TabularSource.ArffHeader, null, null, arff.NominalValues),
                ArffColumnKind.Text => new ColumnPlan(name, TabularColumnKind.Categorical, TabularSource.ArffHeader, TabularSource.DifferentialPrivacy, null, null, null),
                _ => new ColumnPlan(name, TabularColumnKind.Ignored, TabularSource.ArffHeader, TabularSource.None, null, null, null),
            };
        }

        var present = train.Rows.Select(r => r.Values[c]).Where(v => !schema.IsMissing(v)).ToList();
        var kind = present.Count == 0 ? TabularColumnKind.Ignored
            : present.All(v => Number(v!) is not null) ? TabularColumnKind.Numeric
            : TabularColumnKind.Categorical;
        return new ColumnPlan(name, kind, TabularSource.InferredFromValues, kind == TabularColumnKind.Ignored ? TabularSource.None : TabularSource.DifferentialPrivacy, null, null, null);
    }

    private static string WhoseKind(TabularSource source) => source switch
    {
        TabularSource.Schema => "the schema",
        TabularSource.ArffHeader => "the ARFF header",
        _ => "the training file's values",
    };

    private static void CheckNumbers(TabularTable table, ColumnPlan column, TabularSchema schema)
    {
        var c = table.ColumnIndex(column.Name);
        foreach (var row in table.Rows)
        {
            var value = row.Values[c];
            if (!schema.IsMissing(value) && Number(value!) is null)
            {
                throw new CsvFormatException(
                    table.FileName, row.LineNumber,
                    $"'{value}' in column '{column.Name}' is not a number (the column is numeric by {WhoseKind(column.KindSource)}; a missing value is written {string.Join(" or ", schema.Missing.Select(m => $"\"{m}\""))})");
            }
        }
    }
}
