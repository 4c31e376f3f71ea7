using DiffPriv.Experiments.Training;
using TorchSharp;

namespace DiffPriv.Experiments.Tests;

public sealed class LrScheduleTests
{
    [Fact]
    public void CosineStartsAtTheRateHalvesAtTheMiddleAndEndsNearZero()
    {
        Assert.Equal(0.012, LrSchedules.At(LrSchedule.Cosine, 0.012, 0, 100), 15);
        Assert.Equal(0.006, LrSchedules.At(LrSchedule.Cosine, 0.012, 50, 100), 15);
        Assert.Equal(0.012 * 0.5 * (1 + Math.Cos(Math.PI * 0.99)), LrSchedules.At(LrSchedule.Cosine, 0.012, 99, 100), 15);
        Assert.True(LrSchedules.At(LrSchedule.Cosine, 0.012, 99, 100) < 0.0001);
        for (var step = 1; step < 100; step++)
        {
            Assert.True(LrSchedules.At(LrSchedule.Cosine, 0.012, step, 100) < LrSchedules.At(LrSchedule.Cosine, 0.012, step - 1, 100));
        }
    }

    [Fact]
    public void ConstantNeverChanges()
    {
        Assert.All(Enumerable.Range(0, 10), step => Assert.Equal(0.5, LrSchedules.At(LrSchedule.Constant, 0.5, step, 10)));
    }

    [Fact]
    public void SetChangesEveryParameterGroup()
    {
        using var first = torch.nn.Linear(2, 2);
        using var second = torch.nn.Linear(2, 2);
        using var adam = torch.optim.Adam([new TorchSharp.Modules.Adam.ParamGroup(first.parameters()), new TorchSharp.Modules.Adam.ParamGroup(second.parameters())], 0.1);
        LrSchedules.Set(adam, 0.025);
        Assert.All(adam.ParamGroups, g => Assert.Equal(0.025, g.LearningRate));
    }
}
