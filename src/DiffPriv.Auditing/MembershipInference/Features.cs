namespace DiffPriv.Auditing.MembershipInference;

/// <summary>Per-example quantities the attacks score: probabilities from logits, confidence, entropy, trained-attack features.</summary>
internal static class Features
{
    /// <summary>Trained attacks see the loss and at most this many of the largest probabilities, sorted descending.</summary>
    public const int MaxSortedProbabilities = 10;

    // TF Privacy's _log_value clips probabilities at 1e-30 before the log (data_structures.py).
    private const double SmallProbability = 1e-30;

    /// <summary>Numerically stable softmax.</summary>
    public static double[] Softmax(IReadOnlyList<double> logits)
    {
        var max = double.NegativeInfinity;
        for (var k = 0; k < logits.Count; k++)
        {
            max = Math.Max(max, logits[k]);
        }

        var p = new double[logits.Count];
        var sum = 0.0;
        for (var k = 0; k < p.Length; k++)
        {
            p[k] = Math.Exp(logits[k] - max);
            sum += p[k];
        }

        for (var k = 0; k < p.Length; k++)
        {
            p[k] /= sum;
        }

        return p;
    }

    /// <summary>Index of the first largest entry (numpy's argmax).</summary>
    public static int Argmax(IReadOnlyList<double> values)
    {
        var best = 0;
        for (var k = 1; k < values.Count; k++)
        {
            if (values[k] > values[best])
            {
                best = k;
            }
        }

        return best;
    }

    /// <summary>Probability of the true label, or the largest probability without a label.</summary>
    public static double Confidence(double[] probabilities, int? label) =>
        label is { } y ? probabilities[y] : probabilities.Max();

    /// <summary>
    /// With a label: Song &amp; Mittal's (2021, Eq. 5) modified entropy
    /// −(1 − p_y) ln p_y − Σ_{k≠y} p_k ln(1 − p_k); without: Shannon entropy −Σ p_k ln p_k. Logs of values below 1e-30 are
    /// taken at 1e-30, as TF Privacy does.
    /// </summary>
    public static double Entropy(double[] probabilities, int? label)
    {
        var sum = 0.0;
        for (var k = 0; k < probabilities.Length; k++)
        {
            var p = probabilities[k];
            sum += label == k
                ? (1 - p) * NegLog(p)
                : label is null ? p * NegLog(p) : p * NegLog(1 - p);
        }

        return sum;
    }

    private static double NegLog(double p) => -Math.Log(Math.Max(p, SmallProbability));

    /// <summary>[loss, largest probabilities in descending order (at most <see cref="MaxSortedProbabilities"/>)].</summary>
    public static double[] ForTrainedAttack(double loss, double[]? probabilities)
    {
        if (probabilities is null)
        {
            return [loss];
        }

        var sorted = probabilities.OrderDescending().Take(MaxSortedProbabilities);
        return [loss, .. sorted];
    }
}
