using static TorchSharp.torch;
using static TorchSharp.torch.utils.data;

namespace OwnDataset;

/// <summary>An ordinary TorchSharp training loop, without privacy. <see cref="PrivateLoop"/> differs from it in three lines.</summary>
internal static class PlainLoop
{
    public static void Train(TwoInputNet model, Dataset dataset, RunSettings run)
    {
        // <loop>
        var (optimizer, loader) = (optim.SGD(model.parameters(), run.LearningRate), DataLoader(dataset, run.BatchSize, shuffle: true));
        var scheduler = optim.lr_scheduler.StepLR(optimizer, 1, 0.7);
        for (var epoch = 0; epoch < run.Epochs; epoch++)
        {
            foreach (var batch in loader)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(batch["image"], batch["side"]), batch["label"]);
                loss.backward();
                optimizer.step();
            }

            scheduler.step();
            run.EndOfEpoch(epoch);
        }

        // </loop>
    }
}
