namespace DiffPriv.Auditing.MembershipInference;

/// <summary>
/// Runs a trained attack with 2-fold cross-validation on balanced member/non-member sets (TF Privacy's
/// <c>_run_trained_attack</c> with <c>balance_attacker_training=True</c>) and computes its ε lower bound.
/// </summary>
/// <remarks>
/// The larger side is subsampled at random to the size k of the smaller; the k + k balanced examples are split into two
/// stratified folds. Model 1 is trained on fold 1 and scores fold 2 and the left-out examples; model 2 is trained on fold 2
/// and scores fold 1, so every score comes from a model that never saw that example. The ε bound uses model 1 only: its
/// threshold is chosen on model 1's scores of its own training fold and the bound is computed on its scores of fold 2 and
/// the left-out examples, which are independent of model 1 and of the threshold.
/// </remarks>
internal static class TrainedAttack
{
    public sealed record Outcome(double[] MemberScores, double[] NonMemberScores, EpsilonLowerBound Epsilon);

    public static Outcome Run(AttackKind kind, double[][] members, double[][] nonMembers, double delta, double confidence, ulong seed)
    {
        var k = Math.Min(members.Length, nonMembers.Length);
        if (k < 2)
        {
            throw new ArgumentException($"A trained attack needs at least 2 members and 2 non-members (got {members.Length} and {nonMembers.Length}).");
        }

        var rng = new SplitMix64(seed);
        var memberOrder = Permutation(members.Length, rng);
        var nonMemberOrder = Permutation(nonMembers.Length, rng);
        var half = k / 2;

        // Fold 1 = first half of each balanced side; fold 2 = the rest of the balanced part; left-out = beyond k.
        var fold1 = (Members: memberOrder[..half], NonMembers: nonMemberOrder[..half]);
        var fold2 = (Members: memberOrder[half..k], NonMembers: nonMemberOrder[half..k]);
        var leftOut = (Members: memberOrder[k..], NonMembers: nonMemberOrder[k..]);

        var model1 = Train(kind, members, nonMembers, fold1.Members, fold1.NonMembers, rng.NextUInt64());
        var model2 = Train(kind, members, nonMembers, fold2.Members, fold2.NonMembers, rng.NextUInt64());

        var memberScores = new double[members.Length];
        var nonMemberScores = new double[nonMembers.Length];
        foreach (var i in fold1.Members)
        {
            memberScores[i] = model2(members[i]);
        }

        foreach (var i in fold1.NonMembers)
        {
            nonMemberScores[i] = model2(nonMembers[i]);
        }

        foreach (var i in fold2.Members.Concat(leftOut.Members))
        {
            memberScores[i] = model1(members[i]);
        }

        foreach (var i in fold2.NonMembers.Concat(leftOut.NonMembers))
        {
            nonMemberScores[i] = model1(nonMembers[i]);
        }

        var epsilon = EmpiricalEpsilon.SelectAndBound(
            [.. fold1.Members.Select(i => model1(members[i]))],
            [.. fold1.NonMembers.Select(i => model1(nonMembers[i]))],
            [.. fold2.Members.Concat(leftOut.Members).Select(i => memberScores[i])],
            [.. fold2.NonMembers.Concat(leftOut.NonMembers).Select(i => nonMemberScores[i])],
            delta,
            confidence);
        return new Outcome(memberScores, nonMemberScores, epsilon);
    }

    internal static IAttackModel CreateModel(AttackKind kind, ulong seed) => kind switch
    {
        AttackKind.LogisticRegression => new LogisticRegressionModel(),
        AttackKind.Mlp => new MlpModel(seed),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a trained attack."),
    };

    // Trains a model on the given rows and returns its scorer, put on a common scale: (logit − median) / IQR of the
    // model's scores on its own training rows.
    private static Func<double[], double> Train(AttackKind kind, double[][] members, double[][] nonMembers, int[] memberRows, int[] nonMemberRows, ulong seed)
    {
        var x = memberRows.Select(i => members[i]).Concat(nonMemberRows.Select(i => nonMembers[i])).ToArray();
        var y = memberRows.Select(_ => true).Concat(nonMemberRows.Select(_ => false)).ToArray();
        var model = CreateModel(kind, seed);
        model.Fit(x, y);
        var own = x.Select(model.Score).Order().ToArray();
        var median = Quantile(own, 0.5);
        var spread = Quantile(own, 0.75) - Quantile(own, 0.25);
        var scale = spread > 0 && double.IsFinite(spread) ? 1 / spread : 1;
        return row => (model.Score(row) - median) * scale;
    }

    // Linear-interpolation quantile of sorted values (numpy's default).
    private static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((position - lower) * (sorted[upper] - sorted[lower]));
    }

    private static int[] Permutation(int n, SplitMix64 rng)
    {
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        return order;
    }
}
