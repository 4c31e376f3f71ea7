using System.CommandLine;
using System.Globalization;
using DiffPriv.Auditing.MembershipInference;
using DiffPriv.Cli.Rendering;
using DiffPriv.Datasets;
using DiffPriv.Distributed;
using DiffPriv.Experiments.Reports;
using DiffPriv.Experiments.Training;
using DiffPriv.Models;

namespace DiffPriv.Cli.Commands;

/// <summary><c>diffpriv train mnist|fashion-mnist</c>: DP-SGD (or <c>--no-dp</c>) with progress, ε and a run folder;
/// <c>diffpriv train text</c> is <see cref="TrainTextCommand"/>.</summary>
internal static class TrainCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command(
            "train",
            "Train with DP-SGD, with live progress, test accuracy, ε and a report folder: a CNN or a ScatterNet model on MNIST or Fashion-MNIST, " +
            "or a text classifier on your own labelled CSV.");
        command.Subcommands.Add(Image(
            "mnist", DatasetName.Mnist, "Train on MNIST with DP-SGD (or --no-dp): by default a linear model on ScatterNet features (--model; cnn is TF Privacy's tutorial CNN); the data are fetched on first use into the per-user data cache ($DIFFPRIV_DATA, else $XDG_CACHE_HOME/diffpriv, else ~/.cache/diffpriv).", stdout, stderr));
        var fashion = Image(
            "fashion-mnist", DatasetName.FashionMnist, "Train on Fashion-MNIST with DP-SGD (or --no-dp): by default a linear model on ScatterNet features (--model); fetched on first use like mnist.", stdout, stderr);
        fashion.Aliases.Add("fashion");
        command.Subcommands.Add(fashion);
        command.Subcommands.Add(TrainTextCommand.Create(stdout, stderr));
        command.Subcommands.Add(TrainCsvCommand.Create(stdout, stderr));
        return command;
    }

    private static Command Image(string commandName, DatasetName name, string description, TextWriter stdout, TextWriter stderr)
    {
        var d = TrainDefaults.Mnist;
        var noDp = new Option<bool>("--no-dp") { Description = "Ordinary (non-private) training: shuffled mini-batches, no clipping, no noise; ε = ∞." };
        var noise = new Option<double?>("--noise-multiplier", "-s") { Description = "Noise multiplier σ > 0. Excludes --target-epsilon." };
        var target = new Option<double?>("--target-epsilon") { Description = $"Calibrate σ so that the whole run has ε ≤ this at --delta (default {Format(d.TargetEpsilon)} when neither this nor --noise-multiplier is given)." };
        var delta = new Option<double?>("--delta") { Description = $"δ in (0, 1) (default {PrivacyStatement.Delta(d.Delta)})." };
        var clip = new Option<double?>("--max-grad-norm", "-c") { Description = $"Clipping norm C > 0 for every per-example gradient (default {Format(d.MaxGradNorm)}); with --clipping automatic, the norm every gradient is scaled to." };
        var clipQuantile = new Option<double?>("--clip-quantile") { Description = "With --clipping adaptive: the share of per-example gradients left unclipped, in [0, 1] (default 0.5, the median)." };
        var clippingMode = new Option<string?>("--clipping")
        {
            Description = "flat (default: g·min(1, C/‖g‖)), per-layer (each of the L layers at C/√L; same ε), automatic (Bu et al.: g·C/(‖g‖ + 0.01), no threshold to tune; same sensitivity C, same ε) " +
                "or adaptive (Andrew et al.: the clip starts at C and follows the median per-example norm through a noised count; the release is rescaled to the default C, so the learning rate keeps its meaning; same ε).",
        };
        var batch = new Option<int?>("--batch-size", "-b") { Description = $"Expected batch size B of Poisson sampling (q = B/N), or with --mechanism dp-ftrl the fixed batch size; 1 ≤ B ≤ N (default {TrainDefaults.MnistScatterNetLinear.BatchSize} for scatternet-linear on MNIST; {d.BatchSize} for the CNN on MNIST; {TrainDefaults.FashionMnistScatterNetLinear.BatchSize} for scatternet-linear on Fashion-MNIST; {TrainDefaults.FashionMnist.BatchSize} for the CNN on Fashion-MNIST; {TrainDefaults.MnistFtrl.BatchSize} with dp-ftrl; {d.NoDpBatchSize} with --no-dp; {d.SmokeBatchSize} with --smoke)." };
        var epochs = new Option<int?>("--epochs") { Description = $"Epochs ≥ 1; steps = ceil(epochs·N/B) (default {d.Epochs}; {TrainDefaults.MnistFtrl.Epochs} with dp-ftrl; {d.NoDpEpochs} with --no-dp; {d.SmokeEpochs} with --smoke)." };
        var lr = new Option<double?>("--learning-rate", "--lr") { Description = $"Learning rate > 0 (default {Format(TrainDefaults.MnistScatterNetLinear.LearningRate)} for scatternet-linear on MNIST; {Format(d.LearningRate)} for the CNN on MNIST; {Format(TrainDefaults.FashionMnistScatterNetLinear.LearningRate)} for scatternet-linear on Fashion-MNIST; {Format(TrainDefaults.FashionMnist.LearningRate)} for the CNN on Fashion-MNIST; {Format(TrainDefaults.MnistFtrl.LearningRate)} with dp-ftrl; {Format(d.NoDpLearningRate)} with --no-dp)." };
        var optimizer = new Option<string?>("--optimizer") { Description = $"sgd or adam (default {d.Optimizer.ToString().ToLowerInvariant()})." };
        var schedule = new Option<string?>("--lr-schedule") { Description = $"constant or cosine (lr·½(1 + cos(π·t/T)) over the run) (default {d.Schedule.ToString().ToLowerInvariant()})." };
        var momentum = new Option<double?>("--momentum") { Description = $"SGD momentum in [0, 1) (default {Format(d.Momentum)})." };
        var activation = new Option<string?>("--activation") { Description = $"relu (TF Privacy's tutorial CNN) or tanh (default {d.Activation.ToString().ToLowerInvariant()})." };
        var seed = new Option<long?>("--seed") { Description = "Seeds the model initialisation and the noise and sampling: reproducible, for experiments only (the noise can be removed by anyone who knows the seed). Without it, noise is secure." };
        var outDir = new Option<string?>("--out", "-o") { Description = "Run folder (default runs/<dataset>-<timestamp>)." };
        var smoke = new Option<bool>("--smoke") { Description = "A quick check: a small subset (2000 train / 1000 test examples) for 1 epoch." };
        var trainExamples = new Option<int?>("--train-examples") { Description = "Train on the first N training examples only (N ≥ 1; a public choice): e.g. a small set to study memorisation with --audit." };
        var audit = new Option<string?>("--audit")
        {
            Description = "mia (also --audit alone): hold out min(10000, N/2) random training examples, train on the rest, then run membership-inference attacks " +
                "(training vs held-out examples); one-run: insert 1000 white-box gradient canaries into this DP-SGD run and bound ε with the one-run audit " +
                "(Steinke et al. 2023); all: both. The report puts each empirical ε lower bound beside the accountant's ε.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var device = new Option<string>("--device") { Description = $"Where the model, data and noise live: cpu (default), cuda or cuda:N. {DeviceChoice.CudaHint}." };
        var json = new Option<bool>("--json") { Description = "The last line of stdout is one JSON object with the results; progress goes to stderr." };
        var resume = new ResumeOptions();
        var tune = new TuneOptions();
        var mechanism = new Option<string?>("--mechanism")
        {
            Description = "dp-sgd (default: Poisson sampling, ε under add-or-remove-one) or dp-ftrl (Kairouz et al. 2021: fixed batches of --batch-size over a " +
                "fresh shuffle per pass, tree-aggregated noise restarted every pass, no sampling assumption; ε under replace-special, by RDP). " +
                "The two ε are not the same unit; reports name the relation.",
        };

        var model = new Option<string?>("--model")
        {
            Description = "cnn (the end-to-end CNN on pixels), scatternet-linear or scatternet-cnn (Tramèr & Boneh 2021: fixed ScatterNet features, the " +
                "scattering transform with J = 2, L = 8, computed once per image, then GroupNorm per example and a linear model or a small CNN; " +
                $"each has its own default batch size, learning rate and epochs) (default for DP-SGD: {TrainSettings.IdOf(TrainDefaults.DefaultModel(DatasetName.Mnist, MechanismKind.DpSgd, false))} on MNIST, " +
                $"{TrainSettings.IdOf(TrainDefaults.DefaultModel(DatasetName.FashionMnist, MechanismKind.DpSgd, false))} on Fashion-MNIST; cnn with --no-dp or --mechanism dp-ftrl).",
        };
        var ema = new Option<double?>("--ema")
        {
            Description = "β in [0, 1): release (and test) the exponential moving average of the parameters over the DP steps, θ̄ ← β·θ̄ + (1 − β)·θ " +
                "(post-processing: no privacy cost; DP-SGD only) (default: none).",
        };
        var command = new Command(commandName, description);
        foreach (var option in new Option[] { model, ema, noDp, mechanism, noise, target, delta, clip, clippingMode, clipQuantile, batch, epochs, lr, schedule, optimizer, momentum, activation, seed, outDir, smoke, trainExamples, audit, device, json })
        {
            command.Options.Add(option);
        }

        resume.AddTo(command);

        tune.AddTo(command);

        command.SetAction(result =>
        {
            if (resume.Folder(result, json) is { } resumeDir)
            {
                TrainSettings saved;
                try
                {
                    saved = TrainResume.Load(resumeDir);
                }
                catch (ArgumentException e)
                {
                    throw UsageException.From(e);
                }

                if (saved.Dataset != name)
                {
                    throw new UsageException($"--resume: the run in {saved.OutDir} trained {saved.DatasetId}: resume it with diffpriv train {saved.DatasetId} --resume {saved.OutDir}");
                }

                return RunAndReport(saved, resuming: true, result.GetValue(json));
            }

            var auditText = result.GetResult(audit) is { Implicit: false } ? (result.GetValue(audit) ?? "mia").ToLowerInvariant() : null;
            if (auditText is not (null or "mia" or "one-run" or "all"))
            {
                throw new UsageException($"--audit must be mia, one-run or all (got '{auditText}')");
            }

            var auditMia = auditText is "mia" or "all";
            var auditOneRun = auditText is "one-run" or "all";
            if (auditOneRun && result.GetValue(noDp))
            {
                throw new UsageException("--audit one-run inserts its canaries into the DP-SGD step; with --no-dp there is none (see diffpriv audit one-run --no-dp)");
            }
            var isNoDp = result.GetValue(noDp);
            var mechanismText = result.GetValue(mechanism);
            if (isNoDp && mechanismText is not null)
            {
                throw new UsageException("--no-dp trains without privacy: --mechanism does not apply");
            }

            var mechanismValue = (mechanismText ?? "dp-sgd").ToLowerInvariant() switch
            {
                "dp-sgd" => MechanismKind.DpSgd,
                "dp-ftrl" => MechanismKind.DpFtrl,
                _ => throw new UsageException($"--mechanism must be dp-sgd or dp-ftrl (got '{mechanismText}')"),
            };
            var modelText = result.GetValue(model);
            var modelValue = modelText is null ? TrainDefaults.DefaultModel(name, mechanismValue, isNoDp) : modelText.ToLowerInvariant() switch
            {
                "cnn" => ImageModel.Cnn,
                "scatternet-linear" => ImageModel.ScatterNetLinear,
                "scatternet-cnn" => ImageModel.ScatterNetCnn,
                _ => throw new UsageException($"--model must be cnn, scatternet-linear or scatternet-cnn (got '{modelText}')"),
            };
            var defaults = TrainDefaults.For(name, mechanismValue, modelValue);
            if (auditOneRun && mechanismValue != MechanismKind.DpSgd)
            {
                throw new UsageException("--audit one-run inserts its canaries into the DP-SGD step (Poisson-sampled like examples); it does not apply to --mechanism dp-ftrl");
            }

            var sigma = result.GetValue(noise);
            var targetEps = result.GetValue(target);
            if (sigma is not null && targetEps is not null)
            {
                throw new UsageException("give either --noise-multiplier or --target-epsilon, not both");
            }

            if (isNoDp && (sigma is not null || targetEps is not null || result.GetValue(clip) is not null || result.GetValue(delta) is not null || result.GetValue(clippingMode) is not null))
            {
                throw new UsageException("--no-dp trains without privacy: --noise-multiplier, --target-epsilon, --max-grad-norm, --clipping and --delta do not apply");
            }

            var clippingName = (result.GetValue(clippingMode) ?? "flat").ToLowerInvariant();
            if (clippingName is not ("flat" or "per-layer" or "automatic" or "adaptive"))
            {
                throw new UsageException($"--clipping must be flat, per-layer, automatic or adaptive (got '{clippingName}')");
            }

            if (mechanismValue == MechanismKind.DpFtrl && clippingName == "adaptive")
            {
                throw new UsageException(
                    "--clipping adaptive is not supported with --mechanism dp-ftrl: its noised count of unclipped gradients is accounted as a " +
                    "Poisson-sampled Gaussian, not as a tree. Use --clipping flat, per-layer or automatic");
            }

            var quantile = result.GetValue(clipQuantile);
            if (quantile is not null && clippingName != "adaptive")
            {
                throw new UsageException("--clip-quantile applies to --clipping adaptive only");
            }

            if (quantile is { } qv && !(qv >= 0 && qv <= 1))
            {
                throw new UsageException($"--clip-quantile must be in [0, 1] (got {Format(qv)})");
            }

            if (sigma is { } s && !(s > 0 && double.IsFinite(s)))
            {
                throw new UsageException($"--noise-multiplier must be a finite number > 0 (got {Format(s)})");
            }

            if (targetEps is { } t && !(t > 0 && double.IsFinite(t)))
            {
                throw new UsageException($"--target-epsilon must be a finite number > 0 (got {Format(t)})");
            }

            var deltaValue = result.GetValue(delta) ?? defaults.Delta;
            if (!(deltaValue > 0 && deltaValue < 1))
            {
                throw new UsageException($"--delta must be in (0, 1) (got {Format(deltaValue)})");
            }

            var clipValue = result.GetValue(clip) ?? defaults.MaxGradNorm;
            if (!(clipValue > 0 && double.IsFinite(clipValue)))
            {
                throw new UsageException($"--max-grad-norm must be a finite number > 0 (got {Format(clipValue)})");
            }

            var isSmoke = result.GetValue(smoke);
            var batchValue = result.GetValue(batch) ?? (isSmoke ? defaults.SmokeBatchSize : isNoDp ? defaults.NoDpBatchSize : defaults.BatchSize);
            if (batchValue < 1)
            {
                throw new UsageException($"--batch-size must be ≥ 1 (got {batchValue})");
            }

            var epochsValue = result.GetValue(epochs) ?? (isSmoke ? defaults.SmokeEpochs : isNoDp ? defaults.NoDpEpochs : defaults.Epochs);
            if (epochsValue < 1)
            {
                throw new UsageException($"--epochs must be ≥ 1 (got {epochsValue})");
            }

            var lrValue = result.GetValue(lr) ?? (isNoDp ? defaults.NoDpLearningRate : defaults.LearningRate);
            if (!(lrValue > 0 && double.IsFinite(lrValue)))
            {
                throw new UsageException($"--learning-rate must be a finite number > 0 (got {Format(lrValue)})");
            }

            var optimizerText = result.GetValue(optimizer);
            var optimizerValue = optimizerText is null ? defaults.Optimizer : optimizerText.ToLowerInvariant() switch
            {
                "sgd" => OptimizerKind.Sgd,
                "adam" => OptimizerKind.Adam,
                _ => throw new UsageException($"--optimizer must be sgd or adam (got '{optimizerText}')"),
            };
            var momentumGiven = result.GetValue(momentum);
            if (momentumGiven is not null && optimizerValue != OptimizerKind.Sgd)
            {
                throw new UsageException("--momentum applies to --optimizer sgd only");
            }

            var momentumValue = momentumGiven ?? defaults.Momentum;
            if (!(momentumValue >= 0 && momentumValue < 1))
            {
                throw new UsageException($"--momentum must be in [0, 1) (got {Format(momentumValue)})");
            }

            var activationText = result.GetValue(activation);
            if (activationText is not null && modelValue != ImageModel.Cnn)
            {
                throw new UsageException("--activation applies to --model cnn only (the ScatterNet models use tanh)");
            }

            var activationValue = activationText is null ? defaults.Activation : activationText.ToLowerInvariant() switch
            {
                "relu" => Activation.Relu,
                "tanh" => Activation.Tanh,
                _ => throw new UsageException($"--activation must be relu or tanh (got '{activationText}')"),
            };

            var scheduleText = result.GetValue(schedule);
            var scheduleValue = scheduleText is null ? defaults.Schedule : scheduleText.ToLowerInvariant() switch
            {
                "constant" => LrSchedule.Constant,
                "cosine" => LrSchedule.Cosine,
                _ => throw new UsageException($"--lr-schedule must be constant or cosine (got '{scheduleText}')"),
            };

            var trainExamplesValue = result.GetValue(trainExamples);
            if (trainExamplesValue is < 1)
            {
                throw new UsageException($"--train-examples must be ≥ 1 (got {trainExamplesValue})");
            }

            if (trainExamplesValue is not null && isSmoke)
            {
                throw new UsageException("--train-examples and --smoke both choose the training subset: give one of them");
            }

            if (!isNoDp && sigma is null && targetEps is null)
            {
                targetEps = defaults.TargetEpsilon;
            }

            var settings = new TrainSettings(
                name,
                isNoDp,
                sigma,
                targetEps,
                deltaValue,
                clipValue,
                batchValue,
                epochsValue,
                lrValue,
                optimizerValue,
                momentumValue,
                activationValue,
                scheduleValue,
                result.GetValue(seed),
                result.GetValue(outDir),
                isSmoke,
                trainExamplesValue,
                auditMia,
                CommandLineOf(result))
            {
                OneRunAudit = auditOneRun,
                AutomaticClipping = clippingName == "automatic",
                AdaptiveClipping = clippingName == "adaptive",
                PerLayerClipping = clippingName == "per-layer",
                ClipQuantile = quantile ?? 0.5,
                Mechanism = mechanismValue,
                Device = result.GetValue(device) is { } deviceText ? Normalized(deviceText) : "cpu",
                Model = modelValue,
            };
            settings = settings with { CheckpointEvery = resume.Every(result) };

            var emaValue = result.GetValue(ema);
            if (emaValue is { } beta && !(beta >= 0 && beta < 1))
            {
                throw new UsageException($"--ema must be in [0, 1) (got {Format(beta)})");
            }

            if (emaValue is not null && (isNoDp || mechanismValue != MechanismKind.DpSgd))
            {
                throw new UsageException("--ema averages the parameters over DP-SGD steps: it needs DP-SGD (not --no-dp or dp-ftrl)");
            }

            settings = settings with { EmaDecay = emaValue ?? (isNoDp || mechanismValue != MechanismKind.DpSgd ? null : defaults.EmaDecay) };
            var asJson = result.GetValue(json);
            var log = asJson ? stderr : stdout;
            if (tune.Given(result))
            {
                if (sigma is not null || isNoDp || result.GetValue(lr) is not null || result.GetValue(clip) is not null || auditMia || auditOneRun)
                {
                    throw new UsageException("a search (--tune-…) takes its learning rates and clipping norms from --tune-lr and --tune-max-grad-norm, " +
                        "its σ from --target-epsilon (the whole search's); --learning-rate, --max-grad-norm, --noise-multiplier, --no-dp and --audit do not apply");
                }

                return tune.Run(result, settings, stdout, log, stderr, asJson);
            }

            return RunAndReport(settings, resuming: false, asJson);
        });
        return command;

        int RunAndReport(TrainSettings settings, bool resuming, bool asJson)
        {
            var log = asJson ? stderr : stdout;
            var output = stdout;

            // Under mpiexec every rank trains its share; only rank 0 reports (the others stay silent unless they fail).
            var world = MpiWorld.Detect();
            if (resuming && world is { Size: > 1 })
            {
                throw new UsageException("--resume does not run under mpiexec: a data-parallel run writes no checkpoint to resume from yet");
            }

            if (world is { IsRoot: false })
            {
                output = TextWriter.Null;
                log = TextWriter.Null;
            }

            TrainResult run;
            try
            {
                run = ProgressRenderer.Run(
                    !asJson && ProgressRenderer.IsInteractive(output),
                    log,
                    world is { IsRoot: false } ? TextWriter.Null : stderr,
                    p => new TrainRunner(settings, p) { World = world, Resume = resuming }.Run());
            }
            catch (ArgumentException e)
            {
                throw UsageException.From(e);
            }

            if (world is { IsRoot: false })
            {
                return CliApp.ExitOk;
            }

            WriteSummary(run, log);
            if (asJson)
            {
                stdout.WriteLine(RunReport.SummaryJson(run).ToJsonString());
            }

            return CliApp.ExitOk;
        }
    }

    private static string Normalized(string device)
    {
        try
        {
            return DeviceChoice.Normalize(device);
        }
        catch (ArgumentException e)
        {
            throw UsageException.From(e);
        }
    }

    private static void WriteSummary(TrainResult r, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        var noDp = r.Settings.NoDp;
        w.WriteLine();
        w.WriteLine($"Test accuracy: {(100 * r.TestAccuracy).ToString("F2", inv)}% ({r.TestExamples} test examples), {r.Steps} steps, {r.WallSeconds.ToString("F1", inv)} s");
        w.WriteLine();
        w.Write(r.PrivacyStatement);
        w.WriteLine();
        if (r.Audit is { } audit)
        {
            var strongest = audit.Headline;
            var loss = audit.Result.Find(AttackKind.LossThreshold, SliceSpec.All);
            w.WriteLine($"Privacy audit ({audit.Members} training vs {audit.NonMembers} held-out examples): loss-threshold attack AUC {loss?.Auc.ToString("F4", inv) ?? "–"}; " +
                        $"empirical ε ≥ {strongest.EpsilonLowerBound.Epsilon.ToString("F3", inv)} ({strongest.Attack.Name()}, 95% confidence) " +
                        $"vs the accountant's ε ≤ {(noDp ? "∞" : r.Epsilon.ToString("F3", inv))}");
            w.WriteLine();
        }

        if (r.OneRunAudit is { } oneRun)
        {
            w.WriteLine($"One-run audit ({oneRun.Canaries} gradient canaries inserted into this training run): ε ≥ {oneRun.EpsilonLowerBound.ToString("F3", inv)} " +
                        $"(95% confidence; at most {oneRun.MaxCertifiable.ToString("F2", inv)} certifiable) vs the accountant's ε ≤ {r.Epsilon.ToString("F3", inv)}");
            w.WriteLine();
        }

        var saved = noDp ? "model.bin" : "model.bin, checkpoint.bin";
        w.WriteLine($"Run folder: {r.RunDir} (report.md, metrics.json, accuracy.png{(noDp ? "" : ", epsilon.png")}, {saved}, command.txt, settings.json)");
    }

    /// <summary>The command as typed, re-quoted for a POSIX shell.</summary>
    internal static string CommandLineOf(ParseResult result) =>
        "./diffpriv " + string.Join(" ", result.Tokens.Select(t => Quote(t.Value)));

    private static string Quote(string token) =>
        token.Length > 0 && token.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:+,@".Contains(c, StringComparison.Ordinal))
            ? token
            : "'" + token.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Format(double value) => AccountingOptions.Format(value);
}
