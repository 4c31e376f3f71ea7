using DiffPriv.Datasets;
using DiffPriv.Models;

namespace DiffPriv.Experiments.Training;

/// <summary>Validated settings of one <c>diffpriv train</c> run.</summary>
public sealed record TrainSettings(
    DatasetName Dataset,
    bool NoDp,
    double? NoiseMultiplier,
    double? TargetEpsilon,
    double Delta,
    double MaxGradNorm,
    int BatchSize,
    int Epochs,
    double LearningRate,
    OptimizerKind Optimizer,
    double Momentum,
    Activation Activation,
    LrSchedule Schedule,
    long? Seed,
    string? OutDir,
    bool Smoke,
    int? TrainExamples,
    bool Audit,
    string CommandLine)
{
    /// <summary>How many of the first test examples form a validation split (0, the default: none). With a split, the
    /// test accuracy is measured on the remaining test examples and <see cref="TrainResult.ValidationAccuracy"/> on the
    /// split, so a hyperparameter search can select on one and report the other.</summary>
    public int ValidationExamples { get; init; }

    /// <summary>DP-SGD (the default) or DP-FTRL. With DP-FTRL, <see cref="BatchSize"/> is the fixed batch size and ε is under replace-special.</summary>
    public MechanismKind Mechanism { get; init; } = MechanismKind.DpSgd;

    /// <summary>Where the model, the data and the noise live: cpu (the default), cuda or cuda:N (see <see cref="DeviceChoice"/>).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The model: the end-to-end CNN (the default) or a model on ScatterNet features.</summary>
    public ImageModel Model { get; init; } = ImageModel.Cnn;

    /// <summary>
    /// β of an exponential moving average of the parameters over the DP steps (<c>--ema</c>), or null for none. With it, the
    /// test accuracy is the average's and the released model is the average (post-processing: no privacy cost).
    /// </summary>
    public double? EmaDecay { get; init; }

    /// <summary>The model's <c>--model</c> name in reports and JSON: <c>cnn</c>, <c>scatternet-linear</c> or <c>scatternet-cnn</c>.</summary>
    public string ModelId => IdOf(Model);

    /// <summary>The <c>--model</c> name of <paramref name="model"/>.</summary>
    /// <param name="model">A model.</param>
    /// <returns><c>cnn</c>, <c>scatternet-linear</c> or <c>scatternet-cnn</c>.</returns>
    public static string IdOf(ImageModel model) => model switch
    {
        ImageModel.ScatterNetLinear => "scatternet-linear",
        ImageModel.ScatterNetCnn => "scatternet-cnn",
        _ => "cnn",
    };

    /// <summary>
    /// <c>--audit one-run</c> (or <c>all</c>): insert white-box gradient canaries into this DP-SGD run (1000, or 1/4 of the
    /// parameters if fewer, each included with probability ½) and bound ε from below with the one-run audit of Steinke,
    /// Nasr &amp; Jagielski (2023). The canaries are part of the trained model's updates. DP-SGD only.
    /// </summary>
    public bool OneRunAudit { get; init; }

    /// <summary>Automatic clipping (g·C/(‖g‖ + γ), <c>DpSgdOptions.AutomaticClipping</c>) instead of a flat clip at C.</summary>
    public bool AutomaticClipping { get; init; }

    /// <summary>Per-layer clipping: each of the L trainable layers is clipped at C/√L, so the whole per-example gradient
    /// stays within C (the same sensitivity, σ and ε as a flat clip at C).</summary>
    public bool PerLayerClipping { get; init; }

    /// <summary>Quantile-adaptive clipping (<c>QuantileAdaptiveClipSumQuery</c>): the clip starts at <see cref="MaxGradNorm"/>
    /// and follows the median per-example norm.</summary>
    public bool AdaptiveClipping { get; init; }

    /// <summary>With <see cref="AdaptiveClipping"/>: the share of per-example gradients the clip should leave unclipped, in [0, 1]. Default 0.5 (the median).</summary>
    public double ClipQuantile { get; init; } = 0.5;

    /// <summary>
    /// A checkpoint to resume from (<see cref="TrainResume.CheckpointFile"/>) is written atomically at the end of every this
    /// many epochs and of the last one; ≥ 1, default 1 (every epoch). Epochs, not steps: DP-FTRL's tree restarts with every
    /// pass, so a pass boundary is where its state is whole.
    /// </summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Training examples kept (the first ones; a public choice), or null for all.</summary>
    public int? TrainLimit => Smoke ? TrainDefaults.For(Dataset, Mechanism).SmokeTrainExamples : TrainExamples;

    /// <summary>Test examples kept, or null for all.</summary>
    public int? TestLimit => Smoke ? TrainDefaults.For(Dataset, Mechanism).SmokeTestExamples : null;

    /// <summary>The mechanism's name in reports and JSON: <c>dp-sgd</c>, <c>dp-ftrl</c>, or <c>none</c> with <see cref="NoDp"/>.</summary>
    public string MechanismId => NoDp ? "none" : Mechanism == MechanismKind.DpFtrl ? "dp-ftrl" : "dp-sgd";

    /// <summary>
    /// The neighbouring relation of the run's ε, as dp_accounting names it: <c>add-or-remove-one</c> (DP-SGD) or
    /// <c>replace-special</c> (DP-FTRL: one example replaced by a zero example); null without privacy.
    /// </summary>
    public string? NeighboringRelationId => NoDp ? null : Mechanism == MechanismKind.DpFtrl ? "replace-special" : "add-or-remove-one";

    /// <summary>The data set's identifier (<c>mnist</c>, <c>fashion-mnist</c>).</summary>
    public string DatasetId => ImageDatasets.Get(Dataset).Id;

    /// <summary>The learning rate at step <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    /// <param name="step">The step, from 0.</param>
    /// <param name="totalSteps">Steps in the run.</param>
    /// <returns>The learning rate.</returns>
    public double LearningRateAt(long step, long totalSteps) => LrSchedules.At(Schedule, LearningRate, step, totalSteps);
}
