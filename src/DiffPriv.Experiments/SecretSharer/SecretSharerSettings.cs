using DiffPriv.Datasets.Text;
using DiffPriv.Experiments.Models;
using DiffPriv.Experiments.Training;

namespace DiffPriv.Experiments.SecretSharer;

/// <summary>
/// Settings of <c>diffpriv experiment secret-sharer</c>: THE place for its defaults. <see cref="Full"/> is the
/// experiment as reported in the README; <see cref="Quick"/> the few-minute version (<c>--quick</c>).
/// </summary>
public sealed record SecretSharerSettings
{
    /// <summary>The full experiment.</summary>
    public static SecretSharerSettings Full { get; } = new();

    /// <summary>A few minutes on 2 cores: a subset of the corpus, fewer canaries and references, fewer epochs.</summary>
    public static SecretSharerSettings Quick { get; } = new()
    {
        IsQuick = true,
        TrainSequences = 4000,
        TestSequences = 800,
        CanariesPerRepetition = 2,
        References = 1024,
        NonPrivateEpochs = 4,
        PrivateEpochs = 4,
        PrivateBatchSize = 256,
        PretrainingSequences = 2000,
        PretrainingEpochs = 1,
    };

    /// <summary>Whether this is the quick version.</summary>
    public bool IsQuick { get; init; }

    /// <summary>ε of the private model (σ is calibrated with the PLD accountant for the whole run).</summary>
    public double TargetEpsilon { get; init; } = 8.0;

    /// <summary>δ of the private model.</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>Characters per training sequence (T); the privacy unit is one sequence.</summary>
    public int SequenceLength { get; init; } = 80;

    /// <summary>Training sequences used (null: all); the canaries come on top.</summary>
    public int? TrainSequences { get; init; }

    /// <summary>Test sequences used (null: all).</summary>
    public int? TestSequences { get; init; }

    /// <summary>The canary format: <c>{d}</c> is a random digit.</summary>
    public string CanaryFormat { get; init; } = "my pin is {d}{d}{d}{d}{d}{d}";

    /// <summary>How often canaries are inserted.</summary>
    public IReadOnlyList<int> Repetitions { get; init; } = [1, 2, 4, 8, 16, 32];

    /// <summary>Distinct canaries per repetition count.</summary>
    public int CanariesPerRepetition { get; init; } = 4;

    /// <summary>Reference candidates of the canary format that are never inserted (exposure is at most log2 of this).</summary>
    public int References { get; init; } = 16384;

    /// <summary>Embedding width of the char-LSTM.</summary>
    public int EmbeddingSize { get; init; } = 64;

    /// <summary>LSTM hidden units.</summary>
    public int HiddenSize { get; init; } = 256;

    /// <summary>
    /// Epochs of non-private pretraining on public text (the Brown corpus, all 15 genres) before either model sees the
    /// Reuters data; both models start from the pretrained weights. 0: both start from the same random initialisation.
    /// </summary>
    public int PretrainingEpochs { get; init; } = 5;

    /// <summary>Public pretraining sequences used (null: all of the Brown corpus).</summary>
    public int? PretrainingSequences { get; init; }

    /// <summary>
    /// Weights to start from instead of pretraining (null: pretrain as <see cref="PretrainingEpochs"/> says), such as the
    /// <c>pretrained-model.bin</c> of an earlier run. They must have a provenance sidecar (<see cref="ModelProvenance"/>)
    /// that matches the file, names public data only and fits <see cref="Architecture"/>; <see cref="PretrainingEpochs"/>
    /// and <see cref="PretrainingSequences"/> are then unused.
    /// </summary>
    public string? PretrainedModel { get; init; }

    /// <summary>
    /// Train the private model only: no non-private baseline, hence no perplexity ratio, acceptance comparison or
    /// non-private exposure (for rows that differ in ε alone, from the same <see cref="PretrainedModel"/>).
    /// </summary>
    public bool PrivateOnly { get; init; }

    /// <summary>The architecture of both models (what saved weights must fit to start them).</summary>
    public ModelArchitecture Architecture =>
        new(ModelArchitecture.CharLstm, CharVocabulary.Default.Size, EmbeddingSize, HiddenSize, SequenceLength);

    /// <summary>
    /// Epochs of the non-private model. With the decay, longer runs overfit: from one set of pretrained weights
    /// (<c>--seed 1</c>), 15 epochs ended at 1.9379 test bits/char, 20 stood at 1.9409 in their 19th epoch, and 30 ended
    /// at 1.9574, above their own best epoch (the 12th, 1.9471): a 30-epoch baseline made the private model look about
    /// 0.02 bits/char better than it was.
    /// </summary>
    public int NonPrivateEpochs { get; init; } = 15;

    /// <summary>Mini-batch size of the non-private model.</summary>
    public int NonPrivateBatchSize { get; init; } = 64;

    /// <summary>Adam learning rate of the non-private model at its first step (and of public pretraining throughout).</summary>
    public double NonPrivateLearningRate { get; init; } = 2e-3;

    /// <summary>
    /// How the non-private model's learning rate changes over its steps: the same cosine decay as the private model, so
    /// that the baseline is trained as carefully as the model it is compared with. From the same pretrained weights, 20
    /// epochs at a constant rate ended at 1.9858 test bits/char (worse than its own 11th epoch), 20 with the decay at 1.9348.
    /// </summary>
    public LrSchedule NonPrivateSchedule { get; init; } = LrSchedule.Cosine;

    /// <summary>Epochs of the private model (Poisson sampling, steps = ⌈epochs·N/B⌉).</summary>
    public int PrivateEpochs { get; init; } = 36;

    /// <summary>
    /// Expected batch size of the private model. With the epochs above it takes as many steps (242) as batch 2048 for 24
    /// epochs did, each with 10% less noise relative to the batch (σ/B), at 1.5× the training time.
    /// </summary>
    public int PrivateBatchSize { get; init; } = 3072;

    /// <summary>Clipping norm C of the private model.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Adam learning rate of the private model at its first step.</summary>
    public double PrivateLearningRate { get; init; } = 0.012;

    /// <summary>
    /// How the private model's learning rate changes over its steps. Cosine decay lets it take large steps early and
    /// average the noise over small ones at the end; the schedule is a public function of the step, so it costs no privacy.
    /// </summary>
    public LrSchedule PrivateSchedule { get; init; } = LrSchedule.Cosine;

    /// <summary>Largest physical batch of the private model (memory bound; does not change the result).</summary>
    public int MaxPhysicalBatchSize { get; init; } = 256;

    /// <summary>A sentence is accepted by a model when its log-perplexity is at or below this quantile of the model's test scores.</summary>
    public double AcceptQuantile { get; init; } = 0.95;

    /// <summary>Seeds model initialisation, canaries, references and (for experiments only) the noise; null: secure noise.</summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Checkpoints to resume from after a kill (<c>--resume RUN_DIR</c>) at the end of every this many epochs of the
    /// non-private and of the private model, and of their last (default 1: every epoch); ≥ 1.
    /// </summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Run folder (null: runs/secret-sharer-&lt;timestamp&gt;).</summary>
    public string? OutDir { get; init; }

    /// <summary>The command line as typed (for the report).</summary>
    public string CommandLine { get; init; } = "";
}
