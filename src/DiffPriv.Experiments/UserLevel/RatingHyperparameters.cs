using System.Globalization;

namespace DiffPriv.Experiments.UserLevel;

/// <summary>The training of one rating model: epochs, batch, Adam's learning rate and, for DP-SGD, the clipping norm.</summary>
public sealed record RatingHyperparameters
{
    /// <summary>
    /// Passes over the training data, &gt; 0. User-level DP-SGD and the non-private run pass over users (⌈epochs·U/B⌉ steps),
    /// example-level DP-SGD over ratings (⌈epochs·N/B⌉ steps); σ is calibrated for the steps.
    /// </summary>
    public required double Epochs { get; init; }

    /// <summary>The (expected) batch: users per step for user-level and non-private training, ratings per step for example-level; ≥ 1.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Adam's learning rate, &gt; 0 (constant).</summary>
    public required double LearningRate { get; init; }

    /// <summary>
    /// AdamW's decoupled weight decay, ≥ 0 (0: plain Adam). Every step shrinks every parameter by lr·decay, which also pulls
    /// back the noise that DP-SGD puts on movies few users rated (post-processing: it uses no data). Default 0.
    /// </summary>
    public double WeightDecay { get; init; }

    /// <summary>DP-SGD: the clipping norm C of a record (a user's whole update, or one rating's gradient), &gt; 0. Default 1.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>DP-SGD: rows per forward and backward pass (memory, not privacy), ≥ 1; a user's ratings are never split. Default 4096.</summary>
    public int PhysicalBatchSize { get; init; } = 4096;

    /// <summary>Checks the values.</summary>
    /// <param name="name">Whose hyperparameters (for the message).</param>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate(string name)
    {
        static bool Positive(double x) => x > 0 && double.IsFinite(x);
        string Say(string what, object value) => string.Create(CultureInfo.InvariantCulture, $"{name}: {what} (got {value}).");
        if (!Positive(Epochs))
        {
            throw new ArgumentException(Say("epochs must be a finite number > 0", Epochs));
        }

        if (BatchSize < 1)
        {
            throw new ArgumentException(Say("the batch size must be ≥ 1", BatchSize));
        }

        if (!Positive(LearningRate))
        {
            throw new ArgumentException(Say("the learning rate must be a finite number > 0", LearningRate));
        }

        if (!(WeightDecay >= 0 && double.IsFinite(WeightDecay)))
        {
            throw new ArgumentException(Say("the weight decay must be a finite number ≥ 0", WeightDecay));
        }

        if (!Positive(MaxGradNorm))
        {
            throw new ArgumentException(Say("the clipping norm must be a finite number > 0", MaxGradNorm));
        }

        if (PhysicalBatchSize < 1)
        {
            throw new ArgumentException(Say("the physical batch size must be ≥ 1", PhysicalBatchSize));
        }
    }
}
