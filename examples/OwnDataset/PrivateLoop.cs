using static TorchSharp.torch;
using static TorchSharp.torch.utils.data;

namespace OwnDataset;

/// <summary>The same loop as <see cref="PlainLoop"/>, made private (DP-SGD with a calibrated σ) by changing three lines.</summary>
internal static class PrivateLoop
{
    public static void Train(TwoInputNet model, Dataset dataset, RunSettings run)
    {
        // <loop>
        var (optimizer, loader) = run.Engine.MakePrivateWithEpsilon(model, optim.SGD(model.parameters(), run.LearningRate), dataset, run.Privacy, run.TargetEpsilon, run.Delta, run.Epochs);
        var scheduler = optim.lr_scheduler.StepLR(optimizer, 1, 0.7);
        for (var epoch = 0; epoch < run.Epochs; epoch++)
        {
            foreach (var batch in loader)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(batch["image"], batch["side"]), batch["label"], reduction: nn.Reduction.None);
                optimizer.Backward(loss);
                optimizer.step();
            }

            scheduler.step();
            run.EndOfEpoch(epoch);
        }

        // </loop>
    }
}
