using DiffPriv.Accounting;
using DiffPriv.Experiments.Reports;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Tests;

public sealed class RunAccountingTests
{
    [Fact]
    public void DescribeGivesTheStepsTheirOriginAndThePassesThatRunThem()
    {
        // N = 1000, B = 300, 10 epochs: ⌈33.3⌉ = 34 steps, ⌈N/B⌉ = 4 per pass, so 8 passes of 4, a ninth of 2 and a
        // tenth epoch with no step left.
        Assert.Equal(
            "34 steps = ⌈10 epochs · N/B⌉, in 9 passes over the data of ⌈N/B⌉ = 4 steps, the last 2 (the plan's last epoch had no step left)",
            RunAccounting.Describe(StepSchedule.FromEpochs(1000, 300, 10)));
        Assert.Equal(
            "8 steps = ⌈1 epoch · N/B⌉, in 1 pass over the data of 8 steps",
            RunAccounting.Describe(StepSchedule.FromEpochs(2000, 256, 1)));
        Assert.Equal(
            "20 steps, in 2 passes over the data of ⌈N/B⌉ = 10 steps",
            RunAccounting.Describe(StepSchedule.FromSteps(1000, 100, 20)));
    }

    [Fact]
    public void WriteStepsSaysThePlannedStepsRanAndWhetherSigmaWasCalibratedForThem()
    {
        var plan = StepSchedule.FromEpochs(1000, 300, 10);
        using var calibrated = new StringWriter();
        RunAccounting.WriteSteps(calibrated, plan, calibrated: true);
        Assert.Equal(
            "  - Exactly the planned steps ran: 34 = ⌈10 epochs · N/B⌉, the number σ was calibrated for,\n" +
            "    in 9 passes over the data of ⌈N/B⌉ = 4 steps, the last 2 (the plan's last epoch had no step left).\n",
            calibrated.ToString().ReplaceLineEndings("\n"));
        using var fixedSigma = new StringWriter();
        RunAccounting.WriteSteps(fixedSigma, plan, calibrated: false);
        Assert.DoesNotContain("calibrated", fixedSigma.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FinalRefusesARunThatStoppedBeforeItsPlanAndAcceptsTheWholePlan()
    {
        var engine = new PrivacyEngine(AccountantKind.Pld);
        var model = nn.Linear(3, 2);
        using var training = engine.MakePrivate(
            model, optim.SGD(model.parameters(), 0.1), randn(40, 3), randint(0, 2, [40], dtype: ScalarType.Int64),
            new DpSgdOptions { MaxGradNorm = 1.0, NoiseMultiplier = 1.0, ExpectedBatchSize = 10, Steps = 3, Seed = 1 });
        long steps = 0;
        void Step(Data.LogicalBatch batch)
        {
            using var scope = NewDisposeScope();
            training.Optimizer.Step(batch, (x, y) => nn.functional.cross_entropy(model.call(x), y, reduction: nn.Reduction.None));
            steps++;
        }

        foreach (var batch in training.Loader.Take(2))
        {
            Step(batch);
        }

        var early = Assert.Throws<InvalidOperationException>(() => RunAccounting.Final(engine, training, steps, 1e-5));
        Assert.Contains("planned for 3", early.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => RunAccounting.Final(engine, training, steps + 1, 1e-5)); // the loop miscounted

        Step(training.Loader.NextBatch());
        var (final, pld, _, estimates) = RunAccounting.Final(engine, training, steps, 1e-5);
        Assert.Equal(3, final);
        Assert.Equal(engine.GetEpsilonInterval(1e-5), pld);
        Assert.Equal(["pld", "rdp"], estimates.Select(e => e.Accountant));
    }

    [Fact]
    public void FinalFtrlCountsOneTreePerPassAndReadsEpsilonUnderReplaceSpecial()
    {
        // N = 40, B = 10, 2 passes: 8 steps, two trees of 4 leaves (each ⌈log2 5⌉ = 3 levels).
        var engine = new PrivacyEngine(AccountantKind.Rdp, NeighboringRelation.ReplaceSpecial);
        var model = nn.Linear(3, 2);
        using var training = engine.MakePrivateFtrl(
            model, optim.SGD(model.parameters(), 0.1), randn(40, 3), randint(0, 2, [40], dtype: ScalarType.Int64),
            new DpFtrlOptions { Clipping = PerSample.ClippingOptions.Flat(1.0), NoiseMultiplier = 4.0, BatchSize = 10, Epochs = 2, Seed = 1 });
        long steps = 0;
        void Pass(int count)
        {
            foreach (var batch in training.Loader.Take(count))
            {
                using var scope = NewDisposeScope();
                training.Optimizer.Step(batch, (x, y) => nn.functional.cross_entropy(model.call(x), y, reduction: nn.Reduction.None));
                steps++;
            }
        }

        Pass(4);
        var early = Assert.Throws<InvalidOperationException>(() => RunAccounting.FinalFtrl(engine, training, steps, 1e-5));
        Assert.Contains("the plan has 8", early.Message, StringComparison.Ordinal);
        Pass(4);
        var (final, trees, rdp) = RunAccounting.FinalFtrl(engine, training, steps, 1e-5);
        Assert.Equal(8, final);
        Assert.Equal(2, trees);
        var expected = new Accounting.Rdp.RdpAccountant(neighboringRelation: NeighboringRelation.ReplaceSpecial)
            .Compose(new Accounting.Events.SingleEpochTreeAggregationDpEvent(4.0, [4]), 2).GetEpsilon(1e-5);
        Assert.Equal(expected, rdp.Epsilon, 12);
        Assert.Equal(engine.GetEpsilon(1e-5), rdp.Epsilon, 12);
    }
}
