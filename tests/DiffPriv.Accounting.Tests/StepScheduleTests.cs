namespace DiffPriv.Accounting.Tests;

public sealed class StepScheduleTests
{
    [Fact]
    public void NonIntegerEpochLengthRoundsTheTotalUpOnce()
    {
        // N/B = 3.33: 10 epochs are ⌈33.3⌉ = 34 steps (not 10·⌈3.33⌉ = 40), ⌈N/B⌉ = 4 per loader epoch.
        var schedule = StepSchedule.FromEpochs(1000, 300, 10);
        Assert.Equal(34, schedule.TotalSteps);
        Assert.Equal(4, schedule.StepsPerEpoch);
        Assert.Equal(0.3, schedule.SamplingProbability, 15);
        Assert.Equal(10.0, schedule.PlannedEpochs);
        Assert.Equal(1000, schedule.DatasetSize);
        Assert.Equal(300.0, schedule.ExpectedBatchSize);
    }

    [Fact]
    public void MnistTutorialScheduleHasAShortLastEpoch()
    {
        // TF Privacy's MNIST tutorial: N = 60000, B = 256, 60 epochs → ⌈14062.5⌉ = 14063 steps; ⌈234.375⌉ = 235 per epoch,
        // 59 epochs of 235 = 13865, and a last epoch of 198.
        var schedule = StepSchedule.FromEpochs(60000, 256, 60);
        Assert.Equal(14063, schedule.TotalSteps);
        Assert.Equal(235, schedule.StepsPerEpoch);
        Assert.Equal(60, schedule.Epochs);
        Assert.Equal(235, schedule.StepsInEpoch(0));
        Assert.Equal(235, schedule.StepsInEpoch(58));
        Assert.Equal(198, schedule.StepsInEpoch(59));
        Assert.Equal(0, schedule.StepsInEpoch(60));
        Assert.Equal(0, schedule.StepsInEpoch(1000));
    }

    public static TheoryData<long, double, double> EpochPlans() => new()
    {
        { 1000, 300, 1 },
        { 1000, 300, 3 },
        { 1000, 300, 10 },
        { 1000, 300, 60 },
        { 1000, 300, 0.5 },
        { 60000, 256, 60 },
        { 60000, 256, 2.5 },
        { 100, 20, 1.5 },
        { 100, 100, 7 },
        { 7, 1, 3 },
        { 1000, 1000, 0.001 },
    };

    [Theory]
    [MemberData(nameof(EpochPlans))]
    public void EpochsPartitionExactlyTheTotalSteps(long n, double b, double epochs)
    {
        var schedule = StepSchedule.FromEpochs(n, b, epochs);
        Assert.Equal(Math.Max(1, (long)Math.Ceiling(epochs * n / b)), schedule.TotalSteps);
        Assert.Equal((long)Math.Ceiling(n / b), schedule.StepsPerEpoch);
        var lengths = Enumerable.Range(0, (int)schedule.Epochs).Select(e => schedule.StepsInEpoch(e)).ToList();
        Assert.Equal(schedule.TotalSteps, lengths.Sum());
        Assert.All(lengths, length => Assert.InRange(length, 0, schedule.StepsPerEpoch));
        Assert.Equal(Math.Min(schedule.StepsPerEpoch, schedule.TotalSteps), schedule.StepsInEpoch(0));
        Assert.Equal(0, schedule.StepsInEpoch(schedule.Epochs));
    }

    [Theory]
    [MemberData(nameof(EpochPlans))]
    public void LoaderEpochsAreThePlannedEpochs(long n, double b, double epochs)
    {
        // A loop "for (epoch < E) foreach (batch in loader)" makes ⌈E⌉ passes over the loader: the plan must take that
        // many passes (Epochs: "how many passes over the loader the run takes") and spread exactly ⌈E·N/B⌉ steps over them.
        var schedule = StepSchedule.FromEpochs(n, b, epochs);
        var planned = (long)Math.Ceiling(epochs);
        Assert.Equal(planned, schedule.Epochs);
        Assert.Equal(schedule.TotalSteps, Enumerable.Range(0, (int)planned).Sum(e => schedule.StepsInEpoch(e)));
    }

    [Fact]
    public void FromStepsKeepsTheStepCount()
    {
        var schedule = StepSchedule.FromSteps(1000, 300, 7);
        Assert.Equal(7, schedule.TotalSteps);
        Assert.Null(schedule.PlannedEpochs);
        Assert.Equal(4, schedule.StepsPerEpoch);
        Assert.Equal(2, schedule.Epochs);
        Assert.Equal(4, schedule.StepsInEpoch(0));
        Assert.Equal(3, schedule.StepsInEpoch(1));
        Assert.Equal(0, schedule.StepsInEpoch(2));

        var one = StepSchedule.FromSteps(5, 5, 1);
        Assert.Equal(1, one.TotalSteps);
        Assert.Equal(1, one.StepsPerEpoch);
        Assert.Equal(1, one.Epochs);
    }

    [Fact]
    public void TinyFractionOfAnEpochIsStillOneStep()
    {
        var schedule = StepSchedule.FromEpochs(1000, 10, 1e-9);
        Assert.Equal(1, schedule.TotalSteps);
        Assert.Equal(1, schedule.Epochs);
        Assert.Equal(1, schedule.StepsInEpoch(0));
    }

    [Fact]
    public void SchedulesWithTheSameValuesAreEqual()
    {
        Assert.Equal(StepSchedule.FromEpochs(1000, 300, 10), StepSchedule.FromEpochs(1000, 300, 10));
        Assert.NotEqual(StepSchedule.FromEpochs(1000, 300, 10), StepSchedule.FromSteps(1000, 300, 34));
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(-5, 1, 1)]
    [InlineData(100, 0, 1)]
    [InlineData(100, 0.5, 1)]
    [InlineData(100, 101, 1)]
    [InlineData(100, double.NaN, 1)]
    [InlineData(100, double.PositiveInfinity, 1)]
    [InlineData(100, 10, 0)]
    [InlineData(100, 10, -1)]
    [InlineData(100, 10, double.NaN)]
    [InlineData(100, 10, double.PositiveInfinity)]
    public void FromEpochsRejectsOutOfRangeValues(long n, double b, double epochs)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StepSchedule.FromEpochs(n, b, epochs));
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(100, 0, 1)]
    [InlineData(100, 101, 1)]
    [InlineData(100, double.NaN, 1)]
    [InlineData(100, 10, 0)]
    [InlineData(100, 10, -3)]
    public void FromStepsRejectsOutOfRangeValues(long n, double b, long steps)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StepSchedule.FromSteps(n, b, steps));
    }

    [Fact]
    public void ErrorsNameTheArgument()
    {
        Assert.Equal("epochs", Assert.Throws<ArgumentOutOfRangeException>(() => StepSchedule.FromEpochs(100, 10, 0)).ParamName);
        Assert.Equal("expectedBatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => StepSchedule.FromEpochs(100, 200, 1)).ParamName);
        Assert.Equal("datasetSize", Assert.Throws<ArgumentOutOfRangeException>(() => StepSchedule.FromSteps(0, 1, 1)).ParamName);
        Assert.Equal("steps", Assert.Throws<ArgumentOutOfRangeException>(() => StepSchedule.FromSteps(100, 10, 0)).ParamName);
        Assert.Equal("epoch", Assert.Throws<ArgumentOutOfRangeException>(() => StepSchedule.FromEpochs(100, 10, 1).StepsInEpoch(-1)).ParamName);
    }
}
