using DiffPriv.Experiments.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Tests.Training;

public sealed class ParameterAverageTests
{
    [Fact]
    public void AveragesExponentiallyAndPutsTheCurrentParametersBack()
    {
        using var model = nn.Linear(2, 1);
        using (torch.no_grad())
        {
            model.weight!.fill_(1);
            model.bias!.fill_(0);
        }

        using var average = new ParameterAverage(model, 0.5);
        using (torch.no_grad())
        {
            model.weight!.fill_(3);      // average: 0.5·1 + 0.5·3 = 2
        }

        average.Update();
        using (torch.no_grad())
        {
            model.weight!.fill_(6);      // average: 0.5·2 + 0.5·6 = 4
        }

        average.Update();
        var seen = average.With(() => model.weight!.mean().item<float>());
        Assert.Equal(4f, seen);
        Assert.Equal(6f, model.weight!.mean().item<float>());
        average.CopyToModel();
        Assert.Equal(4f, model.weight!.mean().item<float>());
    }

    [Fact]
    public void RejectsADecayOutsideZeroToOne()
    {
        using var model = nn.Linear(2, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterAverage(model, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ParameterAverage(model, -0.1));
    }
}
