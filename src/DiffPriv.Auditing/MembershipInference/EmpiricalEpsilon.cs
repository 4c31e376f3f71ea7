namespace DiffPriv.Auditing.MembershipInference;

/// <summary>
/// Empirical lower bounds on ε from membership tests (Jagielski et al. 2020, "Auditing Differentially Private Machine
/// Learning", §3; Nasr et al. 2021, "Adversary Instantiation", Eq. 1).
/// </summary>
/// <remarks>
/// <para>If a mechanism is (ε, δ)-DP, every test that predicts "member" satisfies TPR ≤ e^ε·FPR + δ, and, exchanging
/// the roles of the two outcomes, TNR ≤ e^ε·FNR + δ. Hence ε ≥ ln((1 − δ − FNR)/FPR) and ε ≥ ln((1 − δ − FPR)/FNR).
/// Replacing FPR and FNR by the upper ends of their two-sided Clopper–Pearson intervals at confidence c turns both into
/// lower bounds that hold together with probability ≥ c (each end fails with probability ≤ (1 − c)/2; union bound).</para>
/// <para>The threshold must not be chosen by looking at the examples the bound is computed on: the maximum over many
/// thresholds of bounds that each hold with probability c holds with a much smaller probability. Here the threshold is
/// chosen on one set of examples (the selection set) and the bound is computed, at that single threshold, on a
/// disjoint, independent set (the evaluation set). The Clopper–Pearson ends then cover the true rates with probability
/// at least c: the interval is conservative (the binomial is discrete), so the actual coverage is usually above c and
/// never below it.</para>
/// <para>What is bounded: the error rates of this model's test on the member and non-member populations the examples
/// came from, with the evaluation examples treated as independent trials. That is a bound on the training algorithm's ε
/// only if members and non-members were assigned at random from one distribution (e.g. a random split of one pool made
/// before training); otherwise a difference between the two populations (distribution shift) raises the bound without
/// any privacy loss. And every example is scored by the same trained model, so the examples are not independent runs of
/// the mechanism: treating them as independent trials is an approximation (Jagielski et al. train one model per trial;
/// Steinke, Nasr &amp; Jagielski 2023, "Privacy Auditing with One (1) Training Run", analyse one-run audits
/// exactly).</para>
/// </remarks>
public static class EmpiricalEpsilon
{
    // Candidates kept after the cheap ranking on the selection set; the exact bound picks among them.
    private const int ExactCandidates = 32;

    /// <summary>
    /// The bound from the confusion counts of one threshold fixed in advance:
    /// max(0, ln((1 − δ − FNR⁺)/FPR⁺), ln((1 − δ − FPR⁺)/FNR⁺)) with FPR⁺, FNR⁺ the upper Clopper–Pearson ends.
    /// </summary>
    /// <param name="truePositives">Members predicted members.</param>
    /// <param name="falseNegatives">Members predicted non-members.</param>
    /// <param name="falsePositives">Non-members predicted members.</param>
    /// <param name="trueNegatives">Non-members predicted non-members.</param>
    /// <param name="delta">δ in [0, 1).</param>
    /// <param name="confidence">Confidence in (0, 1), e.g. 0.95.</param>
    /// <returns>ε lower bound ≥ 0.</returns>
    public static double FromCounts(long truePositives, long falseNegatives, long falsePositives, long trueNegatives, double delta, double confidence = 0.95) =>
        Evaluate(truePositives, falseNegatives, falsePositives, trueNegatives, delta, confidence).Epsilon;

    /// <summary>
    /// Chooses a threshold on the selection scores (the one whose own Clopper–Pearson bound is largest there) and returns
    /// the bound of that single threshold on the evaluation scores. It exceeds the ε of the score distributions with
    /// probability at most 1 − <paramref name="confidence"/> whenever the evaluation examples are independent draws,
    /// independent of the selection examples and of whatever produced the scores (see the class remarks for when that is
    /// a bound on the training algorithm's ε).
    /// </summary>
    /// <param name="selectionMembers">Member scores used only to choose the threshold.</param>
    /// <param name="selectionNonMembers">Non-member scores used only to choose the threshold.</param>
    /// <param name="evaluationMembers">Member scores the bound is computed on.</param>
    /// <param name="evaluationNonMembers">Non-member scores the bound is computed on.</param>
    /// <param name="delta">δ in [0, 1).</param>
    /// <param name="confidence">Confidence in (0, 1).</param>
    /// <returns>The bound with its threshold and evaluation counts; ε = 0 and threshold NaN when a set is empty.</returns>
    public static EpsilonLowerBound SelectAndBound(
        IReadOnlyList<double> selectionMembers,
        IReadOnlyList<double> selectionNonMembers,
        IReadOnlyList<double> evaluationMembers,
        IReadOnlyList<double> evaluationNonMembers,
        double delta,
        double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(selectionMembers);
        ArgumentNullException.ThrowIfNull(selectionNonMembers);
        ArgumentNullException.ThrowIfNull(evaluationMembers);
        ArgumentNullException.ThrowIfNull(evaluationNonMembers);
        Check(delta, confidence);
        if (selectionMembers.Count == 0 || selectionNonMembers.Count == 0 || evaluationMembers.Count == 0 || evaluationNonMembers.Count == 0)
        {
            return new EpsilonLowerBound(0, delta, confidence, double.NaN, 0, 0, 0, 0, double.NaN, double.NaN);
        }

        var threshold = ChooseThreshold(selectionMembers, selectionNonMembers, delta, confidence);
        long tp = evaluationMembers.Count(s => s >= threshold);
        long fp = evaluationNonMembers.Count(s => s >= threshold);
        return Evaluate(tp, evaluationMembers.Count - tp, fp, evaluationNonMembers.Count - fp, delta, confidence) with { Threshold = threshold };
    }

    /// <summary>
    /// Splits members and non-members at random into two halves (seeded), chooses the threshold on the first half and
    /// bounds on the second (<see cref="SelectAndBound"/>). For scores that are fixed functions of each example (threshold
    /// attacks) the threshold does not depend on the evaluation half, so the bound has coverage at least
    /// <paramref name="confidence"/> under the assumptions in the class remarks.
    /// </summary>
    /// <param name="memberScores">Member scores (higher = more likely a member).</param>
    /// <param name="nonMemberScores">Non-member scores.</param>
    /// <param name="delta">δ in [0, 1).</param>
    /// <param name="confidence">Confidence in (0, 1).</param>
    /// <param name="seed">Seeds the split (which examples select and which evaluate is not secret).</param>
    /// <returns>The bound; ε = 0 when a half has no member or no non-member.</returns>
    public static EpsilonLowerBound SplitAndBound(IReadOnlyList<double> memberScores, IReadOnlyList<double> nonMemberScores, double delta, double confidence = 0.95, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(memberScores);
        ArgumentNullException.ThrowIfNull(nonMemberScores);
        var rng = new SplitMix64((ulong)(uint)seed ^ 0x5EED_0E95_11A7_0001UL);
        var (selectMembers, evalMembers) = Halves(memberScores, rng);
        var (selectNon, evalNon) = Halves(nonMemberScores, rng);
        return SelectAndBound(selectMembers, selectNon, evalMembers, evalNon, delta, confidence);
    }

    private static (double[] First, double[] Second) Halves(IReadOnlyList<double> scores, SplitMix64 rng)
    {
        var order = Enumerable.Range(0, scores.Count).ToArray();
        rng.Shuffle(order);
        var half = scores.Count / 2;
        return ([.. order.Take(half).Select(i => scores[i])], [.. order.Skip(half).Select(i => scores[i])]);
    }

    internal static EpsilonLowerBound Evaluate(long tp, long fn, long fp, long tn, double delta, double confidence)
    {
        Check(delta, confidence);
        if (tp < 0 || fn < 0 || fp < 0 || tn < 0 || tp + fn == 0 || fp + tn == 0)
        {
            throw new ArgumentException($"Counts must be ≥ 0 with at least one member and one non-member (got TP {tp}, FN {fn}, FP {fp}, TN {tn}).");
        }

        var fprUpper = ClopperPearson.Upper(fp, fp + tn, confidence);
        var fnrUpper = ClopperPearson.Upper(fn, tp + fn, confidence);
        var epsilon = Math.Max(0, Math.Max(LogRatio(1 - delta - fnrUpper, fprUpper), LogRatio(1 - delta - fprUpper, fnrUpper)));
        return new EpsilonLowerBound(epsilon, delta, confidence, double.NaN, tp, fn, fp, tn, fprUpper, fnrUpper);
    }

    private static double LogRatio(double numerator, double denominator) =>
        numerator > 0 ? Math.Log(numerator / denominator) : 0;

    private static void Check(double delta, double confidence)
    {
        if (!(delta >= 0 && delta < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in [0, 1).");
        }

        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be in (0, 1).");
        }
    }

    // Ranks every distinct selection threshold by a cheap Agresti–Coull stand-in for the Clopper–Pearson bound, then
    // takes the exact bound of the best few. Any rule that looks only at the selection set keeps the result valid. The
    // returned threshold lies halfway between the chosen selection score and the next lower one (every threshold in
    // that gap makes the same selection predictions; the middle generalises best), or is −∞ for "everyone a member".
    private static double ChooseThreshold(IReadOnlyList<double> members, IReadOnlyList<double> nonMembers, double delta, double confidence)
    {
        var roc = RocCurve.Compute(members, nonMembers);
        var points = roc.AllPoints;
        var m = members.Count;
        var n = nonMembers.Count;
        var candidates = Enumerable.Range(1, points.Count - 1)
            .Select(i => (Index: i, Proxy: ProxyBound(points[i].TruePositives, m - points[i].TruePositives, points[i].FalsePositives, n - points[i].FalsePositives, delta)))
            .OrderByDescending(c => c.Proxy)
            .ThenBy(c => c.Index)
            .Take(ExactCandidates)
            .Select(c => c.Index)
            .Order()
            .ToList();
        var best = candidates[0];
        var bestValue = double.NegativeInfinity;
        foreach (var i in candidates)
        {
            var p = points[i];
            var value = Evaluate(p.TruePositives, m - p.TruePositives, p.FalsePositives, n - p.FalsePositives, delta, confidence).Epsilon;
            if (value > bestValue)
            {
                bestValue = value;
                best = i;
            }
        }

        return best == points.Count - 1
            ? double.NegativeInfinity
            : (points[best].Threshold / 2) + (points[best + 1].Threshold / 2);
    }

    private static double ProxyBound(long tp, long fn, long fp, long tn, double delta)
    {
        static double Upper(long k, long total)
        {
            // Agresti–Coull with z = 2: p̃ = (k + 2)/(n + 4), upper = p̃ + 2·√(p̃(1 − p̃)/(n + 4)).
            var p = (k + 2.0) / (total + 4.0);
            return Math.Min(1, p + (2 * Math.Sqrt(p * (1 - p) / (total + 4.0))));
        }

        var fpr = Upper(fp, fp + tn);
        var fnr = Upper(fn, tp + fn);
        return Math.Max(LogRatio(1 - delta - fnr, fpr), LogRatio(1 - delta - fpr, fnr));
    }
}
