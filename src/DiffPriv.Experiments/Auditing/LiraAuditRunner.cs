using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffPriv.Accounting;
using DiffPriv.Auditing.Lira;
using DiffPriv.Datasets;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Experiments.Auditing;

/// <summary>
/// Runs <c>diffpriv audit lira</c>: trains K MLPs with DP-SGD (or without noise) on random halves of a Fashion-MNIST
/// pool, each example in exactly K/2 of them, records every model's logit-scaled confidence on every pool example, and
/// attacks each model in turn with LiRA using the other K − 1 as shadow models (Carlini et al., IEEE S&amp;P 2022).
/// Writes lira.json, report.md and the ROC plot on log axes into the run folder.
/// </summary>
/// <param name="settings">The run's settings.</param>
/// <param name="progress">Receives log lines, synchronously; may be null.</param>
public sealed class LiraAuditRunner(LiraAuditSettings settings, IProgress<ProgressUpdate>? progress = null)
{
    /// <summary>The file with every number of the run, written into the run folder.</summary>
    public const string ResultsFile = "lira.json";

    /// <summary>The ROC plot (online and offline, log axes), written into the run folder.</summary>
    public const string PlotFile = "roc-lira-log.png";

    /// <summary>Trains the K models, attacks them and writes the run folder.</summary>
    /// <returns>The accountant's ε beside LiRA's TPR at low FPR.</returns>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public LiraAuditRunResult Run()
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var clock = Stopwatch.StartNew();
        TorchRuntime.EnsureLoaded();
        using var data = ImageDatasets.Load(DatasetName.FashionMnist, settings.PoolSize, settings.TestExamples, m => progress?.Report(ProgressUpdate.Detail(m)));
        var runDir = RunFolder.Resolve(settings.OutDir, "lira");
        Directory.CreateDirectory(runDir);
        var k = settings.Shadows;
        var n = (int)data.TrainInputs.shape[0];
        var included = LiraAttack.BalancedInclusion(k, n, unchecked((ulong)settings.Seed ^ 0x11a0UL));
        Say(string.Create(
            CultureInfo.InvariantCulture,
            $"diffpriv audit lira: {k} MLPs (784-{settings.Hidden}-10) on random halves of {n} Fashion-MNIST examples (each example in {k / 2} models), " +
            $"{(settings.NoDp ? "no noise (σ = 0; clipping and sampling as with DP)" : $"DP-SGD at ε = {PrivacyStatement.Format(settings.TargetEpsilon)}, δ = {PrivacyStatement.Delta(settings.Delta)}")}; run folder {runDir}"));

        var confidences = new double[k][];
        var sigmas = new double[k];
        var trainAccuracies = new double[k];
        var testAccuracies = new double[k];
        var epsilon = settings.NoDp ? double.PositiveInfinity : 0;

        // The MLP's tensors are small, so libtorch's intra-op thread pool costs more than it gives, and far more when other
        // processes share the cores (as UserLevelExperiment measured). Train on one thread; give the pool back as it was.
        var threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try
        {
            for (var model = 0; model < k; model++)
            {
                var (phi, sigma, eps, trainAccuracy, testAccuracy) = TrainOne(model, data, included[model]);
                confidences[model] = phi;
                sigmas[model] = sigma;
                trainAccuracies[model] = trainAccuracy;
                testAccuracies[model] = testAccuracy;
                epsilon = Math.Max(epsilon, eps);
                Say(string.Create(
                    CultureInfo.InvariantCulture,
                    $"model {model + 1}/{k}: {included[model].Count(x => x)} training examples, σ = {sigma:G4}, train accuracy {100 * trainAccuracy:F1}%, " +
                    $"test {100 * testAccuracy:F1}%, {clock.Elapsed.TotalSeconds:F0} s"));
            }
        }
        finally
        {
            torch.set_num_threads(threads);
        }

        var lira = LiraAttack.Run(new LiraInput { Confidences = confidences, Included = included });
        var result = new LiraAuditRunResult(settings, epsilon, sigmas, trainAccuracies, testAccuracies, lira, clock.Elapsed.TotalSeconds, runDir);
        File.WriteAllText(Path.Combine(runDir, ResultsFile), ToJson(result, confidences, included).ToJsonString(new JsonSerializerOptions { WriteIndented = false }) + "\n");
        LiraPlot.Write(lira, Path.Combine(runDir, PlotFile));
        File.WriteAllText(Path.Combine(runDir, "report.md"), Report(result));
        var online = lira.Online;
        Say(string.Create(
            CultureInfo.InvariantCulture,
            $"LiRA online: AUC {online.Auc:F3}, TPR {100 * online.TprAtTenthPercentFpr:F2}% at 0.1% FPR " +
            $"(95% CI {100 * online.TprAtTenthPercentFprInterval.Lower:F2}–{100 * online.TprAtTenthPercentFprInterval.Upper:F2}%), " +
            $"{100 * online.TprAtOnePercentFpr:F2}% at 1% FPR; offline AUC {lira.Offline.Auc:F3}, TPR {100 * lira.Offline.TprAtTenthPercentFpr:F2}% at 0.1%"));
        return result;
    }

    /// <summary>The MLP 784 → H → 10 with ReLU: every trainable layer a Linear.</summary>
    internal static nn.Module<Tensor, Tensor> Mlp(int hidden) =>
        nn.Sequential(("flatten", nn.Flatten()), ("fc1", nn.Linear(784, hidden)), ("act", nn.ReLU()), ("fc2", nn.Linear(hidden, 10)));

    private (double[] Confidences, double Sigma, double Epsilon, double TrainAccuracy, double TestAccuracy) TrainOne(int index, ImageDataset data, bool[] included)
    {
        using var scope = torch.NewDisposeScope();
        var members = Enumerable.Range(0, included.Length).Where(i => included[i]).Select(i => (long)i).ToArray();
        using var memberIndex = torch.tensor(members);
        var x = data.TrainInputs.index_select(0, memberIndex);
        var y = data.TrainTargets.index_select(0, memberIndex);
        var seed = (settings.Seed * 1000) + index;
        torch.manual_seed(seed);
        var model = Mlp(settings.Hidden);
        using var optimizer = optim.SGD(model.parameters(), settings.LearningRate, momentum: 0.9);
        var engine = new PrivacyEngine(AccountantKind.Pld);
        var options = new DpSgdOptions
        {
            MaxGradNorm = settings.MaxGradNorm,
            ExpectedBatchSize = settings.BatchSize,
            Epochs = settings.Epochs,
            Seed = seed,
            NoiseMultiplier = settings.NoDp ? 0 : double.NaN,
            AllowNoNoise = settings.NoDp,
        };
        using var training = settings.NoDp
            ? engine.MakePrivate(model, optimizer, x, y, options)
            : engine.MakePrivateWithEpsilon(model, optimizer, x, y, options, settings.TargetEpsilon, settings.Delta, settings.Epochs);
        for (var epoch = 0; epoch < settings.Epochs; epoch++)
        {
            model.train();
            foreach (var batch in training.Loader)
            {
                using (torch.NewDisposeScope())
                {
                    training.Optimizer.Step(batch, (bx, by) => F.cross_entropy(model.call(bx), by, reduction: nn.Reduction.None));
                }
            }
        }

        var pool = ModelScores.Compute(model, data.TrainInputs, data.TrainTargets);
        var phi = new double[pool.Labels.Length];
        for (var i = 0; i < phi.Length; i++)
        {
            phi[i] = LiraAttack.LogitConfidence(pool.Logits[i], pool.Labels[i]);
        }

        var trainAccuracy = members.Average(i => pool.IsCorrect((int)i) ? 1.0 : 0.0);
        var testAccuracy = ModelScores.Compute(model, data.TestInputs, data.TestTargets).Accuracy;
        var epsilon = settings.NoDp ? double.PositiveInfinity : engine.GetEpsilonInterval(settings.Delta).Upper;
        var sigma = training.Optimizer.Query.NoiseMultiplier;
        model.Dispose();
        return (phi, sigma, epsilon, trainAccuracy, testAccuracy);
    }

    /// <summary>The four tests' metrics, as the CLI and lira.json print them.</summary>
    /// <param name="a">One test.</param>
    /// <returns>auc, tpr_at_fpr_0.001, tpr_at_fpr_0.01, tpr_at_fpr_0.001_ci [lower, upper], true_positives_at_fpr_0.001, members, non_members.</returns>
    public static JsonObject AttackJson(LiraAttackResult a) => new()
    {
        ["auc"] = a.Auc,
        ["tpr_at_fpr_0.001"] = a.TprAtTenthPercentFpr,
        ["tpr_at_fpr_0.01"] = a.TprAtOnePercentFpr,
        ["tpr_at_fpr_0.001_ci"] = new JsonArray(a.TprAtTenthPercentFprInterval.Lower, a.TprAtTenthPercentFprInterval.Upper),
        ["true_positives_at_fpr_0.001"] = a.TruePositivesAtTenthPercentFpr,
        ["members"] = a.Roc.MemberCount,
        ["non_members"] = a.Roc.NonMemberCount,
    };

    /// <summary>The run as JSON: settings, per-model accounting and accuracy, the four tests, and the raw confidences
    /// and inclusion flags, [K][N], from which every number can be recomputed.</summary>
    internal static JsonObject ToJson(LiraAuditRunResult r, double[][] confidences, bool[][] included)
    {
        var s = r.Settings;
        var tests = new JsonObject();
        foreach (var a in r.Lira.Attacks)
        {
            tests[a.Name] = AttackJson(a);
        }

        return new JsonObject
        {
            ["no_dp"] = s.NoDp,
            ["target_epsilon"] = s.NoDp ? null : s.TargetEpsilon,
            ["epsilon"] = double.IsFinite(r.Epsilon) ? r.Epsilon : null,
            ["delta"] = s.Delta,
            ["shadows"] = s.Shadows,
            ["pool"] = r.Lira.Examples,
            ["epochs"] = s.Epochs,
            ["batch_size"] = s.BatchSize,
            ["max_grad_norm"] = s.MaxGradNorm,
            ["learning_rate"] = s.LearningRate,
            ["hidden"] = s.Hidden,
            ["seed"] = s.Seed,
            ["noise_multipliers"] = new JsonArray([.. r.NoiseMultipliers.Select(x => (JsonNode?)x)]),
            ["train_accuracies"] = new JsonArray([.. r.TrainAccuracies.Select(x => (JsonNode?)x)]),
            ["test_accuracies"] = new JsonArray([.. r.TestAccuracies.Select(x => (JsonNode?)x)]),
            ["tests"] = tests,
            ["confidences"] = new JsonArray([.. confidences.Select(row => (JsonNode?)new JsonArray([.. row.Select(x => (JsonNode?)Math.Round(x, 6))]))]),
            ["included"] = new JsonArray([.. included.Select(row => (JsonNode?)new JsonArray([.. row.Select(x => (JsonNode?)(x ? 1 : 0))]))]),
            ["seconds"] = r.Seconds,
            ["run_dir"] = r.RunDir,
        };
    }

    private static string Report(LiraAuditRunResult r)
    {
        var s = r.Settings;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# LiRA membership-inference audit");
        sb.AppendLine();
        sb.AppendLine(string.Create(
            inv,
            $"{s.Shadows} MLPs (784-{s.Hidden}-10, ReLU) each trained on a random half of the first {r.Lira.Examples} Fashion-MNIST training examples " +
            $"(every example in exactly {s.Shadows / 2} models), {s.Epochs} epochs, Poisson sampling with B = {s.BatchSize}, C = {PrivacyStatement.Format(s.MaxGradNorm)}, " +
            $"SGD lr {PrivacyStatement.Format(s.LearningRate)} with momentum 0.9, seed {s.Seed}."));
        sb.AppendLine();
        sb.AppendLine(s.NoDp
            ? "**Not private**: σ = 0 (clipping and sampling as with DP), ε = ∞."
            : string.Create(inv, $"**DP-SGD**: each model calibrated to ε = {PrivacyStatement.Format(s.TargetEpsilon)} at δ = {PrivacyStatement.Delta(s.Delta)} (PLD); largest accountant ε {r.Epsilon:F3}, σ {r.NoiseMultipliers.Min():G4}–{r.NoiseMultipliers.Max():G4}."));
        sb.AppendLine();
        sb.AppendLine(string.Create(
            inv,
            $"Mean train accuracy {100 * r.TrainAccuracies.Average():F1}%, mean test accuracy {100 * r.TestAccuracies.Average():F1}% ({s.TestExamples} test examples)."));
        sb.AppendLine();
        sb.AppendLine(string.Create(
            inv,
            $"Each model in turn is the target and the other {s.Shadows - 1} its shadow models: {r.Lira.Online.Roc.MemberCount} member and {r.Lira.Online.Roc.NonMemberCount} " +
            $"non-member (target, example) pairs. Headline (fixed in advance): online LiRA with a global variance."));
        sb.AppendLine();
        sb.AppendLine("| test | AUC | TPR at 0.1% FPR | 95% Clopper–Pearson | TPR at 1% FPR |");
        sb.AppendLine("|---|---:|---:|---|---:|");
        foreach (var a in r.Lira.Attacks)
        {
            sb.AppendLine(string.Create(
                inv,
                $"| {a.Name} | {a.Auc:F4} | {100 * a.TprAtTenthPercentFpr:F3}% ({a.TruePositivesAtTenthPercentFpr}/{a.Roc.MemberCount}) | " +
                $"[{100 * a.TprAtTenthPercentFprInterval.Lower:F3}%, {100 * a.TprAtTenthPercentFprInterval.Upper:F3}%] | {100 * a.TprAtOnePercentFpr:F3}% |"));
        }

        sb.AppendLine();
        sb.AppendLine(string.Create(inv, $"A test that cannot tell members from non-members has TPR ≈ FPR: 0.1% at 0.1% FPR. ROC on log axes: [{PlotFile}]({PlotFile})."));
        sb.AppendLine();
        sb.AppendLine(string.Create(inv, $"{r.Seconds:F0} s. Every confidence and inclusion flag is in {ResultsFile}."));
        return sb.ToString();
    }

    private void Say(string line) => progress?.Report(ProgressUpdate.Message(line));
}
