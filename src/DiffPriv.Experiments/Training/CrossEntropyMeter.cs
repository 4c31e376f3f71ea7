using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DiffPriv.Experiments.Training;

/// <summary>
/// The per-example cross-entropy of a classifier for DP-SGD, with the running training loss and accuracy of the batches
/// it has seen (for progress lines; computed without gradients).
/// </summary>
/// <param name="model">The classifier: inputs → logits [B, classes].</param>
internal sealed class CrossEntropyMeter(nn.Module<Tensor, Tensor> model)
{
    /// <summary>Σ of the per-example losses seen.</summary>
    public double LossSum { get; private set; }

    /// <summary>Examples classified correctly.</summary>
    public double Correct { get; private set; }

    /// <summary>Examples seen.</summary>
    public double Seen { get; private set; }

    /// <summary>Starts a new epoch.</summary>
    public void Reset() => LossSum = Correct = Seen = 0;

    /// <summary>The per-example losses of (<paramref name="x"/>, <paramref name="y"/>), counted into the running figures.</summary>
    public Tensor PerExampleLoss(Tensor x, Tensor y)
    {
        var logits = model.call(x);
        var losses = F.cross_entropy(logits, y, reduction: nn.Reduction.None);
        using (torch.no_grad())
        {
            LossSum += losses.sum().item<float>();
            Correct += logits.argmax(1).eq(y).sum().item<long>();
            Seen += y.shape[0];
        }

        return losses;
    }
}
