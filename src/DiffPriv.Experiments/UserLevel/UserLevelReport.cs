using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Experiments.Reports;

namespace DiffPriv.Experiments.UserLevel;

/// <summary>The run folder of the user-level experiment: report.md, results.json, command.txt.</summary>
public static class UserLevelReport
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The JSON object printed by <c>--json</c> and saved as results.json.</summary>
    /// <param name="r">A finished run.</param>
    /// <returns><c>{"target_epsilon", "delta", "results": [{"setting", "privacy_unit", "test_rmse", "epsilon", "group_bounds", …}], "run_dir", …}</c>.</returns>
    public static JsonObject SummaryJson(UserLevelResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var results = new JsonArray();
        foreach (var o in r.Outcomes)
        {
            var bounds = new JsonArray();
            foreach (var b in o.GroupBounds)
            {
                bounds.Add(new JsonObject
                {
                    ["user"] = b.User,
                    ["ratings"] = b.Examples,
                    ["classic_epsilon"] = PrivacyStatement.JsonNumber(b.ClassicEpsilon),
                    ["classic_delta_log10"] = PrivacyStatement.JsonNumber(b.ClassicLog10Delta),
                    ["rdp_epsilon"] = PrivacyStatement.JsonNumber(b.AccountantEpsilon),
                    ["rdp_bound"] = b.AccountantBound,
                });
            }

            results.Add(new JsonObject
            {
                ["setting"] = o.Mode.Name(),
                ["privacy_unit"] = o.PrivacyUnit,
                ["test_rmse"] = o.TestRmse,
                ["epsilon"] = PrivacyStatement.JsonNumber(o.Epsilon),
                ["noise_multiplier"] = o.NoiseMultiplier,
                ["sampling_probability"] = o.SamplingProbability,
                ["steps"] = o.Steps,
                ["wall_seconds"] = Math.Round(o.WallSeconds, 1),
                ["group_bounds"] = bounds,
            });
        }

        return new JsonObject
        {
            ["target_epsilon"] = r.Settings.TargetEpsilon,
            ["delta"] = r.Settings.Delta,
            ["results"] = results,
            ["run_dir"] = r.RunDir,
            ["quick"] = r.Settings.IsQuick,
            ["users"] = r.Users,
            ["movies"] = r.Movies,
            ["train_ratings"] = r.TrainRatings,
            ["test_ratings"] = r.TestRatings,
            ["median_user_train_ratings"] = r.MedianTrainRatings,
            ["max_user_train_ratings"] = r.MaxTrainRatings,
            ["own_ratings_rmse"] = r.OwnRatingsRmse,
            ["wall_seconds"] = Math.Round(r.WallSeconds, 1),
        };
    }

    /// <summary>Writes the run folder's files.</summary>
    /// <param name="r">A finished run.</param>
    public static void Write(UserLevelResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        Directory.CreateDirectory(r.RunDir);
        File.WriteAllText(Path.Combine(r.RunDir, "command.txt"), r.Settings.CommandLine + "\n");
        File.WriteAllText(Path.Combine(r.RunDir, "results.json"), SummaryJson(r).ToJsonString(Indented) + "\n");
        File.WriteAllText(Path.Combine(r.RunDir, "report.md"), Markdown(r));
    }

    private static string Markdown(UserLevelResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = r.Settings;
        var delta = PrivacyStatement.Delta(s.Delta);
        var b = new StringBuilder();
        b.AppendLine(inv, $"# diffpriv experiment user-level{(s.IsQuick ? " (quick)" : "")}");
        b.AppendLine();
        b.AppendLine("```bash");
        b.AppendLine(s.CommandLine);
        b.AppendLine("```");
        b.AppendLine();
        b.AppendLine($"Rating prediction, MovieLens ratings of {r.Users} users and {r.Movies} movies: {r.TrainRatings} training and {r.TestRatings} test ratings " +
            $"({(100 * s.HoldOut).ToString("G3", inv)}% of every user's ratings held out, seed {s.Seed}). Training ratings per user: median {r.MedianTrainRatings}, most {r.MaxTrainRatings}. " +
            $"Every private setting is calibrated for ε = {PrivacyStatement.Format(s.TargetEpsilon)} at δ = {delta} **per its privacy unit**; its ε below is read from " +
            "the PLD accountant's ledger of the steps that ran.");
        b.AppendLine();
        b.AppendLine("| setting | privacy unit | test RMSE | ε per unit | σ | q | steps | epochs | batch | AdamW lr, weight decay | C | wall time |");
        b.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var o in r.Outcomes)
        {
            var h = s.For(o.Mode);
            var batch = o.Mode == RatingTrainingMode.ExampleLevel ? $"{h.BatchSize} ratings" : $"{h.BatchSize} users";
            b.AppendLine(
                $"| {o.Mode.Name()} | {(o.Mode.IsPrivate() ? $"**{o.PrivacyUnit}**" : "none")} | **{o.TestRmse.ToString("F4", inv)}** | " +
                $"{(o.Mode.IsPrivate() ? $"{o.Epsilon.ToString("F3", inv)} per {(o.Mode == RatingTrainingMode.UserLevel ? "user" : "example (rating)")}" : "∞ (not private)")} | " +
                $"{(o.NoiseMultiplier is { } sigma ? sigma.ToString("G4", inv) : "none")} | {(o.SamplingProbability is { } q ? q.ToString("G4", inv) : "-")} | {o.Steps} | " +
                $"{h.Epochs.ToString(inv)} | {batch} | {h.LearningRate.ToString("G3", inv)}, {h.WeightDecay.ToString("G3", inv)} | {(o.Mode.IsPrivate() ? $"{PrivacyStatement.Format(h.MaxGradNorm)} per {o.PrivacyUnit}" : "-")} | " +
                $"{o.WallSeconds.ToString("F0", inv)} s |");
        }

        b.AppendLine(inv, $"| each user alone (own ratings' mean, no shared model) | – | {r.OwnRatingsRmse.ToString("F4", inv)} | nothing shared: no cost | | | | | | | | |");
        b.AppendLine();
        if (r.Outcomes.FirstOrDefault(o => o.Mode == RatingTrainingMode.ExampleLevel) is { } example)
        {
            b.AppendLine("## What example-level ε means for a user");
            b.AppendLine();
            b.AppendLine($"Example-level DP-SGD protects one rating at ε = {example.Epsilon.ToString("F3", inv)}. A user contributes k ratings, and the guarantee for all of them " +
                "together is much weaker. Two valid bounds (derivations in docs/user-level.md):");
            b.AppendLine();
            b.AppendLine($"| user | ratings k | classic group privacy: (kε, k·e^((k−1)ε)·δ) | RDP accountant: ε at δ = {delta} |");
            b.AppendLine("|---|---|---|---|");
            foreach (var g in example.GroupBounds)
            {
                var classicDelta = g.ClassicLog10Delta < 0 ? $"δ = 10^{g.ClassicLog10Delta.ToString("F1", inv)}" : $"δ = 10^{g.ClassicLog10Delta.ToString("F0", inv)} ≥ 1: **no guarantee**";
                b.AppendLine(inv, $"| {g.User} | {g.Examples} | ε = {PrivacyStatement.Format(g.ClassicEpsilon)}, {classicDelta} | ε = {FormatEpsilon(g.AccountantEpsilon)} ({g.AccountantBound} bound) |");
            }

            b.AppendLine();
            b.AppendLine("- Classic group privacy: an (ε, δ)-DP mechanism is (kε, k·e^((k−1)ε)·δ)-DP for groups of k.");
            b.AppendLine("- Composition bound: the step's noise N(0, σ²C²) is a sum of k independent N(0, σ²C²/k), so the user is protected at least as well as by " +
                "k·T compositions of PoissonSampled(q, Gaussian(σ/√k)). All-or-nothing bound: T steps of PoissonSampled(1 − (1 − q)^k, Gaussian(σ/k)). The smaller is shown.");
            b.AppendLine("- Both are upper bounds. The exact per-user ε of example-level training is that of the mixture Σ_j Binomial(k, q)(j)·N(jC, σ²C²) against N(0, σ²C²) " +
                "(dp_accounting's MixtureOfGaussiansDpEvent), lower than both but, for users with dozens of ratings, still far above the per-rating ε; DiffPriv's accountants do not take that event yet.");
            b.AppendLine("- The numbers of ratings per user (k) come from the private data and are shown for this report only; they are not covered by any ε.");
            b.AppendLine();
        }

        b.AppendLine("## What each setting guarantees");
        b.AppendLine();
        foreach (var o in r.Outcomes)
        {
            b.AppendLine(o.Mode switch
            {
                RatingTrainingMode.UserLevel =>
                    $"- **user-level** — privacy unit: **user**. Adding or removing one user together with ALL their ratings changes the probability of any outcome " +
                    $"of training (every intermediate movie model included) by at most a factor e^ε = {Math.Exp(o.Epsilon).ToString("G4", inv)}, except with probability δ = {delta}. " +
                    $"Users were Poisson-sampled with q = {o.SamplingProbability?.ToString("G4", inv)}; each sampled user's ratings made ONE record (the gradient of their mean squared error), " +
                    $"clipped to C = {PrivacyStatement.Format(s.UserLevel.MaxGradNorm)} as a whole; Gaussian noise σ·C on the sum of records, divided by the expected number of users. " +
                    "Each step is PoissonSampled(q, Gaussian(σ)) with q over users.",
                RatingTrainingMode.ExampleLevel =>
                    $"- **example-level** — privacy unit: **example** (one rating). Adding or removing one rating changes the probability of any outcome by at most e^ε = " +
                    $"{Math.Exp(o.Epsilon).ToString("G4", inv)}, except with probability δ = {delta}. A user with k ratings is protected only as the table above says.",
                _ => "- **non-private** — privacy unit: none. No guarantee: the reference for what privacy costs.",
            });
        }

        b.AppendLine();
        b.AppendLine("## The model and what is public");
        b.AppendLine();
        b.AppendLine($"- Matrix factorisation, d = {s.Dimension}: r̂ = μ₀ + g + b_movie + q_movieᵀp_user + c_user, with μ₀ = {RatingModel.Offset.ToString(inv)} (the middle of the public " +
            "0.5–5 scale, not the private mean); predictions are clipped to the scale.");
        b.AppendLine($"- The user side (p_user, c_user) is solved by each user from their own training ratings and the movie model (ridge regression, λ = {PrivacyStatement.Format(s.Ridge)}): " +
            "in non-private and user-level training at every step, and for testing in every setting. It is never a trained parameter there, so the released model (movie vectors, " +
            "movie biases, g) is all that DP-SGD has to cover, and each user's vector is computed by and for that user (the \"billboard\" model of joint differential privacy).");
        b.AppendLine("- Example-level training cannot solve user vectors inside training (one rating would move the gradients of all its user's other ratings, so a rating's " +
            "sensitivity would not be C): it trains user embeddings, noised and released with the rest, and is tested like the others.");
        b.AppendLine("- The movie catalogue (which movie ids exist) is public, like MovieLens' movie list; the ratings are private.");
        b.AppendLine($"- Noise: {(s.SeededNoise ? $"SEEDED ({s.Seed}): reproducible, for experiments only, NOT secret" : "secure (OS CSPRNG)")}; Poisson sampling of users (user-level) or ratings (example-level).");
        b.AppendLine();
        b.AppendLine(inv, $"Total wall time {r.WallSeconds.ToString("F0", inv)} s.");
        return b.ToString();
    }

    /// <summary>An ε for reports: six significant digits, large ones in scientific form (8.36e+4), ∞ when infinite.</summary>
    /// <param name="value">ε.</param>
    /// <returns>Its text.</returns>
    public static string FormatEpsilon(double value) =>
        !double.IsFinite(value) ? "∞" : value >= 1e4 ? value.ToString("0.##e+0", CultureInfo.InvariantCulture) : PrivacyStatement.Format(value);
}
