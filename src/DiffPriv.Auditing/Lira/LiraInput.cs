namespace DiffPriv.Auditing.Lira;

/// <summary>
/// What LiRA needs from K trained models on one pool of N examples: every model's logit-scaled confidence
/// φ = log(p / (1 − p)) of every example's true class (<see cref="LiraAttack.LogitConfidence"/>) and which examples
/// each model trained on.
/// </summary>
public sealed record LiraInput
{
    /// <summary>φ per model and example, [K][N]; finite.</summary>
    public required IReadOnlyList<double[]> Confidences { get; init; }

    /// <summary>Whether model k trained on example i, [K][N].</summary>
    public required IReadOnlyList<bool[]> Included { get; init; }

    /// <summary>K, the models.</summary>
    public int Models => Confidences.Count;

    /// <summary>N, the examples of the pool.</summary>
    public int Examples => Confidences.Count == 0 ? 0 : Confidences[0].Length;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless there are at least 3 models and 1 example, the two arrays have the
    /// same shape, every φ is finite, and every example is in and out of at least one model besides any one target
    /// (at least 2 models in and 2 out).
    /// </summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Confidences);
        ArgumentNullException.ThrowIfNull(Included);
        if (Models < 3)
        {
            throw new ArgumentException($"LiRA needs at least 3 models (got {Models}).");
        }

        if (Included.Count != Models)
        {
            throw new ArgumentException($"Included has {Included.Count} models, Confidences {Models}.");
        }

        var n = Examples;
        if (n < 1)
        {
            throw new ArgumentException("LiRA needs at least one example.");
        }

        for (var k = 0; k < Models; k++)
        {
            if (Confidences[k].Length != n || Included[k].Length != n)
            {
                throw new ArgumentException($"model {k} has {Confidences[k].Length} confidences and {Included[k].Length} inclusion flags; expected {n} of each.");
            }

            if (Confidences[k].Any(c => !double.IsFinite(c)))
            {
                throw new ArgumentException($"model {k} has a confidence that is not finite.");
            }
        }

        for (var i = 0; i < n; i++)
        {
            var inCount = 0;
            for (var k = 0; k < Models; k++)
            {
                inCount += Included[k][i] ? 1 : 0;
            }

            if (inCount < 2 || Models - inCount < 2)
            {
                throw new ArgumentException(
                    $"example {i} is in {inCount} of {Models} models; leave-one-out LiRA needs every example in at least 2 models and out of at least 2.");
            }
        }
    }
}
