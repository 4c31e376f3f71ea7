using DiffPriv.Layers;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace DiffPriv.Models;

/// <summary>Small models used by the tutorials and benchmarks. Every trainable layer has an exact per-example gradient method.</summary>
public static class ModelZoo
{
    /// <summary>
    /// TF Privacy's MNIST tutorial CNN for [B, 1, 28, 28] inputs: conv 16 8×8 stride 2 padding 3 → act → maxpool 2
    /// stride 1 → conv 32 4×4 stride 2 → act → maxpool 2 stride 1 → flatten (512) → linear 32 → act → linear 10.
    /// 26 010 parameters.
    /// </summary>
    /// <param name="activation">ReLU (TF Privacy) or tanh.</param>
    /// <returns>A new model (float32, CPU) initialised from the global torch generator.</returns>
    public static nn.Module<Tensor, Tensor> MnistCnn(Activation activation = Activation.Relu) => WideMnistCnn(1, activation);

    /// <summary>
    /// <see cref="MnistCnn(Activation)"/> with m times the channels: conv 16m → conv 32m → flatten (512m) → linear 32 →
    /// linear 10; m = 1 is the tutorial CNN. 8192m² + 17 456m + 362 parameters (26 010 at m = 1, 68 042 at m = 2). The
    /// width axis of <c>diffpriv bench dp-sgd --sweep width</c>.
    /// </summary>
    /// <param name="channelMultiplier">m ≥ 1.</param>
    /// <param name="activation">ReLU (TF Privacy) or tanh.</param>
    /// <returns>A new model (float32, CPU) initialised from the global torch generator.</returns>
    public static nn.Module<Tensor, Tensor> WideMnistCnn(long channelMultiplier, Activation activation = Activation.Relu)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channelMultiplier, 1);
        var m = channelMultiplier;
        return nn.Sequential(
            ("conv1", nn.Conv2d(1, 16 * m, 8, stride: 2, padding: 3)),
            ("act1", Act(activation)),
            ("pool1", nn.MaxPool2d(2, stride: 1)),
            ("conv2", nn.Conv2d(16 * m, 32 * m, 4, stride: 2)),
            ("act2", Act(activation)),
            ("pool2", nn.MaxPool2d(2, stride: 1)),
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(512 * m, 32)),
            ("act3", Act(activation)),
            ("fc2", nn.Linear(32, 10)));
    }

    /// <summary>
    /// A bag-of-embeddings text classifier for [B, T] token ids, trainable privately: a <see cref="DpEmbeddingBag"/>
    /// (vocabulary × dimension, the mean of each example's T rows) → linear to the classes. Children: <c>embedding</c>
    /// (parameter <c>weight</c>), <c>output</c>.
    /// </summary>
    /// <param name="vocabularySize">Number of token ids, ≥ 1.</param>
    /// <param name="embeddingDimension">Embedding width, ≥ 1.</param>
    /// <param name="classes">Output classes, ≥ 2.</param>
    /// <returns>A new model.</returns>
    public static nn.Module<Tensor, Tensor> EmbeddingBag(long vocabularySize = 10_000, long embeddingDimension = 64, long classes = 2) =>
        new EmbeddingBagClassifier(vocabularySize, embeddingDimension, classes, fused: false);

    /// <summary>
    /// The non-private twin of <see cref="EmbeddingBag"/>: the same function, parameter names and shapes with TorchSharp's
    /// fused <c>nn.EmbeddingBag</c> (faster, but its three-argument call has no per-example gradients). It is the baseline of
    /// <c>bench dp-sgd --model embedding-bag</c>; load its state into <see cref="EmbeddingBag"/> to train the same weights
    /// privately.
    /// </summary>
    /// <param name="vocabularySize">Number of token ids, ≥ 1.</param>
    /// <param name="embeddingDimension">Embedding width, ≥ 1.</param>
    /// <param name="classes">Output classes, ≥ 2.</param>
    /// <returns>A new model.</returns>
    public static nn.Module<Tensor, Tensor> EmbeddingBagFused(long vocabularySize = 10_000, long embeddingDimension = 64, long classes = 2) =>
        new EmbeddingBagClassifier(vocabularySize, embeddingDimension, classes, fused: true);

    /// <summary>
    /// The character-level language model of TF Privacy's language-model tutorial, trainable privately: for [B, T] token
    /// ids, embedding (vocabulary × embedding) → <see cref="DpLstm"/> (hidden, layers, batch-first) → linear to the
    /// vocabulary at every step; returns the next-token logits [B, T, vocabulary]. Children: <c>embedding</c>,
    /// <c>lstm</c>, <c>output</c>. With V = 64 and the defaults it has 350 272 parameters.
    /// </summary>
    /// <param name="vocabularySize">Number of token ids V, ≥ 1.</param>
    /// <param name="embeddingDimension">Embedding width E, ≥ 1 (64 in the tutorial).</param>
    /// <param name="hiddenSize">LSTM hidden size H, ≥ 1 (256 in the tutorial).</param>
    /// <param name="numLayers">Stacked LSTM layers, ≥ 1.</param>
    /// <returns>A new model (float32, CPU) initialised from the global torch generator.</returns>
    public static nn.Module<Tensor, Tensor> CharLstm(long vocabularySize, long embeddingDimension = 64, long hiddenSize = 256, long numLayers = 1) =>
        new CharLanguageModel(vocabularySize, embeddingDimension, new DpLstm(embeddingDimension, hiddenSize, numLayers), hiddenSize);

    /// <summary>
    /// The non-private twin of <see cref="CharLstm"/>: the same shapes and children with TorchSharp's fused
    /// <c>nn.LSTM</c> (faster, but it has no per-example gradients). It is the baseline of <c>bench dp-sgd --model
    /// char-lstm</c>; <see cref="Validation.ModuleValidator.Fix(nn.Module)"/> turns it into a privately trainable model with the same
    /// weights.
    /// </summary>
    /// <param name="vocabularySize">Number of token ids V, ≥ 1.</param>
    /// <param name="embeddingDimension">Embedding width E, ≥ 1.</param>
    /// <param name="hiddenSize">LSTM hidden size H, ≥ 1.</param>
    /// <param name="numLayers">Stacked LSTM layers, ≥ 1.</param>
    /// <returns>A new model (float32, CPU) initialised from the global torch generator.</returns>
    public static nn.Module<Tensor, Tensor> CharLstmFused(long vocabularySize, long embeddingDimension = 64, long hiddenSize = 256, long numLayers = 1) =>
        new CharLanguageModel(vocabularySize, embeddingDimension, nn.LSTM(embeddingDimension, hiddenSize, numLayers, batchFirst: true), hiddenSize);

    /// <summary>
    /// A small transformer text classifier, trainable privately: for [B, T] token ids (bytes by default), embedding
    /// (vocabulary × d) → <see cref="DpTransformerEncoder"/> of <paramref name="numLayers"/> post-norm
    /// <see cref="DpTransformerEncoderLayer"/>s (d, <paramref name="heads"/> heads, feed-forward width, ReLU, dropout 0) →
    /// mean over the T positions → linear to the classes; returns the logits [B, classes]. Children: <c>embedding</c>,
    /// <c>encoder</c>, <c>output</c>; the attention projections are <c>encoder.layers.{i}.self_attn.q_proj</c> (and
    /// <c>k_proj</c>, <c>v_proj</c>, <c>out_proj</c>), the targets of <see cref="Lora.Apply"/>. With the defaults it has
    /// 429 570 parameters.
    /// </summary>
    /// <param name="vocabularySize">Number of token ids, ≥ 1 (256: bytes).</param>
    /// <param name="modelDimension">d, the embedding and model width, ≥ 1; divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Attention heads, ≥ 1.</param>
    /// <param name="feedforward">Width of each layer's feed-forward block, ≥ 1.</param>
    /// <param name="numLayers">Encoder layers, ≥ 1.</param>
    /// <param name="classes">Output classes, ≥ 2.</param>
    /// <returns>A new model (float32, CPU) initialised from the global torch generator; every encoder layer starts with the
    /// same weights, as in PyTorch's <c>nn.TransformerEncoder</c>.</returns>
    public static nn.Module<Tensor, Tensor> TransformerClassifier(
        long vocabularySize = 256, long modelDimension = 128, long heads = 4, long feedforward = 512, long numLayers = 2, long classes = 2) =>
        new SequenceClassifier(
            vocabularySize,
            modelDimension,
            new DpTransformerEncoder(new DpTransformerEncoderLayer(modelDimension, heads, feedforward, 0.0), numLayers),
            classes);

    /// <summary>
    /// The non-private twin of <see cref="TransformerClassifier"/>: the same shapes and children with TorchSharp's fused
    /// <c>nn.TransformerEncoder</c> of <c>nn.TransformerEncoderLayer</c>s (packed query/key/value projection
    /// <c>in_proj_weight</c>; no per-example gradients). It is the baseline of <c>bench dp-sgd --model transformer</c>;
    /// <see cref="Validation.ModuleValidator.Fix(nn.Module, Validation.ModuleFixOptions)"/> with a
    /// <see cref="Validation.ModuleFixOptions.TransformerDropout"/> of 0 turns it into a privately trainable model with the
    /// same weights.
    /// </summary>
    /// <param name="vocabularySize">Number of token ids, ≥ 1.</param>
    /// <param name="modelDimension">d, ≥ 1; divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Attention heads, ≥ 1.</param>
    /// <param name="feedforward">Feed-forward width, ≥ 1.</param>
    /// <param name="numLayers">Encoder layers, ≥ 1.</param>
    /// <param name="classes">Output classes, ≥ 2.</param>
    /// <returns>A new model (float32, CPU, dropout 0) initialised from the global torch generator.</returns>
    public static nn.Module<Tensor, Tensor> TransformerClassifierFused(
        long vocabularySize = 256, long modelDimension = 128, long heads = 4, long feedforward = 512, long numLayers = 2, long classes = 2) =>
        new SequenceClassifier(
            vocabularySize,
            modelDimension,
            nn.TransformerEncoder(nn.TransformerEncoderLayer(modelDimension, heads, feedforward, 0.0), numLayers),
            classes);

    /// <summary>
    /// A small causal transformer language model over bytes, trainable privately (fully or with <see cref="Lora.Apply"/>):
    /// for [B, T] token ids of <see cref="ByteVocabulary"/> (T ≤ <paramref name="maxSequenceLength"/>), token embedding
    /// (<see cref="ByteVocabulary.Size"/> × d) + learned positional embedding (<paramref name="maxSequenceLength"/> × d) →
    /// <see cref="DpTransformerEncoder"/> of <paramref name="numLayers"/> post-norm <see cref="DpTransformerEncoderLayer"/>s
    /// (ReLU, dropout 0) with a causal attention mask (boolean [T, T], true above the diagonal: position t attends to
    /// positions ≤ t only) → linear to the <see cref="ByteVocabulary.ByteCount"/> byte values; returns the next-byte logits
    /// [B, T, 256] (the logits at t predict byte t + 1 and depend on bytes 0..t only). Children: <c>embedding</c>,
    /// <c>position</c>, <c>encoder</c>, <c>output</c>. There is no final LayerNorm: each post-norm layer already ends with one.
    /// </summary>
    /// <param name="modelDimension">d, ≥ 1; divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Attention heads, ≥ 1.</param>
    /// <param name="feedforward">Width of each layer's feed-forward block, ≥ 1.</param>
    /// <param name="numLayers">Encoder layers, ≥ 1.</param>
    /// <param name="maxSequenceLength">The longest input T, ≥ 1 (rows of the positional embedding).</param>
    /// <returns>A new model (float32, CPU) initialised from the global torch generator; every encoder layer starts with the
    /// same weights, as in PyTorch's <c>nn.TransformerEncoder</c>.</returns>
    public static nn.Module<Tensor, Tensor> ByteTransformerLm(
        long modelDimension = 128, long heads = 4, long feedforward = 512, long numLayers = 2, long maxSequenceLength = 256) =>
        new TransformerLanguageModel(ByteVocabulary.Size, ByteVocabulary.ByteCount, modelDimension, heads, feedforward, numLayers, maxSequenceLength);

    /// <summary>
    /// A causal transformer language model over any vocabulary (e.g. a <see cref="WordVocabulary"/>), the shape of
    /// <see cref="ByteTransformerLm"/>: for [B, T] token ids, token embedding (V × d) + learned positional embedding → causal
    /// <see cref="DpTransformerEncoder"/> → linear to the V ids; returns the next-token logits [B, T, V]. Children:
    /// <c>embedding</c>, <c>position</c>, <c>encoder</c>, <c>output</c>; the first three are those of
    /// <see cref="CausalTransformerClassifier"/>, which can start from its weights.
    /// </summary>
    /// <param name="vocabularySize">V, the token ids and the output width, ≥ 1.</param>
    /// <param name="modelDimension">d, ≥ 1; divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Attention heads, ≥ 1.</param>
    /// <param name="feedforward">Width of each layer's feed-forward block, ≥ 1.</param>
    /// <param name="numLayers">Encoder layers, ≥ 1.</param>
    /// <param name="maxSequenceLength">The longest input T, ≥ 1.</param>
    /// <returns>A new model (float32, CPU) initialised from the global torch generator.</returns>
    public static nn.Module<Tensor, Tensor> TransformerLm(
        long vocabularySize, long modelDimension = 128, long heads = 4, long feedforward = 512, long numLayers = 2, long maxSequenceLength = 256) =>
        new TransformerLanguageModel(vocabularySize, vocabularySize, modelDimension, heads, feedforward, numLayers, maxSequenceLength);

    /// <summary>
    /// A text classifier with the body of <see cref="TransformerLm"/>, so that it can be fine-tuned from a pretrained
    /// language model: for [B, T] token ids (texts padded at the end with <paramref name="padId"/>), token + positional
    /// embedding → causal <see cref="DpTransformerEncoder"/> (as in pretraining: position t sees positions ≤ t); the means
    /// over each text's non-padding positions of the encoder's outputs and of the token embeddings, concatenated [B, 2d] →
    /// linear to the classes; returns the logits [B, classes]. Children:
    /// <c>embedding</c>, <c>position</c>, <c>encoder</c> (named as in <see cref="TransformerLm"/>) and <c>output</c> (the
    /// classification head). Trainable privately, fully or with <see cref="Lora.Apply"/>.
    /// </summary>
    /// <param name="vocabularySize">V, ≥ 1.</param>
    /// <param name="modelDimension">d, ≥ 1; divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Attention heads, ≥ 1.</param>
    /// <param name="feedforward">Feed-forward width, ≥ 1.</param>
    /// <param name="numLayers">Encoder layers, ≥ 1.</param>
    /// <param name="maxSequenceLength">The longest input T, ≥ 1.</param>
    /// <param name="classes">Output classes, ≥ 2.</param>
    /// <param name="padId">The padding id, in [0, V) (<see cref="WordVocabulary.PadId"/> by default).</param>
    /// <returns>A new model (float32, CPU) initialised from the global torch generator.</returns>
    public static nn.Module<Tensor, Tensor> CausalTransformerClassifier(
        long vocabularySize, long modelDimension = 128, long heads = 4, long feedforward = 512, long numLayers = 2, long maxSequenceLength = 256,
        long classes = 2, long padId = WordVocabulary.PadId) =>
        new CausalTransformerClassifierModel(vocabularySize, modelDimension, heads, feedforward, numLayers, maxSequenceLength, classes, padId);

    /// <summary>The causal attention mask of a sequence of length <paramref name="length"/>: boolean [T, T], true above the diagonal (not allowed).</summary>
    /// <param name="length">T ≥ 1.</param>
    /// <param name="device">Where to create it; null: CPU.</param>
    /// <returns>A new [T, T] boolean tensor.</returns>
    public static Tensor CausalMask(long length, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        return torch.ones([length, length], ScalarType.Bool, device).triu(1);
    }

    private static nn.Module<Tensor, Tensor> Act(Activation activation) => activation switch
    {
        Activation.Relu => nn.ReLU(),
        Activation.Tanh => nn.Tanh(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    // Children are registered by RegisterComponents under their component names: TorchSharp runs RegisterComponents again
    // when a parent registers the model, and a child registered by register_module alone would then be registered a
    // second time under its field name (and the per-example gradient hooks refuse a module reachable by two paths).
    private sealed class EmbeddingBagClassifier : nn.Module<Tensor, Tensor>
    {
        [ComponentName(Name = "embedding")]
        private readonly nn.Module _embedding;
        [ComponentName(Name = "output")]
        private readonly nn.Module<Tensor, Tensor> _output;

        public EmbeddingBagClassifier(long vocabularySize, long embeddingDimension, long classes, bool fused)
            : base(nameof(EmbeddingBagClassifier))
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
            ArgumentOutOfRangeException.ThrowIfLessThan(embeddingDimension, 1);
            ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
            _embedding = fused
                ? nn.EmbeddingBag(vocabularySize, embeddingDimension, mode: EmbeddingBagMode.Mean)
                : new DpEmbeddingBag(vocabularySize, embeddingDimension, EmbeddingBagMode.Mean);
            _output = nn.Linear(embeddingDimension, classes);
            RegisterComponents();
        }

        // [B, T] → the mean of each row's embeddings [B, E] → [B, classes].
        public override Tensor forward(Tensor input) => _output.call(_embedding switch
        {
            DpEmbeddingBag bag => bag.call(input),
            TorchSharp.Modules.EmbeddingBag fused => fused.call(input, null, null),
            _ => throw new InvalidOperationException("unreachable"),
        });
    }

    private sealed class SequenceClassifier : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _embedding;

        // The generic type that both the fused nn.TransformerEncoder and DpTransformerEncoder are, so that
        // ModuleValidator.Fix can put the one where the other was.
        private readonly nn.Module<Tensor, Tensor, Tensor, Tensor> _encoder;
        private readonly nn.Module<Tensor, Tensor> _output;

        public SequenceClassifier(long vocabularySize, long modelDimension, nn.Module<Tensor, Tensor, Tensor, Tensor> encoder, long classes)
            : base(nameof(SequenceClassifier))
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
            ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
            _embedding = nn.Embedding(vocabularySize, modelDimension);
            _encoder = encoder;
            _output = nn.Linear(modelDimension, classes);
            register_module("embedding", _embedding);
            register_module("encoder", _encoder);
            register_module("output", _output);
        }

        public override Tensor forward(Tensor input)
        {
            var embedded = _embedding.call(input).transpose(0, 1); // [B, T] → [T, B, d], the encoders' sequence-first layout
            var encoded = _encoder.call(embedded, null!, null!); // [T, B, d]
            return _output.call(encoded.mean([0L])); // mean over the T positions → [B, d] → [B, classes]
        }
    }

    private sealed class TransformerLanguageModel : nn.Module<Tensor, Tensor>
    {
        [ComponentName(Name = "embedding")]
        private readonly nn.Module<Tensor, Tensor> _embedding;
        [ComponentName(Name = "position")]
        private readonly nn.Module<Tensor, Tensor> _position;
        [ComponentName(Name = "encoder")]
        private readonly DpTransformerEncoder _encoder;
        [ComponentName(Name = "output")]
        private readonly nn.Module<Tensor, Tensor> _output;
        private readonly long _maxSequenceLength;

        public TransformerLanguageModel(long vocabularySize, long outputs, long modelDimension, long heads, long feedforward, long numLayers, long maxSequenceLength)
            : base(nameof(TransformerLanguageModel))
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
            (_embedding, _position, _encoder) = CausalBody(vocabularySize, modelDimension, heads, feedforward, numLayers, maxSequenceLength);
            _output = nn.Linear(modelDimension, outputs);
            _maxSequenceLength = maxSequenceLength;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            CheckInput(input, _maxSequenceLength);
            return _output.call(CausalEncode(_embedding.call(input), _position, _encoder)); // [B, T, outputs]
        }
    }

    private sealed class CausalTransformerClassifierModel : nn.Module<Tensor, Tensor>
    {
        [ComponentName(Name = "embedding")]
        private readonly nn.Module<Tensor, Tensor> _embedding;
        [ComponentName(Name = "position")]
        private readonly nn.Module<Tensor, Tensor> _position;
        [ComponentName(Name = "encoder")]
        private readonly DpTransformerEncoder _encoder;
        [ComponentName(Name = "output")]
        private readonly nn.Module<Tensor, Tensor> _output;
        private readonly long _maxSequenceLength;
        private readonly long _padId;

        public CausalTransformerClassifierModel(
            long vocabularySize, long modelDimension, long heads, long feedforward, long numLayers, long maxSequenceLength, long classes, long padId)
            : base(nameof(CausalTransformerClassifierModel))
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
            ArgumentOutOfRangeException.ThrowIfNegative(padId);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(padId, vocabularySize);
            (_embedding, _position, _encoder) = CausalBody(vocabularySize, modelDimension, heads, feedforward, numLayers, maxSequenceLength);
            _output = nn.Linear(2 * modelDimension, classes);
            _maxSequenceLength = maxSequenceLength;
            _padId = padId;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            CheckInput(input, _maxSequenceLength);
            var tokens = _embedding.call(input); // [B, T, d]
            var encoded = CausalEncode(tokens, _position, _encoder); // [B, T, d]
            // Means over the text's own positions: padding comes after the text and, the attention being causal, changes
            // none of them; it is left out. A text of padding only pools to zeros. The token embeddings' mean beside the
            // encoder's keeps every word's own vector within one linear map of the head (a bag of pretrained word vectors).
            var real = input.ne(_padId).unsqueeze(2).to_type(encoded.dtype); // [B, T, 1]
            var count = real.sum(1).clamp_min(1.0); // [B, 1]
            var pooled = torch.cat([(encoded * real).sum(1) / count, (tokens * real).sum(1) / count], 1); // [B, 2d]
            return _output.call(pooled);
        }
    }

    /// <summary>The body the causal language model and classifier share: token and position embeddings and the encoder (ReLU, dropout 0).</summary>
    private static (nn.Module<Tensor, Tensor> Embedding, nn.Module<Tensor, Tensor> Position, DpTransformerEncoder Encoder) CausalBody(
        long vocabularySize, long modelDimension, long heads, long feedforward, long numLayers, long maxSequenceLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSequenceLength, 1);
        return (
            nn.Embedding(vocabularySize, modelDimension),
            nn.Embedding(maxSequenceLength, modelDimension),
            new DpTransformerEncoder(new DpTransformerEncoderLayer(modelDimension, heads, feedforward, 0.0), numLayers));
    }

    private static void CheckInput(Tensor input, long maxSequenceLength)
    {
        if (input.dim() != 2 || input.shape[1] < 1 || input.shape[1] > maxSequenceLength)
        {
            throw new ArgumentException(
                $"The input must be [B, T] token ids with 1 ≤ T ≤ {maxSequenceLength}, got [{string.Join(", ", input.shape)}].", nameof(input));
        }
    }

    /// <summary>Token embeddings [B, T, d] + positions, then the encoder under a causal mask: → [B, T, d].</summary>
    private static Tensor CausalEncode(Tensor tokens, nn.Module<Tensor, Tensor> position, DpTransformerEncoder encoder)
    {
        var (b, t) = (tokens.shape[0], tokens.shape[1]);
        // Positions [B, T] (not [T]): the embedding's per-example gradient hook sees the examples on the first axis.
        var positions = torch.arange(t, ScalarType.Int64, tokens.device).unsqueeze(0).expand(b, t);
        var x = tokens + position.call(positions); // [B, T, d]
        var mask = CausalMask(t, tokens.device);
        return encoder.call(x.transpose(0, 1), mask, null!).transpose(0, 1); // the encoder is sequence-first
    }

    private sealed class CharLanguageModel : nn.Module<Tensor, Tensor>
    {
        [ComponentName(Name = "embedding")]
        private readonly nn.Module<Tensor, Tensor> _embedding;
        [ComponentName(Name = "lstm")]
        private readonly nn.Module _lstm;
        [ComponentName(Name = "output")]
        private readonly nn.Module<Tensor, Tensor> _output;

        public CharLanguageModel(long vocabularySize, long embeddingDimension, nn.Module lstm, long hiddenSize)
            : base(nameof(CharLanguageModel))
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 1);
            _embedding = nn.Embedding(vocabularySize, embeddingDimension);
            _lstm = lstm;
            _output = nn.Linear(hiddenSize, vocabularySize);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            var embedded = _embedding.call(input); // [B, T, E]
            var hidden = _lstm switch
            {
                nn.Module<Tensor, Tensor> layer => layer.call(embedded),
                nn.Module<Tensor, (Tensor, Tensor)?, (Tensor, Tensor, Tensor)> fused => fused.call(embedded, null).Item1,
                _ => throw new InvalidOperationException($"Unexpected recurrent layer {_lstm.GetType().Name}."),
            };
            return _output.call(hidden); // [B, T, V]
        }
    }
}
