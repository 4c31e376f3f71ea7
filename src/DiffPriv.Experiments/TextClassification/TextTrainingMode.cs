namespace DiffPriv.Experiments.TextClassification;

/// <summary>How a text classifier is trained (the settings of <c>diffpriv experiment text-classification</c>).</summary>
public enum TextTrainingMode
{
    /// <summary><c>non-private</c>: the pretrained model fine-tuned, all weights, ordinary training (ε = ∞).</summary>
    NonPrivate,

    /// <summary><c>dp-scratch</c>: the same model from random weights, all weights trained with DP-SGD.</summary>
    DpScratch,

    /// <summary><c>dp-full</c>: the pretrained model, all weights fine-tuned with DP-SGD.</summary>
    DpFull,

    /// <summary><c>dp-lora</c>: the pretrained model frozen; LoRA adapters on every encoder linear layer and the
    /// classification head trained with DP-SGD.</summary>
    DpLora,
}
