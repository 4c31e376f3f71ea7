using DiffPriv.Experiments.Training;
using static TorchSharp.torch;

namespace DiffPriv.Experiments.Auditing;

/// <summary>
/// Black-box input canaries: m test examples (never in the training split) given a wrong label, each included in the
/// training set with probability ½, scored by minus their loss on that wrong label in the final model.
/// </summary>
internal sealed class InputCanaries
{
    private InputCanaries(Tensor inputs, Tensor wrongLabels, bool[] included, Tensor restInputs, Tensor restTargets)
    {
        Inputs = inputs;
        WrongLabels = wrongLabels;
        Included = included;
        RestInputs = restInputs;
        RestTargets = restTargets;
    }

    public Tensor Inputs { get; }

    public Tensor WrongLabels { get; }

    public IReadOnlyList<bool> Included { get; }

    /// <summary>The test examples that are not canaries (for the test accuracy).</summary>
    public Tensor RestInputs { get; }

    public Tensor RestTargets { get; }

    public static InputCanaries Draw(Tensor testInputs, Tensor testTargets, int canaries, Random rng)
    {
        var total = testInputs.shape[0];
        if (canaries >= total)
        {
            throw new ArgumentException($"--canaries must be below the {total} test examples they are drawn from (got {canaries})");
        }

        var order = Enumerable.Range(0, (int)total).OrderBy(_ => rng.Next()).Select(i => (long)i).ToArray();
        using var chosen = tensor(order[..canaries]);
        using var rest = tensor(order[canaries..]);
        var labels = testTargets.index_select(0, chosen).data<long>().ToArray();
        var wrong = labels.Select(l => (l + 1 + rng.Next(9)) % 10).ToArray();
        var included = Enumerable.Range(0, canaries).Select(_ => rng.Next(2) == 1).ToArray();
        return new InputCanaries(
            testInputs.index_select(0, chosen),
            tensor(wrong),
            included,
            testInputs.index_select(0, rest),
            testTargets.index_select(0, rest));
    }

    /// <summary>The training set with the included canaries (and their wrong labels) appended.</summary>
    public (Tensor Inputs, Tensor Targets) AppendIncluded(Tensor trainInputs, Tensor trainTargets)
    {
        using var idx = tensor(Enumerable.Range(0, Included.Count).Where(i => Included[i]).Select(i => (long)i).ToArray());
        return (cat([trainInputs, Inputs.index_select(0, idx)], 0), cat([trainTargets, WrongLabels.index_select(0, idx)], 0));
    }

    /// <summary>Minus each canary's loss on its wrong label: higher means "more likely trained on".</summary>
    public double[] Scores(nn.Module<Tensor, Tensor> model) => ModelScores.Compute(model, Inputs, WrongLabels).Losses.Select(l => -l).ToArray();
}
