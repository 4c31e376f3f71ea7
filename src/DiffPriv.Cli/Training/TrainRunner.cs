using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using DiffPriv.Accounting;
using DiffPriv.Accounting.Pld;
using DiffPriv.Accounting.Rdp;
using DiffPriv.Auditing.MembershipInference;
using DiffPriv.Cli.Commands;
using DiffPriv.Cli.Reports;
using DiffPriv.Data;
using DiffPriv.Models;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Cli.Training;

/// <summary>One epoch's numbers. Train loss and accuracy are measured on the private batches (local diagnostics, not covered by ε).</summary>
internal sealed record EpochMetrics(int Epoch, long Steps, double TrainLoss, double TrainAccuracy, double TestAccuracy, double? Epsilon, double? EpsilonLower, double Seconds);

/// <summary>Everything a finished run reports.</summary>
internal sealed record TrainResult(
    TrainSettings Settings,
    long TrainExamples,
    long TestExamples,
    double? NoiseMultiplier,
    double? SamplingProbability,
    long Steps,
    double Epsilon,
    double? EpsilonLower,
    double? RdpEpsilon,
    double? RdpOrder,
    double TestAccuracy,
    double WallSeconds,
    string RunDir,
    IReadOnlyList<EpochMetrics> History,
    string PrivacyStatement)
{
    /// <summary>The membership-inference audit (<c>--audit</c>), or null.</summary>
    public TrainAuditResult? Audit { get; init; }
}

/// <summary>Runs <c>diffpriv train</c>: loads data, trains (DP-SGD or plain), evaluates, accounts and writes the run folder.</summary>
internal sealed class TrainRunner(TrainSettings settings, TextWriter stdout, TextWriter stderr)
{
    private const int EvalBatch = 1000;
    private DateTime _loopStart = DateTime.UtcNow;

    public int Run()
    {
        var clock = Stopwatch.StartNew();
        var interactive = !settings.Json && ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        var log = settings.Json ? stderr : stdout;

        TorchRuntime.EnsureLoaded();
        using var data = Datasets.Load(settings.Dataset, settings.TrainLimit, settings.TestLimit, m => stderr.WriteLine(m));
        var seed = settings.Seed ?? BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
        using var split = settings.Audit ? AuditSplit.Create(data.TrainInputs, data.TrainTargets, (int)(seed & 0x7fffffff)) : null;
        var train = (Inputs: split?.TrainInputs ?? data.TrainInputs, Targets: split?.TrainTargets ?? data.TrainTargets);
        var n = train.Inputs.shape[0];
        if (settings.BatchSize > n)
        {
            throw new UsageException($"--batch-size must be in [1, N = {n}] (got {settings.BatchSize})");
        }

        if (!settings.NoDp && settings.Delta >= 1.0 / n)
        {
            stderr.WriteLine($"warning: δ = {AccountingOptions.Format(settings.Delta)} is not below 1/N = {AccountingOptions.Format(1.0 / n)}: such a δ allows a mechanism that publishes a few examples outright. Use δ ≪ 1/N.");
        }

        var runDir = RunDirectory();
        Directory.CreateDirectory(runDir);
        log.WriteLine($"diffpriv train {settings.DatasetId}{(settings.Smoke ? " (smoke run)" : "")}: {n} train / {data.TestInputs.shape[0]} test examples, run folder {runDir}");
        if (split is not null)
        {
            log.WriteLine($"--audit: {split.HoldoutInputs.shape[0]} examples drawn at random from the training split are held out (never trained on) as the audit's non-members.");
        }
        if (settings.Seed is not null && !settings.NoDp)
        {
            log.WriteLine($"note: --seed {settings.Seed} seeded noise is for reproducibility only (the noise and sampling can be replayed by anyone who knows the seed). Omit --seed for secure noise.");
        }

        torch.manual_seed(seed);
        var model = ModelZoo.MnistCnn(settings.Activation);
        using var optimizer = CreateOptimizer(model);

        var result = settings.NoDp
            ? TrainPlain(model, optimizer, data, train, runDir, clock, interactive)
            : TrainPrivate(model, optimizer, data, train, runDir, clock, interactive);

        if (settings.Audit)
        {
            log.WriteLine("Privacy audit: membership-inference attacks on training vs held-out examples …");
            result = result with { Audit = TrainAudit.Run(model, split!, settings.Delta, (int)(seed & 0x7fffffff)) };
        }

        RunReport.Write(result);
        WriteSummary(result);
        model.Dispose();
        return CliApp.ExitOk;
    }

    private string RunDirectory() => RunFolder.Resolve(settings.OutDir, settings.DatasetId);

    private optim.Optimizer CreateOptimizer(nn.Module<Tensor, Tensor> model) => settings.Optimizer switch
    {
        OptimizerKind.Sgd => optim.SGD(model.parameters(), settings.LearningRate, momentum: settings.Momentum),
        OptimizerKind.Adam => optim.Adam(model.parameters(), settings.LearningRate),
        _ => throw new UsageException($"unknown optimizer {settings.Optimizer}"),
    };

    private TrainResult TrainPrivate(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, ImageDataset data, (Tensor Inputs, Tensor Targets) train, string runDir, Stopwatch clock, bool interactive)
    {
        var engine = new PrivacyEngine(AccountantKind.Pld);
        var n = train.Inputs.shape[0];
        var options = new DpSgdOptions
        {
            MaxGradNorm = settings.MaxGradNorm,
            ExpectedBatchSize = settings.BatchSize,
            NoiseMultiplier = settings.NoiseMultiplier ?? double.NaN,
            Seed = settings.Seed,
        };
        using var training = settings.NoiseMultiplier is not null
            ? engine.MakePrivate(model, optimizer, train.Inputs, train.Targets, options)
            : engine.MakePrivateWithEpsilon(model, optimizer, train.Inputs, train.Targets, options, settings.TargetEpsilon!.Value, settings.Delta, settings.Epochs);
        var q = training.Loader.SamplingProbability;
        var sigma = training.Options.NoiseMultiplier;

        // Exactly the steps the calibration assumed (TF Privacy's convention): ceil(epochs·N/B), spread over the epochs.
        var totalSteps = (long)Math.Ceiling(settings.Epochs * n / (double)settings.BatchSize);
        (settings.Json ? stderr : stdout).WriteLine(
            $"DP-SGD: σ = {sigma.ToString("G6", CultureInfo.InvariantCulture)}{(settings.NoiseMultiplier is null ? $" (calibrated for ε ≤ {AccountingOptions.Format(settings.TargetEpsilon!.Value)})" : "")}, " +
            $"C = {AccountingOptions.Format(settings.MaxGradNorm)}, q = {q.ToString("G5", CultureInfo.InvariantCulture)} (expected batch {settings.BatchSize}), {totalSteps} steps, δ = {PrivacyStatement.Delta(settings.Delta)}");

        Func<Tensor, Tensor, Tensor>? lossFunction = null;
        double lossSum = 0, correct = 0, seen = 0;
        lossFunction = (x, y) =>
        {
            var logits = model.call(x);
            var losses = F.cross_entropy(logits, y, reduction: nn.Reduction.None);
            using (torch.no_grad())
            {
                lossSum += losses.sum().item<float>();
                correct += logits.argmax(1).eq(y).sum().item<long>();
                seen += y.shape[0];
            }

            return losses;
        };

        double? epsSoFar = null;
        var history = new List<EpochMetrics>();
        var result = Loop(totalSteps, interactive, progress =>
        {
            long step = 0;
            for (var epoch = 1; epoch <= settings.Epochs; epoch++)
            {
                var epochStart = clock.Elapsed;
                lossSum = correct = seen = 0;
                model.train();
                var end = totalSteps * epoch / settings.Epochs;
                for (; step < end; step++)
                {
                    using (torch.NewDisposeScope())
                    {
                        LrSchedules.Set(optimizer, settings.LearningRateAt(step, totalSteps));
                        training.Optimizer.Step(training.Loader.NextBatch(), lossFunction);
                    }

                    progress.Update(Status(epoch, step + 1, totalSteps, lossSum, correct, seen, epsSoFar));
                }

                var testAccuracy = Evaluate(model, data);
                var pld = (PldAccountant)engine.Ledger.CreateAccountant(AccountantKind.Pld);
                var interval = pld.GetEpsilonInterval(settings.Delta);
                epsSoFar = interval.Upper;
                var metrics = new EpochMetrics(epoch, step, Mean(lossSum, seen), Mean(correct, seen), testAccuracy, interval.Upper, interval.Lower, (clock.Elapsed - epochStart).TotalSeconds);
                history.Add(metrics);
                progress.Line(EpochLine(metrics));
            }

            return step;
        });

        var steps = engine.Ledger.TotalCount;
        if (steps != training.Optimizer.Steps || steps != result)
        {
            throw new InvalidOperationException($"The ledger holds {steps} steps but {training.Optimizer.Steps} were taken.");
        }

        var final = ((PldAccountant)engine.Ledger.CreateAccountant(AccountantKind.Pld)).GetEpsilonInterval(settings.Delta);
        var rdp = ((RdpAccountant)engine.Ledger.CreateAccountant(AccountantKind.Rdp)).GetEpsilonAndOrder(settings.Delta);
        var inputs = new AccountingInputs(q, n, settings.BatchSize, settings.Epochs, steps, settings.Delta, AccountantChoice.All, settings.Json);
        var results = new List<AccountantResult>
        {
            new("pld", final.Upper, final.Lower, null),
            new("rdp", rdp.Epsilon, null, double.IsFinite(rdp.Epsilon) && steps > 0 ? rdp.OptimalOrder : null),
        };
        using var statement = new StringWriter();
        PrivacyStatement.Write(statement, inputs, sigma, results);
        if (settings.Seed is not null)
        {
            statement.WriteLine("  - This run used --seed: its noise is reproducible and therefore NOT secret. Seeded runs are for");
            statement.WriteLine("    reproducibility only; publish a model only from a run without --seed (secure noise).");
        }

        engine.SaveCheckpoint(Path.Combine(runDir, "checkpoint.bin"), training);
        return new TrainResult(
            settings, n, data.TestInputs.shape[0], sigma, q, steps, final.Upper, final.Lower, rdp.Epsilon, results[1].OptimalOrder,
            history[^1].TestAccuracy, clock.Elapsed.TotalSeconds, runDir, history, statement.ToString());
    }

    private TrainResult TrainPlain(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, ImageDataset data, (Tensor Inputs, Tensor Targets) train, string runDir, Stopwatch clock, bool interactive)
    {
        var n = train.Inputs.shape[0];
        var perEpoch = (n + settings.BatchSize - 1) / settings.BatchSize;
        var totalSteps = perEpoch * settings.Epochs;
        (settings.Json ? stderr : stdout).WriteLine($"NOT PRIVATE (--no-dp): ordinary training, shuffled batches of {settings.BatchSize}, mean loss, {totalSteps} steps; no privacy guarantee (ε = ∞).");
        var history = new List<EpochMetrics>();
        var steps = Loop(totalSteps, interactive, progress =>
        {
            long step = 0;
            for (var epoch = 1; epoch <= settings.Epochs; epoch++)
            {
                var epochStart = clock.Elapsed;
                double lossSum = 0, correct = 0, seen = 0;
                model.train();
                using var order = torch.randperm(n);
                for (long start = 0; start < n; start += settings.BatchSize)
                {
                    using (torch.NewDisposeScope())
                    {
                        var idx = order.narrow(0, start, Math.Min(settings.BatchSize, n - start));
                        var x = train.Inputs.index_select(0, idx);
                        var y = train.Targets.index_select(0, idx);
                        LrSchedules.Set(optimizer, settings.LearningRateAt(step, totalSteps));
                        optimizer.zero_grad();
                        var logits = model.call(x);
                        var loss = F.cross_entropy(logits, y);
                        loss.backward();
                        optimizer.step();
                        lossSum += loss.item<float>() * y.shape[0];
                        correct += logits.argmax(1).eq(y).sum().item<long>();
                        seen += y.shape[0];
                    }

                    step++;
                    progress.Update(Status(epoch, step, totalSteps, lossSum, correct, seen, null));
                }

                var metrics = new EpochMetrics(epoch, step, Mean(lossSum, seen), Mean(correct, seen), Evaluate(model, data), null, null, (clock.Elapsed - epochStart).TotalSeconds);
                history.Add(metrics);
                progress.Line(EpochLine(metrics));
            }

            return step;
        });

        model.save(Path.Combine(runDir, "model.bin"));
        const string statement = "NOT PRIVATE: trained with --no-dp (no clipping, no noise, shuffled batches). The model has no\n" +
                                 "differential-privacy guarantee (ε = ∞) and may memorise individual training examples.\n";
        return new TrainResult(settings, n, data.TestInputs.shape[0], null, null, steps, double.PositiveInfinity, null, null, null,
            history[^1].TestAccuracy, clock.Elapsed.TotalSeconds, runDir, history, statement);
    }

    private long Loop(long totalSteps, bool interactive, Func<ITrainProgress, long> body)
    {
        _loopStart = DateTime.UtcNow;
        if (interactive)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            return SpectreTrainProgress.Run(console, totalSteps, body);
        }

        return body(new PlainTrainProgress(stderr, Math.Max(1, totalSteps / settings.Epochs)));
    }

    /// <summary>Test accuracy: eval mode, no gradients, batched; a plain forward outside any DP step records nothing.</summary>
    private static double Evaluate(nn.Module<Tensor, Tensor> model, ImageDataset data)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        var m = data.TestInputs.shape[0];
        long correct = 0;
        for (long start = 0; start < m; start += EvalBatch)
        {
            using var scope = torch.NewDisposeScope();
            var length = Math.Min(EvalBatch, m - start);
            var logits = model.call(data.TestInputs.narrow(0, start, length));
            correct += logits.argmax(1).eq(data.TestTargets.narrow(0, start, length)).sum().item<long>();
        }

        model.train();
        return (double)correct / m;
    }

    private StepStatus Status(int epoch, long step, long totalSteps, double lossSum, double correct, double seen, double? eps)
    {
        var elapsed = (DateTime.UtcNow - _loopStart).TotalSeconds;
        TimeSpan? left = step > 0 ? TimeSpan.FromSeconds(elapsed / step * (totalSteps - step)) : null;
        return new StepStatus(epoch, settings.Epochs, step, totalSteps, Mean(lossSum, seen), Mean(correct, seen), eps, left);
    }

    private static double Mean(double sum, double count) => count > 0 ? sum / count : double.NaN;

    private static string EpochLine(EpochMetrics m)
    {
        var inv = CultureInfo.InvariantCulture;
        var eps = m.Epsilon is { } e ? $"ε {e.ToString("F3", inv)}" : "ε ∞ (not private)";
        return $"epoch {m.Epoch}: loss {m.TrainLoss.ToString("F4", inv)}, train acc {(100 * m.TrainAccuracy).ToString("F2", inv)}%, " +
               $"test acc {(100 * m.TestAccuracy).ToString("F2", inv)}%, {eps}, {m.Seconds.ToString("F1", inv)} s";
    }

    private void WriteSummary(TrainResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var w = settings.Json ? stderr : stdout;
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
                        $"vs the accountant's ε ≤ {(settings.NoDp ? "∞" : r.Epsilon.ToString("F3", inv))}");
            w.WriteLine();
        }

        w.WriteLine($"Run folder: {r.RunDir} (report.md, metrics.json, accuracy.png, epsilon.png, {(settings.NoDp ? "model.bin" : "checkpoint.bin")}, command.txt)");
        if (settings.Json)
        {
            stdout.WriteLine(RunReport.SummaryJson(r).ToJsonString());
        }
    }
}
