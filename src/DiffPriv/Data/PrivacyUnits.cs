namespace DiffPriv.Data;

/// <summary>
/// The privacy unit of every example — the user, patient or device it belongs to — for user-level DP-SGD. Set it as
/// <see cref="DpSgdOptions.PrivacyUnits"/> and the guarantee protects whole units instead of single examples: every step
/// Poisson-samples units (each with probability q = B/U, B being <see cref="DpSgdOptions.ExpectedBatchSize"/> counted in
/// units), each sampled unit's examples together make ONE record — the gradient of the mean loss over the unit's
/// examples, clipped to C as a whole — the Gaussian noise σ·C is added to the sum of records, and the sum is divided by the
/// expected number of sampled units q·U. Adding or removing a unit with all its examples moves that sum by at most C,
/// so each step is <c>PoissonSampledDpEvent(q, GaussianDpEvent(σ))</c> with q over units, and ε is per unit.
/// </summary>
/// <remarks>
/// <para>Reference: McMahan, Ramage, Talwar and Zhang, "Learning Differentially Private Recurrent Language Models"
/// (ICLR 2018): user-level DP by sampling users and bounding each user's whole contribution.</para>
/// <para>Units are numbered 0…U−1 in the order of their first example. A unit's record uses all its examples, so its
/// size is the memory of its largest unit: the private optimizer runs each unit's examples in one physical batch (with
/// other units up to <see cref="DpSgdOptions.MaxPhysicalBatchSize"/> rows), never split.</para>
/// </remarks>
public sealed class PrivacyUnits
{
    private readonly int[] _unitOfExample;
    private readonly long[] _examples;
    private readonly int[] _offsets;

    private PrivacyUnits(string name, int[] unitOfExample, long[] examples, int[] offsets)
    {
        Name = name;
        _unitOfExample = unitOfExample;
        _examples = examples;
        _offsets = offsets;
        MaxExamplesPerUnit = Enumerable.Range(0, offsets.Length - 1).Max(u => offsets[u + 1] - offsets[u]);
    }

    /// <summary>The word for one unit in reports and messages, e.g. "user", "patient", "device".</summary>
    public string Name { get; }

    /// <summary>U, the number of units.</summary>
    public int Count => _offsets.Length - 1;

    /// <summary>N, the number of examples (each belongs to exactly one unit).</summary>
    public long ExampleCount => _unitOfExample.Length;

    /// <summary>The largest number of examples of one unit (the memory bound of one record).</summary>
    public int MaxExamplesPerUnit { get; }

    /// <summary>
    /// Units from one key per example: examples with equal keys (by <see cref="EqualityComparer{T}.Default"/>) form one
    /// unit. Key i belongs to example i of the data set given to <c>PrivacyEngine.MakePrivate</c>.
    /// </summary>
    /// <typeparam name="TKey">The key type, e.g. a user id.</typeparam>
    /// <param name="keys">One key per example, N ≥ 1 of them, none null.</param>
    /// <param name="name">The word for one unit in reports, e.g. "user" (the default), "patient" or "device".</param>
    /// <returns>The units, numbered in the order of their first example.</returns>
    /// <exception cref="ArgumentException">There are no keys, a key is null, or the name is blank.</exception>
    public static PrivacyUnits FromKeys<TKey>(IReadOnlyList<TKey> keys, string name = "user")
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (keys.Count == 0)
        {
            throw new ArgumentException("Privacy units need one key per example, and there are no examples.", nameof(keys));
        }

        var ids = new Dictionary<TKey, int>();
        var unitOfExample = new int[keys.Count];
        var sizes = new List<int>();
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i] ?? throw new ArgumentException($"The privacy unit key of example {i} is null; every example needs one.", nameof(keys));
            if (!ids.TryGetValue(key, out var unit))
            {
                unit = ids.Count;
                ids[key] = unit;
                sizes.Add(0);
            }

            unitOfExample[i] = unit;
            sizes[unit]++;
        }

        // Examples grouped by unit (counting sort), increasing within each unit.
        var offsets = new int[sizes.Count + 1];
        for (var u = 0; u < sizes.Count; u++)
        {
            offsets[u + 1] = offsets[u] + sizes[u];
        }

        var next = offsets[..^1].ToArray();
        var examples = new long[keys.Count];
        for (var i = 0; i < unitOfExample.Length; i++)
        {
            examples[next[unitOfExample[i]]++] = i;
        }

        return new PrivacyUnits(name.Trim(), unitOfExample, examples, offsets);
    }

    /// <summary>The unit of an example.</summary>
    /// <param name="example">An example index in [0, N).</param>
    /// <returns>Its unit, in [0, U).</returns>
    public int UnitOf(long example)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(example);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(example, ExampleCount);
        return _unitOfExample[example];
    }

    /// <summary>The examples of a unit, in increasing order.</summary>
    /// <param name="unit">A unit in [0, U).</param>
    /// <returns>Its example indices (at least one).</returns>
    public IReadOnlyList<long> ExamplesOf(int unit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(unit);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(unit, Count);
        return new ArraySegment<long>(_examples, _offsets[unit], _offsets[unit + 1] - _offsets[unit]);
    }

    /// <summary>How many examples each unit has, by unit index (what group-privacy bounds of example-level training need).</summary>
    /// <returns>U counts, each ≥ 1.</returns>
    public IReadOnlyList<int> ExampleCounts() => [.. Enumerable.Range(0, Count).Select(u => _offsets[u + 1] - _offsets[u])];

    /// <summary>The examples of <paramref name="units"/> (increasing unit indices), unit after unit, and each unit's size.</summary>
    internal (long[] Examples, int[] Sizes) Expand(IReadOnlyList<long> units)
    {
        var sizes = new int[units.Count];
        var total = 0;
        for (var j = 0; j < units.Count; j++)
        {
            var u = (int)units[j];
            sizes[j] = _offsets[u + 1] - _offsets[u];
            total += sizes[j];
        }

        var examples = new long[total];
        var at = 0;
        for (var j = 0; j < units.Count; j++)
        {
            var u = (int)units[j];
            Array.Copy(_examples, _offsets[u], examples, at, sizes[j]);
            at += sizes[j];
        }

        return (examples, sizes);
    }
}
