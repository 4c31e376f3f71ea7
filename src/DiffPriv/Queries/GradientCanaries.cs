using static TorchSharp.torch;

namespace DiffPriv.Queries;

/// <summary>
/// The canaries of a white-box one-run audit (Steinke, Nasr &amp; Jagielski 2023) and the scores a white-box auditor
/// computes for them. <see cref="CanaryGradientQuery"/> inserts the included ones into training and records every release
/// here; the scores and inclusion flags then go to <c>DiffPriv.Auditing.OneRun.OneRunAudit.Run</c>.
/// </summary>
/// <remarks>
/// A canary's score is the sum, over every release, of the released (noised, not yet normalised) gradient sum at the
/// canary's coordinate: the projection of the whole model update onto the canary for plain SGD, and what an auditor who
/// sees every intermediate model measures. Canaries must sit at distinct coordinates, so that they are orthogonal and
/// one canary's record never moves another's score.
/// </remarks>
public sealed class GradientCanaries
{
    private readonly double[] _scores;
    private readonly int[] _includedIndices;
    private readonly Dictionary<string, (long[] Indices, int[] Canaries)> _byParameter;

    /// <summary>Creates the canaries.</summary>
    /// <param name="canaries">m ≥ 1 canaries at distinct coordinates.</param>
    /// <param name="included">Per canary, whether it is inserted into training: flip a fair coin for each, in secret,
    /// before training (the audit's bound relies on it).</param>
    /// <exception cref="ArgumentException">The lists are empty or differ in length, a coordinate repeats or is negative.</exception>
    public GradientCanaries(IReadOnlyList<GradientCanary> canaries, IReadOnlyList<bool> included)
    {
        ArgumentNullException.ThrowIfNull(canaries);
        ArgumentNullException.ThrowIfNull(included);
        if (canaries.Count == 0 || canaries.Count != included.Count)
        {
            throw new ArgumentException($"One inclusion flag per canary is needed, and at least one canary (got {canaries.Count} canaries and {included.Count} flags).", nameof(included));
        }

        if (canaries.Any(c => c is null || string.IsNullOrEmpty(c.Parameter) || c.Index < 0))
        {
            throw new ArgumentException("Every canary needs a parameter name and a coordinate ≥ 0.", nameof(canaries));
        }

        if (canaries.Distinct().Count() != canaries.Count)
        {
            throw new ArgumentException("Two canaries share a coordinate: canaries must be orthogonal.", nameof(canaries));
        }

        Canaries = [.. canaries];
        Included = [.. included];
        _scores = new double[canaries.Count];
        _includedIndices = Enumerable.Range(0, canaries.Count).Where(i => included[i]).ToArray();
        _byParameter = Canaries
            .Select((c, i) => (c, i))
            .GroupBy(x => x.c.Parameter, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (g.Select(x => x.c.Index).ToArray(), g.Select(x => x.i).ToArray()), StringComparer.Ordinal);
    }

    /// <summary>The canaries, in the order given.</summary>
    public IReadOnlyList<GradientCanary> Canaries { get; }

    /// <summary>Per canary, whether it is inserted into training (the audit's secret).</summary>
    public IReadOnlyList<bool> Included { get; }

    /// <summary>Per canary, the sum over releases so far of the released gradient sum at its coordinate.</summary>
    public IReadOnlyList<double> Scores => [.. _scores];

    /// <summary>How many releases have been recorded.</summary>
    public long Releases { get; private set; }

    /// <summary>How many times an included canary was sampled into a step, summed over canaries (private: for tests and
    /// diagnostics; a real auditor does not see it).</summary>
    public long Insertions { get; private set; }

    /// <summary>The indices (into <see cref="Canaries"/>) of the included canaries.</summary>
    internal IReadOnlyList<int> IncludedIndices => _includedIndices;

    /// <summary>
    /// Σ of the sampled canaries' records per parameter: <paramref name="norm"/> at each sampled canary's coordinate.
    /// </summary>
    /// <param name="sampled">Indices into <see cref="IncludedIndices"/>.</param>
    /// <param name="norm">C, the record clip norm of this step.</param>
    /// <param name="shapes">The released parameters.</param>
    internal Dictionary<string, Tensor> Records(
        IReadOnlyList<long> sampled,
        double norm,
        IReadOnlyDictionary<string, (long[] Shape, ScalarType Type, Device Device)> shapes)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var group in sampled.Select(s => Canaries[_includedIndices[s]]).GroupBy(c => c.Parameter, StringComparer.Ordinal))
        {
            if (!shapes.TryGetValue(group.Key, out var shape))
            {
                throw new InvalidOperationException($"The canary parameter '{group.Key}' is not a trainable parameter of this model.");
            }

            var record = zeros(shape.Shape, shape.Type, shape.Device);
            var flat = record.view(-1);
            var indices = group.Select(c => c.Index).ToArray();
            if (indices.Max() >= flat.shape[0])
            {
                throw new InvalidOperationException($"A canary coordinate of '{group.Key}' is beyond its {flat.shape[0]} entries.");
            }

            using var index = tensor(indices, dtype: ScalarType.Int64, device: shape.Device);
            flat.index_fill_(0, index, norm);
            result[group.Key] = record;
        }

        Insertions += sampled.Count;
        return result;
    }

    /// <summary>Adds one release to every canary's score.</summary>
    /// <param name="release">Parameter name → the released (noised) sum.</param>
    internal void Record(IReadOnlyDictionary<string, Tensor> release)
    {
        foreach (var (parameter, (indices, canaries)) in _byParameter)
        {
            if (!release.TryGetValue(parameter, out var sum))
            {
                throw new InvalidOperationException($"The release holds no gradient for the canary parameter '{parameter}'.");
            }

            using var scope = NewDisposeScope();
            using var index = tensor(indices, dtype: ScalarType.Int64, device: sum.device);
            var values = sum.detach().reshape(-1).index_select(0, index).to(ScalarType.Float64).cpu().data<double>().ToArray();
            for (var i = 0; i < canaries.Length; i++)
            {
                _scores[canaries[i]] += values[i];
            }
        }

        Releases++;
    }
}
