namespace DiffPriv.Auditing.SecretSharer;

/// <summary>
/// The canaries of a Secret Sharer experiment and the reference candidates they are ranked against: all distinct
/// secrets of one <see cref="CanaryFormat"/>, drawn uniformly without replacement, canaries first (repetition counts
/// in the order given, <see cref="CanaryPlanOptions.CanariesPerRepetition"/> each), then references. By default
/// canaries differ in their leading slots and references start like no canary (<see cref="CanaryPlanOptions.SeparatePrefixes"/>). Insert the
/// canaries with <see cref="InsertInto(IReadOnlyList{string}, Func{int, int})"/>, score canaries and references
/// with the trained model, and compute exposures with <see cref="SecretSharerResult.Compute"/>.
/// </summary>
public sealed class CanaryPlan
{
    private CanaryPlan(CanaryFormat format, IReadOnlyList<Canary> canaries, IReadOnlyList<string> references)
    {
        Format = format;
        Canaries = canaries;
        References = references;
    }

    /// <summary>The format every canary and reference follows.</summary>
    public CanaryFormat Format { get; }

    /// <summary>The canaries with their repetition counts.</summary>
    public IReadOnlyList<Canary> Canaries { get; }

    /// <summary>The reference candidates: never inserted, disjoint from <see cref="Canaries"/>.</summary>
    public IReadOnlyList<string> References { get; }

    /// <summary>Σ r over the canaries: the sequences <see cref="InsertInto(IReadOnlyList{string}, Func{int, int})"/> adds.</summary>
    public int TotalInsertions => Canaries.Sum(c => c.Repetitions);

    /// <summary>Draws a plan from a random source.</summary>
    /// <param name="options">What to draw; validated.</param>
    /// <param name="nextInt">
    /// Returns a uniform integer in [0, n) for its argument n ≥ 1. Canaries must be unpredictable to the model's
    /// trainer, not secret from the auditor: a seeded generator is fine (see <see cref="Create(CanaryPlanOptions, int)"/>).
    /// </param>
    /// <returns>The plan; the same source state gives the same plan.</returns>
    public static CanaryPlan Create(CanaryPlanOptions options, Func<int, int> nextInt)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(nextInt);
        options.Validate();
        var format = new CanaryFormat(options.Format);
        var canaryCount = options.CanaryCount;
        var m = options.PrefixSlots(format);

        // Canaries with pairwise distinct first m slots (all slots: plain distinctness), then references uniform over
        // the secrets that start like no canary.
        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        var secrets = new string[canaryCount + options.References];
        var k = 0;
        while (k < canaryCount)
        {
            var secret = format.Sample(nextInt);
            if (prefixes.Add(format.SlotPrefix(secret, m)))
            {
                secrets[k++] = secret;
            }
        }

        var references = DrawDistinct(format, options.References, nextInt, s => !prefixes.Contains(format.SlotPrefix(s, m)), options.AvailableReferences(format));
        references.CopyTo(secrets, canaryCount);

        var canaries = new List<Canary>();
        var next = 0;
        foreach (var r in options.Repetitions)
        {
            for (var i = 0; i < options.CanariesPerRepetition; i++)
            {
                canaries.Add(new Canary(secrets[next++], r));
            }
        }

        return new CanaryPlan(format, canaries, secrets[next..]);
    }

    /// <summary>
    /// Draws a plan from <c>new System.Random(seed)</c>. System.Random is not a cryptographic generator, and need not
    /// be here: this is an audit, not privacy noise; the canaries only have to be independent of the training data
    /// and of the model, and a seed makes the experiment replayable.
    /// </summary>
    /// <param name="options">What to draw; validated.</param>
    /// <param name="seed">The seed.</param>
    public static CanaryPlan Create(CanaryPlanOptions options, int seed)
    {
#pragma warning disable CA5394 // Auditing, not noise: canaries need independence from the data, not secrecy.
        var random = new Random(seed);
        return Create(options, random.Next);
#pragma warning restore CA5394
    }

    /// <summary>
    /// The training sequences with every canary inserted r times at uniformly random positions: the N originals keep
    /// their order, and the Σ r copies occupy a uniformly random set of positions among the N + Σ r, in random order.
    /// </summary>
    /// <param name="trainingSequences">The original training sequences (not modified).</param>
    /// <param name="nextInt">Returns a uniform integer in [0, n) for its argument n ≥ 1.</param>
    /// <returns>The new sequence list and where each canary went.</returns>
    public CanaryInsertionResult InsertInto(IReadOnlyList<string> trainingSequences, Func<int, int> nextInt)
    {
        ArgumentNullException.ThrowIfNull(trainingSequences);
        ArgumentNullException.ThrowIfNull(nextInt);
        var n = trainingSequences.Count;
        var m = TotalInsertions;
        var total = checked(n + m);

        // Which canary each copy is, in random order (Fisher–Yates).
        var copies = new int[m];
        var c = 0;
        for (var i = 0; i < Canaries.Count; i++)
        {
            for (var j = 0; j < Canaries[i].Repetitions; j++)
            {
                copies[c++] = i;
            }
        }

        for (var i = m - 1; i > 0; i--)
        {
            var j = CanaryFormat.Draw(nextInt, i + 1);
            (copies[i], copies[j]) = (copies[j], copies[i]);
        }

        // A uniformly random m-subset of the positions (partial Fisher–Yates).
        var slots = new int[total];
        for (var i = 0; i < total; i++)
        {
            slots[i] = i;
        }

        var isCanary = new bool[total];
        for (var i = 0; i < m; i++)
        {
            var j = i + CanaryFormat.Draw(nextInt, total - i);
            (slots[i], slots[j]) = (slots[j], slots[i]);
            isCanary[slots[i]] = true;
        }

        var sequences = new string[total];
        var positions = Canaries.Select(_ => new List<int>()).ToArray();
        var original = 0;
        var copy = 0;
        for (var p = 0; p < total; p++)
        {
            if (isCanary[p])
            {
                var which = copies[copy++];
                sequences[p] = Canaries[which].Secret;
                positions[which].Add(p);
            }
            else
            {
                sequences[p] = trainingSequences[original++];
            }
        }

        return new CanaryInsertionResult(this, sequences, positions);
    }

    /// <summary>
    /// <see cref="InsertInto(IReadOnlyList{string}, Func{int, int})"/> with <c>new System.Random(seed)</c> (an audit
    /// choice, not privacy noise; see <see cref="Create(CanaryPlanOptions, int)"/>).
    /// </summary>
    /// <param name="trainingSequences">The original training sequences (not modified).</param>
    /// <param name="seed">The seed.</param>
    public CanaryInsertionResult InsertInto(IReadOnlyList<string> trainingSequences, int seed)
    {
#pragma warning disable CA5394 // Auditing, not noise: positions need independence from the data, not secrecy.
        var random = new Random(seed);
        return InsertInto(trainingSequences, random.Next);
#pragma warning restore CA5394
    }

    /// <summary>
    /// <paramref name="count"/> distinct secrets, uniformly without replacement from the <paramref name="allowedCount"/>
    /// that <paramref name="allowed"/> accepts, in draw order.
    /// </summary>
    private static string[] DrawDistinct(CanaryFormat format, int count, Func<int, int> nextInt, Func<string, bool> allowed, double allowedCount)
    {
        if (2.0 * count <= allowedCount)
        {
            // Sparse: rejection sampling; at least half of the allowed secrets are left, so each draw succeeds with
            // probability ≥ allowedCount / (2·space), at least 1/4 when canaries are kept apart.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var result = new string[count];
            var k = 0;
            while (k < count)
            {
                var secret = format.Sample(nextInt);
                if (allowed(secret) && seen.Add(secret))
                {
                    result[k++] = secret;
                }
            }

            return result;
        }

        // Dense (fewer than twice the request are available, so the space fits in an int): partial Fisher–Yates over
        // the allowed indices.
        var size = (int)format.SpaceSize;
        var indices = new List<int>(size);
        for (var i = 0; i < size; i++)
        {
            if (allowed(format.FromIndex(i)))
            {
                indices.Add(i);
            }
        }

        var chosen = new string[count];
        for (var i = 0; i < count; i++)
        {
            var j = i + CanaryFormat.Draw(nextInt, indices.Count - i);
            (indices[i], indices[j]) = (indices[j], indices[i]);
            chosen[i] = format.FromIndex(indices[i]);
        }

        return chosen;
    }
}
