using DiffPriv.Auditing.MembershipInference;

namespace DiffPriv.Auditing.Lira;

/// <summary>
/// The likelihood-ratio attack LiRA (Carlini et al., "Membership Inference Attacks From First Principles", IEEE S&amp;P
/// 2022): fit Gaussians to an example's logit-scaled confidence over shadow models trained with it (in) and without it
/// (out), then ask which fits the target model's confidence better.
/// </summary>
/// <remarks>
/// Evaluation is leave-one-out over K models trained on random halves of one pool: each model in turn is the target and
/// the other K − 1 are its shadow models, so K·N (target, example) pairs are scored, about half of them members.
/// </remarks>
public static class LiraAttack
{
    // Spreads below this (in logit units) are raised to it, so a constant set of confidences gives finite scores.
    private const double MinStandardDeviation = 1e-9;

    /// <summary>
    /// φ = log(p / (1 − p)) for p the softmax probability of class <paramref name="label"/> (the paper's Eq. 4), computed
    /// from the logits z as z_y − log Σ_{j≠y} e^{z_j} so that it stays exact when p is within rounding of 0 or 1.
    /// </summary>
    /// <param name="logits">The model's logits for one example (at least two classes, finite).</param>
    /// <param name="label">The true class, an index into <paramref name="logits"/>.</param>
    /// <returns>φ, finite.</returns>
    /// <exception cref="ArgumentException">Fewer than two logits, a label out of range or a logit not finite.</exception>
    public static double LogitConfidence(ReadOnlySpan<double> logits, int label)
    {
        if (logits.Length < 2)
        {
            throw new ArgumentException("LiRA's confidence needs at least two classes.", nameof(logits));
        }

        if (label < 0 || label >= logits.Length)
        {
            throw new ArgumentException($"label {label} is not a class of {logits.Length} logits.", nameof(label));
        }

        var max = double.NegativeInfinity;
        for (var j = 0; j < logits.Length; j++)
        {
            if (!double.IsFinite(logits[j]))
            {
                throw new ArgumentException("Logits must be finite.", nameof(logits));
            }

            if (j != label)
            {
                max = Math.Max(max, logits[j]);
            }
        }

        var sum = 0.0;
        for (var j = 0; j < logits.Length; j++)
        {
            if (j != label)
            {
                sum += Math.Exp(logits[j] - max);
            }
        }

        return logits[label] - (max + Math.Log(sum));
    }

    /// <summary>
    /// The online score log N(φ; μ_in, σ_in²) − log N(φ; μ_out, σ_out²): positive when φ is more likely under the in
    /// Gaussian. Standard deviations below 1e-9 count as 1e-9.
    /// </summary>
    /// <param name="confidence">φ of the target model.</param>
    /// <param name="meanIn">μ_in.</param>
    /// <param name="stdIn">σ_in ≥ 0.</param>
    /// <param name="meanOut">μ_out.</param>
    /// <param name="stdOut">σ_out ≥ 0.</param>
    /// <returns>The log-likelihood ratio.</returns>
    public static double OnlineScore(double confidence, double meanIn, double stdIn, double meanOut, double stdOut)
    {
        // log N(x; μ, σ²) = −log σ − (x − μ)²/(2σ²) − ½ log 2π; the constant cancels in the ratio.
        var si = Math.Max(stdIn, MinStandardDeviation);
        var so = Math.Max(stdOut, MinStandardDeviation);
        var zi = (confidence - meanIn) / si;
        var zo = (confidence - meanOut) / so;
        return Math.Log(so / si) + (0.5 * ((zo * zo) - (zi * zi)));
    }

    /// <summary>
    /// The offline score z = (φ − μ_out)/σ_out: the one-sided test rejects "not a member" when φ is high for the out
    /// Gaussian, and its p-value 1 − Φ(z) falls as z grows. Standard deviations below 1e-9 count as 1e-9.
    /// </summary>
    /// <param name="confidence">φ of the target model.</param>
    /// <param name="meanOut">μ_out.</param>
    /// <param name="stdOut">σ_out ≥ 0.</param>
    /// <returns>z.</returns>
    public static double OfflineScore(double confidence, double meanOut, double stdOut) =>
        (confidence - meanOut) / Math.Max(stdOut, MinStandardDeviation);

    /// <summary>
    /// Which examples each of K models trains on, balanced as in the paper's code: every example is in exactly ⌊K/2⌋
    /// models (a random set, drawn independently per example), so each model trains on about half of the pool.
    /// </summary>
    /// <param name="models">K ≥ 1.</param>
    /// <param name="examples">N ≥ 0.</param>
    /// <param name="seed">Seeds the draw (a public choice, not a secret).</param>
    /// <returns>[K][N] flags.</returns>
    public static bool[][] BalancedInclusion(int models, int examples, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(models, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(examples);
        var rng = new SplitMix64(seed);
        var included = new bool[models][];
        for (var k = 0; k < models; k++)
        {
            included[k] = new bool[examples];
        }

        var order = new int[models];
        for (var i = 0; i < examples; i++)
        {
            for (var k = 0; k < models; k++)
            {
                order[k] = k;
            }

            rng.Shuffle(order);
            for (var r = 0; r < models / 2; r++)
            {
                included[order[r]][i] = true;
            }
        }

        return included;
    }

    /// <summary>
    /// Runs every LiRA test leave-one-out: each model in turn is the target; for each example, the Gaussians are fitted
    /// to the other models' confidences (in: those that trained on it; out: the rest), means by the sample mean, spreads
    /// per <see cref="LiraVariance"/>. All K·N scores are pooled into one ROC curve per test.
    /// </summary>
    /// <param name="input">The models' confidences and inclusion flags.</param>
    /// <param name="confidence">Two-sided level of the Clopper–Pearson interval of the TPR at 0.1% FPR, in (0, 1). Default 0.95.</param>
    /// <returns>The four tests.</returns>
    /// <exception cref="ArgumentException">The input is invalid (<see cref="LiraInput.Validate"/>).</exception>
    public static LiraResult Run(LiraInput input, double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(input);
        input.Validate();
        if (!(confidence > 0 && confidence < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be in (0, 1).");
        }

        var models = input.Models;
        var n = input.Examples;
        var members = new List<double>[4];
        var nonMembers = new List<double>[4];
        for (var v = 0; v < 4; v++)
        {
            members[v] = new List<double>(models * n / 2);
            nonMembers[v] = new List<double>(models * n / 2);
        }

        var inFit = new Fit[n];
        var outFit = new Fit[n];
        for (var target = 0; target < models; target++)
        {
            double ssIn = 0, ssOut = 0;
            long dofIn = 0, dofOut = 0;
            for (var i = 0; i < n; i++)
            {
                inFit[i] = Fit.Of(input, target, i, inside: true);
                outFit[i] = Fit.Of(input, target, i, inside: false);
                ssIn += inFit[i].SumOfSquares;
                dofIn += inFit[i].Count - 1;
                ssOut += outFit[i].SumOfSquares;
                dofOut += outFit[i].Count - 1;
            }

            if (dofIn == 0 || dofOut == 0)
            {
                throw new ArgumentException(
                    $"with model {target} as the target, no example has two shadow models {(dofIn == 0 ? "in" : "out")}: the global variance needs more models or examples.");
            }

            // The pooled within-example spreads, from the shadow models only (never the target's own confidences).
            var globalIn = Math.Sqrt(ssIn / dofIn);
            var globalOut = Math.Sqrt(ssOut / dofOut);
            for (var i = 0; i < n; i++)
            {
                var phi = input.Confidences[target][i];
                var (mi, mo) = (inFit[i].Mean, outFit[i].Mean);
                var (si, so) = (inFit[i].StandardDeviation(globalIn), outFit[i].StandardDeviation(globalOut));
                var scores = new[]
                {
                    OnlineScore(phi, mi, globalIn, mo, globalOut),
                    OfflineScore(phi, mo, globalOut),
                    OnlineScore(phi, mi, si, mo, so),
                    OfflineScore(phi, mo, so),
                };
                var into = input.Included[target][i] ? members : nonMembers;
                for (var v = 0; v < 4; v++)
                {
                    into[v].Add(scores[v]);
                }
            }
        }

        if (members[0].Count == 0 || nonMembers[0].Count == 0)
        {
            throw new ArgumentException("LiRA needs at least one member and one non-member (target, example) pair.");
        }

        var kinds = new[]
        {
            (LiraMode.Online, LiraVariance.Global),
            (LiraMode.Offline, LiraVariance.Global),
            (LiraMode.Online, LiraVariance.PerExample),
            (LiraMode.Offline, LiraVariance.PerExample),
        };
        var attacks = kinds.Select((kind, v) => new LiraAttackResult(kind.Item1, kind.Item2, [.. members[v]], [.. nonMembers[v]], confidence)).ToArray();
        return new LiraResult(models, n, attacks);
    }

    // Mean and sum of squared deviations of one example's confidences over the non-target models on one side.
    private readonly record struct Fit(int Count, double Mean, double SumOfSquares)
    {
        public static Fit Of(LiraInput input, int target, int example, bool inside)
        {
            var count = 0;
            var sum = 0.0;
            for (var k = 0; k < input.Models; k++)
            {
                if (k != target && input.Included[k][example] == inside)
                {
                    count++;
                    sum += input.Confidences[k][example];
                }
            }

            var mean = sum / count;
            var ss = 0.0;
            for (var k = 0; k < input.Models; k++)
            {
                if (k != target && input.Included[k][example] == inside)
                {
                    var d = input.Confidences[k][example] - mean;
                    ss += d * d;
                }
            }

            return new Fit(count, mean, ss);
        }

        public double StandardDeviation(double global) => Count >= 2 ? Math.Sqrt(SumOfSquares / (Count - 1)) : global;
    }
}
