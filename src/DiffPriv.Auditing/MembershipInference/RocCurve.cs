namespace DiffPriv.Auditing.MembershipInference;

/// <summary>
/// The ROC curve of a membership score (members = positives) with exactly scikit-learn's <c>roc_curve</c> semantics,
/// and the membership-inference metrics read from it (TF Privacy's <c>RocCurve</c>).
/// </summary>
/// <remarks>
/// <para>As in <c>sklearn.metrics.roc_curve(y, score)</c> (default <c>drop_intermediate=True</c>, scikit-learn ≥ 1.3):
/// scores are sorted in descending order; there is one candidate point per distinct score value t (ties are one point,
/// so tied members and non-members move the curve diagonally), with TP and FP counting scores ≥ t; an interior point is
/// dropped when both FP and TP have zero second difference there (equal steps on both sides); finally the point
/// (FPR 0, TPR 0) with threshold +∞ is put in front.</para>
/// <para>AUC is the trapezoidal area under <see cref="Points"/> (sklearn's <c>auc</c>); it equals the Mann–Whitney
/// probability that a random member scores above a random non-member, ties counting ½.</para>
/// </remarks>
public sealed class RocCurve
{
    private RocCurve(int members, int nonMembers, RocPoint[] allPoints, RocPoint[] points)
    {
        MemberCount = members;
        NonMemberCount = nonMembers;
        AllPoints = allPoints;
        Points = points;
        Auc = Trapezoid(points);
        AttackerAdvantage = points.Max(p => Math.Abs(p.TruePositiveRate - p.FalsePositiveRate));
        Ppv = points.Where(p => p.TruePositives + p.FalsePositives > 0)
            .Max(p => p.TruePositives / (double)(p.TruePositives + p.FalsePositives));
    }

    /// <summary>Number of members (positives).</summary>
    public int MemberCount { get; }

    /// <summary>Number of non-members (negatives).</summary>
    public int NonMemberCount { get; }

    /// <summary>The curve as <c>sklearn.metrics.roc_curve</c> returns it (drop_intermediate=True), starting at (0, 0).</summary>
    public IReadOnlyList<RocPoint> Points { get; }

    /// <summary>Every distinct threshold (drop_intermediate=False), starting at (0, 0): the points low-FPR metrics use.</summary>
    public IReadOnlyList<RocPoint> AllPoints { get; }

    /// <summary>Area under the curve, in [0, 1] (0.5 = chance).</summary>
    public double Auc { get; }

    /// <summary>Attacker advantage max |TPR − FPR| over the curve (Yeom et al. 2018, Definition 4, maximised over thresholds), in [0, 1].</summary>
    public double AttackerAdvantage { get; }

    /// <summary>
    /// Positive predictive value: the largest precision TP / (TP + FP) over thresholds that predict at least one member,
    /// at the member/non-member ratio of these inputs (Jayaraman et al. 2020). Equals TF Privacy's
    /// max TPR / (TPR + (n_non/n_mem)·FPR); its special value 1/(1 + n_non/n_mem) for the empty prediction never exceeds
    /// the precision of predicting everyone a member, so it never changes the maximum.
    /// </summary>
    public double Ppv { get; }

    /// <summary>
    /// Standard error of the AUC of an attack that cannot tell members from non-members (continuous scores):
    /// √((m + n + 1) / (12·m·n)), the null standard deviation of the Mann–Whitney statistic divided by m·n.
    /// </summary>
    public double NullAucStandardError =>
        Math.Sqrt((MemberCount + NonMemberCount + 1.0) / (12.0 * MemberCount * NonMemberCount));

    /// <summary>
    /// TPR at a low FPR: the largest TPR among the points of <see cref="AllPoints"/> (every distinct threshold, not only
    /// the ones sklearn keeps) whose FPR ≤ <paramref name="maxFalsePositiveRate"/>; no interpolation. With fewer than
    /// 1/maxFPR non-members this is the TPR at zero false positives.
    /// </summary>
    /// <param name="maxFalsePositiveRate">The FPR budget, in [0, 1] (e.g. 0.001 or 0.01).</param>
    /// <returns>A TPR in [0, 1].</returns>
    public double TprAtFpr(double maxFalsePositiveRate)
    {
        if (!(maxFalsePositiveRate >= 0 && maxFalsePositiveRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxFalsePositiveRate), maxFalsePositiveRate, "The FPR budget must be in [0, 1].");
        }

        var best = 0.0;
        foreach (var p in AllPoints)
        {
            if (p.FalsePositiveRate <= maxFalsePositiveRate)
            {
                best = Math.Max(best, p.TruePositiveRate);
            }
        }

        return best;
    }

    /// <summary>Computes the curve of member scores against non-member scores (higher score = more likely a member).</summary>
    /// <param name="memberScores">Scores of members (positives); at least one, none NaN.</param>
    /// <param name="nonMemberScores">Scores of non-members (negatives); at least one, none NaN.</param>
    /// <returns>The curve.</returns>
    /// <exception cref="ArgumentException">An empty list or a NaN score.</exception>
    public static RocCurve Compute(IReadOnlyList<double> memberScores, IReadOnlyList<double> nonMemberScores)
    {
        ArgumentNullException.ThrowIfNull(memberScores);
        ArgumentNullException.ThrowIfNull(nonMemberScores);
        if (memberScores.Count == 0 || nonMemberScores.Count == 0)
        {
            throw new ArgumentException("A ROC curve needs at least one member and one non-member score.");
        }

        var m = memberScores.Count;
        var n = nonMemberScores.Count;
        var scores = new double[m + n];
        var isMember = new bool[m + n];
        for (var i = 0; i < m; i++)
        {
            scores[i] = memberScores[i];
            isMember[i] = true;
        }

        for (var j = 0; j < n; j++)
        {
            scores[m + j] = nonMemberScores[j];
        }

        if (scores.Any(double.IsNaN))
        {
            throw new ArgumentException("Scores must not be NaN.");
        }

        // Descending by score; ties are resolved into one point below, so their internal order does not matter.
        Array.Sort(scores, isMember, Comparer<double>.Create((x, y) => y.CompareTo(x)));

        // One (fp, tp, threshold) per distinct score, counting everything ≥ that score.
        var fps = new List<int>();
        var tps = new List<int>();
        var thresholds = new List<double>();
        int tp = 0, fp = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            if (isMember[i])
            {
                tp++;
            }
            else
            {
                fp++;
            }

            if (i == scores.Length - 1 || scores[i + 1] != scores[i])
            {
                fps.Add(fp);
                tps.Add(tp);
                thresholds.Add(scores[i]);
            }
        }

        var all = new RocPoint[fps.Count + 1];
        all[0] = new RocPoint(double.PositiveInfinity, 0, 0, 0, 0);
        for (var k = 0; k < fps.Count; k++)
        {
            all[k + 1] = new RocPoint(thresholds[k], fps[k] / (double)n, tps[k] / (double)m, fps[k], tps[k]);
        }

        // sklearn's drop_intermediate: keep the ends and every point where fps or tps has a nonzero second difference.
        var kept = new List<RocPoint> { all[0] };
        for (var k = 0; k < fps.Count; k++)
        {
            var interior = fps.Count > 2 && k > 0 && k < fps.Count - 1;
            if (!interior
                || fps[k + 1] - (2 * fps[k]) + fps[k - 1] != 0
                || tps[k + 1] - (2 * tps[k]) + tps[k - 1] != 0)
            {
                kept.Add(all[k + 1]);
            }
        }

        return new RocCurve(m, n, all, [.. kept]);
    }

    private static double Trapezoid(RocPoint[] points)
    {
        var area = 0.0;
        for (var i = 1; i < points.Length; i++)
        {
            area += (points[i].FalsePositiveRate - points[i - 1].FalsePositiveRate)
                * (points[i].TruePositiveRate + points[i - 1].TruePositiveRate) / 2;
        }

        return area;
    }
}
