namespace DiffPriv.Auditing.MembershipInference;

/// <summary>
/// The membership-inference audit: runs the attacks on every slice of the input and reports, per attack and slice, the
/// ROC curve, AUC, attacker advantage, TPR at 0.1% and 1% FPR, PPV and an empirical ε lower bound (Clopper–Pearson,
/// conservative: coverage at least <see cref="AuditOptions.Confidence"/> for this model's error rates on these example
/// sets). The bound speaks about the training algorithm's ε only if members and non-members were assigned at random from
/// one distribution, and it treats examples that share one model as independent trials, an approximation (see
/// <see cref="EmpiricalEpsilon"/>). This is the library entry point behind <c>diffpriv audit mia</c>; a training run can
/// call it with the losses and logits of its training examples (members) and of examples held out at random before
/// training (non-members).
/// </summary>
public static class MembershipInferenceAudit
{
    /// <summary>Runs the audit.</summary>
    /// <param name="input">Member and non-member losses, optionally logits or probabilities and labels.</param>
    /// <param name="options">Settings (null = defaults: all supported attacks, all slices, δ = 1e-5, 95% confidence).</param>
    /// <returns>Results per attack and slice, plus notes on what was skipped.</returns>
    /// <exception cref="ArgumentException">The input or options are invalid, or an explicitly requested attack needs
    /// logits or probabilities the input does not have.</exception>
    public static AuditResult Run(AttackInput input, AuditOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= new AuditOptions();
        options.Validate();
        input.Validate();
        var notes = new List<string>();
        var attacks = ChooseAttacks(input, options, notes);
        var members = Prepare(input.MemberLosses, input.MemberLogits, input.MemberProbabilities, input.MemberLabels);
        var nonMembers = Prepare(input.NonMemberLosses, input.NonMemberLogits, input.NonMemberProbabilities, input.NonMemberLabels);

        var results = new List<AttackResult>();
        foreach (var slice in Slices(input, options, notes))
        {
            var memberRows = Select(members, slice);
            var nonMemberRows = Select(nonMembers, slice);
            if (slice.Kind != SliceKind.All && (memberRows.Length < options.MinSliceExamples || nonMemberRows.Length < options.MinSliceExamples))
            {
                notes.Add($"slice {slice.Name} skipped: {memberRows.Length} members and {nonMemberRows.Length} non-members (fewer than {options.MinSliceExamples}).");
                continue;
            }

            foreach (var attack in attacks)
            {
                // Threshold attacks of one slice share the ε split (equal scores ⇒ equal bounds); trained attacks each
                // get their own balancing, folds and initialisation.
                var seed = Mix((ulong)(uint)options.Seed, Fnv1a(slice.Name), attack.IsTrained() ? (ulong)attack + 1 : 0);
                if (attack.IsTrained())
                {
                    if (memberRows.Length < 2 || nonMemberRows.Length < 2)
                    {
                        notes.Add($"{attack.Name()} on slice {slice.Name} skipped: 2-fold cross-validation needs at least 2 members and 2 non-members.");
                        continue;
                    }

                    var outcome = TrainedAttack.Run(
                        attack,
                        [.. memberRows.Select(i => members[i].TrainedFeatures)],
                        [.. nonMemberRows.Select(i => nonMembers[i].TrainedFeatures)],
                        options.Delta,
                        options.Confidence,
                        seed);
                    results.Add(new AttackResult(attack, slice, memberRows, nonMemberRows, outcome.MemberScores, outcome.NonMemberScores, outcome.Epsilon));
                }
                else
                {
                    double[] memberScores = [.. memberRows.Select(i => ThresholdScore(attack, members[i]))];
                    double[] nonMemberScores = [.. nonMemberRows.Select(i => ThresholdScore(attack, nonMembers[i]))];
                    var epsilon = EmpiricalEpsilon.SplitAndBound(memberScores, nonMemberScores, options.Delta, options.Confidence, unchecked((int)seed));
                    results.Add(new AttackResult(attack, slice, memberRows, nonMemberRows, memberScores, nonMemberScores, epsilon));
                }
            }
        }

        return new AuditResult(input, options, results, notes);
    }

    private sealed record Example(double Loss, double[]? Probabilities, int? Label, int? Predicted, double[] TrainedFeatures);

    private static Example[] Prepare(
        IReadOnlyList<double> losses,
        IReadOnlyList<IReadOnlyList<double>>? logits,
        IReadOnlyList<IReadOnlyList<double>>? probabilities,
        IReadOnlyList<int>? labels)
    {
        var examples = new Example[losses.Count];
        for (var i = 0; i < examples.Length; i++)
        {
            double[]? p = logits is not null ? Features.Softmax(logits[i]) : probabilities is not null ? [.. probabilities[i]] : null;
            int? predicted = logits is not null ? Features.Argmax(logits[i]) : p is not null ? Features.Argmax(p) : null;
            examples[i] = new Example(losses[i], p, labels?[i], predicted, Features.ForTrainedAttack(losses[i], p));
        }

        return examples;
    }

    private static double ThresholdScore(AttackKind attack, Example e) => attack switch
    {
        AttackKind.LossThreshold => -e.Loss,
        AttackKind.ConfidenceThreshold => Features.Confidence(e.Probabilities!, e.Label),
        AttackKind.EntropyThreshold => -Features.Entropy(e.Probabilities!, e.Label),
        _ => throw new ArgumentOutOfRangeException(nameof(attack), attack, "Not a threshold attack."),
    };

    private static List<AttackKind> ChooseAttacks(AttackInput input, AuditOptions options, List<string> notes)
    {
        if (options.Attacks is { } requested)
        {
            var unsupported = requested.FirstOrDefault(a => a.NeedsPredictions() && !input.HasPredictions, (AttackKind)(-1));
            if (unsupported != (AttackKind)(-1))
            {
                throw new ArgumentException($"The {unsupported.Name()} attack needs logits or probabilities, and the input has neither.");
            }

            return [.. AttackKinds.All.Where(requested.Contains)];
        }

        if (!input.HasPredictions)
        {
            notes.Add("no logits or probabilities: the confidence and entropy attacks did not run, and trained attacks see the loss only.");
        }

        return [.. AttackKinds.All.Where(a => !a.NeedsPredictions() || input.HasPredictions)];
    }

    private static IEnumerable<SliceSpec> Slices(AttackInput input, AuditOptions options, List<string> notes)
    {
        yield return SliceSpec.All;
        if (options.SliceByClass)
        {
            if (input.HasLabels)
            {
                foreach (var label in input.MemberLabels!.Concat(input.NonMemberLabels!).Distinct().Order())
                {
                    yield return SliceSpec.Class(label);
                }
            }
            else
            {
                notes.Add("no labels: no per-class slices.");
            }
        }

        if (options.SliceByCorrectness)
        {
            if (input.HasLabels && input.HasPredictions)
            {
                yield return SliceSpec.CorrectlyClassified;
                yield return SliceSpec.Misclassified;
            }
            else
            {
                notes.Add("correctly/incorrectly classified slices need labels and logits or probabilities.");
            }
        }
    }

    private static int[] Select(Example[] examples, SliceSpec slice)
    {
        var rows = new List<int>();
        for (var i = 0; i < examples.Length; i++)
        {
            var e = examples[i];
            var inSlice = slice.Kind switch
            {
                SliceKind.All => true,
                SliceKind.Class => e.Label == slice.ClassLabel,
                SliceKind.CorrectlyClassified => e.Label is not null && e.Predicted == e.Label,
                SliceKind.Misclassified => e.Label is not null && e.Predicted is not null && e.Predicted != e.Label,
                _ => false,
            };
            if (inSlice)
            {
                rows.Add(i);
            }
        }

        return [.. rows];
    }

    // Stable (process-independent) hash of a slice name, so seeds do not depend on string.GetHashCode's randomisation.
    private static ulong Fnv1a(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    private static ulong Mix(ulong a, ulong b, ulong c)
    {
        var rng = new SplitMix64(a ^ (b * 0x9E3779B97F4A7C15UL) ^ (c * 0xC2B2AE3D27D4EB4FUL));
        return rng.NextUInt64();
    }
}
